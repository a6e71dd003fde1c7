/**
 * Loads a k6 script in Node the way k6 would link it, with stand-ins for k6's modules, and prints
 * what it exports as JSON. Run with `node --experimental-vm-modules` (vm.SourceTextModule).
 *
 *   node --experimental-vm-modules tests/loadTests/k6Harness.mjs <script.js>
 *
 * The stand-ins record what a script needs at init time (metric names, options); they make no
 * requests. k6 evaluates every module in its own runtime, not Node's, so a script that imports a
 * Node or npm module, or one of k6's that does not exist, fails here just as it would in k6.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import vm from "node:vm";

/** The k6 modules the scripts may use, and the exports each stand-in offers. */
const metrics = [];
const metricClass = (type) =>
  class {
    constructor(name, isTime) {
      metrics.push({ type, name, isTime: !!isTime });
      this.name = name;
    }
    add() {}
  };
const unavailable = (what) => () => {
  throw new Error(`${what} is not available while inspecting a script`);
};
const http = {
  get: unavailable("http.get"),
  post: unavailable("http.post"),
  put: unavailable("http.put"),
  del: unavailable("http.del"),
  request: unavailable("http.request"),
  batch: unavailable("http.batch"),
  expectedStatuses: (...statuses) => ({ expectedStatuses: statuses }),
  setResponseCallback() {},
};
const K6_MODULES = {
  k6: { check: unavailable("check"), sleep: unavailable("sleep"), group: unavailable("group"), fail: unavailable("fail") },
  "k6/http": { default: http, ...http },
  "k6/ws": { default: { connect: unavailable("ws.connect") }, connect: unavailable("ws.connect") },
  "k6/metrics": { Counter: metricClass("counter"), Gauge: metricClass("gauge"), Rate: metricClass("rate"), Trend: metricClass("trend") },
  "k6/execution": { default: { vu: {}, scenario: {}, instance: {}, test: {} } },
  "k6/data": {
    // k6's SharedArray is an array built once by `make`; `new SharedArray(name, make)` answers that array.
    SharedArray: function SharedArray(_name, make) {
      return make();
    },
  },
  "k6/timers": { setTimeout: unavailable("setTimeout"), clearTimeout() {}, setInterval: unavailable("setInterval"), clearInterval() {} },
};
/** k6's own metrics, which thresholds may name without creating them. */
const BUILTIN_METRICS = [
  "checks",
  "data_received",
  "data_sent",
  "iteration_duration",
  "iterations",
  "dropped_iterations",
  "vus",
  "vus_max",
  "http_reqs",
  "http_req_blocked",
  "http_req_connecting",
  "http_req_duration",
  "http_req_failed",
  "http_req_receiving",
  "http_req_sending",
  "http_req_tls_handshaking",
  "http_req_waiting",
  "ws_connecting",
  "ws_msgs_received",
  "ws_msgs_sent",
  "ws_ping",
  "ws_session_duration",
  "ws_sessions",
];

const entry = path.resolve(process.argv[2]);
const context = vm.createContext({ __ENV: {}, console, Date, Math, JSON, Number, String, Object, Array, Error, Map, Set, Promise, encodeURIComponent });
const modules = new Map();
/** Every import seen: { from, specifier }. */
const imports = [];

function load(file) {
  if (modules.has(file)) return modules.get(file);
  const module = new vm.SourceTextModule(readFileSync(file, "utf8"), { identifier: file, context });
  modules.set(file, module);
  return module;
}

async function link(specifier, referencing) {
  imports.push({ from: path.relative(process.cwd(), referencing.identifier), specifier });
  if ((specifier === "k6" || specifier.startsWith("k6/")) && !Object.hasOwn(K6_MODULES, specifier)) {
    throw new Error(`${referencing.identifier} imports "${specifier}": add a stand-in for it to tests/loadTests/k6Harness.mjs if k6 has it`);
  }
  if (Object.hasOwn(K6_MODULES, specifier)) {
    const exports = K6_MODULES[specifier];
    return new vm.SyntheticModule(
      Object.keys(exports),
      function () {
        for (const [name, value] of Object.entries(exports)) this.setExport(name, value);
      },
      { identifier: specifier, context },
    );
  }
  if (specifier.startsWith("./") || specifier.startsWith("../")) return load(path.resolve(path.dirname(referencing.identifier), specifier));
  throw new Error(`${referencing.identifier} imports "${specifier}", which k6 cannot load (only k6's own modules and relative files)`);
}

const root = load(entry);
await root.link(link);
await root.evaluate();
const namespace = root.namespace;
process.stdout.write(
  JSON.stringify({
    imports,
    exports: Object.fromEntries(Object.keys(namespace).map((name) => [name, typeof namespace[name]])),
    options: namespace.options ?? null,
    metrics,
    builtinMetrics: BUILTIN_METRICS,
  }),
);
