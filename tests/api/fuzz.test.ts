/**
 * Input fuzzing over real HTTP against one in-process server on the embedded backends. Routes are
 * enumerated from GET /openapi.json, so a new route is fuzzed without touching this file. Each is
 * called with a valid token of a role it allows (found by probing), and with malformed input of
 * every kind: invalid JSON, wrong content types, non-object bodies, 100 KB strings and a body past
 * the size limit, missing / extra / wrongly typed fields, unicode and control characters,
 * prototype-pollution keys, garbage path parameters and query strings, odd headers; then a seeded
 * random phase mutates valid bodies until well over 2,000 requests have been sent.
 *
 * The contract: no response is a 5xx; every error has the shape {error:{code,message,requestId}}
 * with the status the code maps to; a 400 is always VALIDATION_FAILED. Text that storage would
 * change (a lone surrogate, bytes that are not UTF-8) is a 400 in every string field of every body,
 * and the audit chain (messages included) still verifies when the run ends.
 * Reproduce a random phase with FUZZ_SEED=<seed> (printed on failure).
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueToken, type Principal } from "../../api/auth/principal.ts";
import { STATUS_BY_CODE } from "../../api/errors.ts";
import { startServer, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { ERROR_CODES } from "../../core/errors.ts";
import { ID_PREFIXES, newId } from "../../core/ids.ts";
import { DEFAULT_DISPATCH_POLICY } from "../../matching/domain/policy.ts";

const SECRET = "fuzz-test-secret-0123456789abcdefghijklmnopq";
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);
const MIN_REQUESTS = 2_000;
const CONCURRENCY = 6;
const KB = 1024;
/** Fuzzed on an open conversation, as its client. */
const MESSAGES_OP = "POST /v1/requests/{id}/messages";

// ---- deterministic randomness ------------------------------------------------------------------------

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const chance = (p: number) => rand() < p;

// ---- the OpenAPI document ------------------------------------------------------------------------------

type Schema = Record<string, any>;
interface Param {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  schema: Schema;
}
interface Op {
  key: string;
  method: string;
  template: string;
  params: Param[];
  body?: Schema;
}

function resolve(doc: any, schema: Schema | undefined, seen = 0): Schema {
  if (!schema) return {};
  if (schema.$ref && seen < 20) {
    const name = String(schema.$ref).replace("#/components/schemas/", "");
    return resolve(doc, doc.components?.schemas?.[name], seen + 1);
  }
  return schema;
}

function operations(doc: any): Op[] {
  const ops: Op[] = [];
  for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const params: Param[] = (op.parameters ?? []).map((p: any) => ({ name: p.name, in: p.in, required: !!p.required, schema: resolve(doc, p.schema) }));
      const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
      ops.push({
        key: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        params,
        ...(bodySchema ? { body: resolve(doc, bodySchema) } : {}),
      });
    }
  }
  return ops;
}

/** Every field of a body schema, as paths into a value (array items as index 0). */
function fieldPaths(doc: any, schema: Schema, prefix: (string | number)[] = [], depth = 0): Array<{ path: (string | number)[]; schema: Schema }> {
  const s = resolve(doc, schema);
  if (depth > 6) return [];
  const out: Array<{ path: (string | number)[]; schema: Schema }> = [];
  const variants = s.anyOf ?? s.oneOf ?? s.allOf;
  if (variants) for (const v of variants) out.push(...fieldPaths(doc, v, prefix, depth + 1));
  if (s.type === "object" || s.properties) {
    for (const [name, sub] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
      out.push({ path: [...prefix, name], schema: resolve(doc, sub) });
      out.push(...fieldPaths(doc, sub, [...prefix, name], depth + 1));
    }
  }
  if (s.type === "array" && s.items) {
    out.push({ path: [...prefix, 0], schema: resolve(doc, s.items) });
    out.push(...fieldPaths(doc, s.items, [...prefix, 0], depth + 1));
  }
  return out;
}

/** A value that satisfies a schema, for routes without a known-good body below. */
function sample(doc: any, schema: Schema, depth = 0): unknown {
  const s = resolve(doc, schema);
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return sample(doc, variants[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== "null") : s.type;
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) if (depth < 6) out[name] = sample(doc, sub, depth + 1);
      return out;
    }
    case "array":
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => sample(doc, s.items ?? {}, depth + 1));
    case "integer":
      return s.minimum ?? 1;
    case "number":
      return s.minimum ?? 1;
    case "boolean":
      return true;
    case "string":
      if (s.format === "date-time") return "2099-01-01T00:00:00.000Z";
      return "x".repeat(Math.max(1, s.minLength ?? 1));
    default:
      return "x";
  }
}

// ---- value pools ---------------------------------------------------------------------------------------

const CONTROL_AND_UNICODE = [
  "\u0000",
  "a\u0000b",
  "\u0001\u0002\u0007\b\f\u001b",
  "\r\n\r\n",
  "\t",
  " ",
  "   padded   ",
  "\u202eevil\u202c",
  "\u200b\u200c\u200d\ufeff",
  "\ud800",
  "x\udfffy",
  "\uffff\ufffe",
  "😀".repeat(40),
  "e\u0301\u0301\u0301\u0301",
  "Ω≈ç√∫˜µ≤≥÷",
  "中文字符",
  "مرحبا",
  "<script>alert(1)</script>",
  "' OR '1'='1' --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as literal text
  "${jndi:ldap://x}",
  "{{7*7}}",
  "../../../../etc/passwd",
  "%00%0a",
  "\\u0000",
  "null",
  "undefined",
  "__proto__",
  "constructor",
];

const DATE_TIMES = [
  "0000-01-01T00:00:00Z",
  "0000-01-01T00:00:00+23:59",
  "0001-01-01T00:00:00Z",
  "1969-12-31T23:59:59.999Z",
  "1970-01-01T00:00:00Z",
  "2024-02-29T12:00:00Z",
  "2023-02-29T12:00:00Z",
  "2024-02-30T00:00:00Z",
  "2016-12-31T23:59:60Z",
  "2099-01-01T00:00:00+14:00",
  "2099-01-01T00:00:00-23:59",
  "9999-12-31T23:59:59.999Z",
  "9999-12-31T23:59:59-23:59",
  "2099-01-01",
  "2099-01-01T00:00:00",
  "2099-01-01 00:00:00Z",
  "+275760-09-13T00:00:00Z",
  "2099-13-01T00:00:00Z",
  "2099-01-01T25:00:00Z",
];

const WRONG_TYPES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0,
  1e308,
  -1e308,
  2 ** 31,
  2 ** 31 - 1,
  2 ** 53 + 1,
  "",
  "1",
  "true",
  [],
  [1],
  ["a"],
  {},
  { a: 1 },
  [[[[]]]],
];

const BIG_NUMBERS = [2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, 1e21, 5e-324];

function numberEdges(s: Schema): number[] {
  const out: number[] = [...BIG_NUMBERS];
  const min = s.minimum ?? s.exclusiveMinimum;
  const max = s.maximum ?? s.exclusiveMaximum;
  if (typeof min === "number") out.push(min - 1, min, min + 0.5, min - 0.5);
  if (typeof max === "number") out.push(max - 1, max, max + 1, max + 0.5);
  return out;
}

function stringEdges(s: Schema): string[] {
  const out = [...CONTROL_AND_UNICODE];
  if (s.format === "date-time" || /datetime|date-time/i.test(JSON.stringify(s))) out.push(...DATE_TIMES);
  if (typeof s.maxLength === "number")
    out.push("y".repeat(s.maxLength), "y".repeat(s.maxLength + 1), "😀".repeat(Math.ceil(s.maxLength / 2) + 1), "\u0000".repeat(s.maxLength));
  if (typeof s.minLength === "number" && s.minLength > 0) out.push("y".repeat(s.minLength - 1));
  if (s.enum)
    out.push(
      ...s.enum.map((e: unknown) => String(e).toUpperCase()),
      ...s.enum.map((e: unknown) => ` ${String(e)} `),
      ...s.enum.map((e: unknown) => `${String(e)}\u0000`),
    );
  if (s.pattern) {
    const prefix = /^\^?([a-z]{3})_/.exec(String(s.pattern))?.[1];
    if (prefix)
      out.push(
        `${prefix}_`,
        `${prefix}_ABC`,
        `${prefix}_a\u0000`,
        `${prefix}_${"a".repeat(200)}`,
        ...Object.values(ID_PREFIXES).map((p) => `${p}_01jd0000000000000000000000`),
      );
  }
  return out;
}

const HUGE = "h".repeat(100 * KB);

/** Strings holding a lone surrogate: JSON.stringify sends each as a \udXXX escape, which JSON.parse turns back into one. */
const LONE_SURROGATES = ["\ud800", "x\udc00y", "ok \ud83d", "\udfff tail", "\ude00\ud83d", "a\ud800\ud800b"];

/** Byte sequences that are not UTF-8: a stray continuation, a truncated pair, an overlong slash, an encoded surrogate (CESU-8), a 5-byte form, 0xFF. */
const INVALID_UTF8: number[][] = [[0x80], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xe2, 0x82]];
const UTF8_MARKER = "@@INVALID_UTF8@@";

/** The JSON text of `body` with `bytes` where the marker string was. */
function withBytes(body: unknown, bytes: number[]): Buffer {
  const [before, after] = JSON.stringify(body).split(UTF8_MARKER) as [string, string];
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
}

// ---- the JSON tree helpers -------------------------------------------------------------------------------

function clone<T>(v: T): T {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

/** Sets (or with `remove`, deletes) a path, creating containers on the way; returns the new root. */
function setPath(root: unknown, p: (string | number)[], value: unknown, remove = false): unknown {
  if (p.length === 0) return value;
  const base: any = root !== null && typeof root === "object" ? root : typeof p[0] === "number" ? [] : {};
  const [head, ...rest] = p as [string | number, ...(string | number)[]];
  if (rest.length === 0) {
    if (remove) {
      if (Array.isArray(base) && typeof head === "number") base.splice(head, 1);
      else delete base[head];
    } else {
      // defineProperty, so "__proto__" becomes an own, serialised key rather than a prototype.
      Object.defineProperty(base, head, { value, enumerable: true, writable: true, configurable: true });
    }
    return base;
  }
  base[head] = setPath(base[head], rest, value, remove);
  return base;
}

// ---- HTTP ------------------------------------------------------------------------------------------------

interface FuzzRequest {
  op: string;
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** A string body is sent as is; anything else as JSON. */
  body?: unknown;
  rawBody?: string | Buffer;
  /** Send the body chunked, without Content-Length. */
  chunked?: boolean;
  /** When set, the exact status expected (beyond the general contract). */
  expectStatus?: number;
  /** The caller's role, to show in reproductions. */
  role?: string;
}

interface Reply {
  status: number;
  text: string;
  json: any;
}

let agent: http.Agent;
let port = 0;

function send(req: FuzzRequest, token: string | undefined): Promise<Reply> {
  const payload = req.rawBody ?? (req.body === undefined ? undefined : JSON.stringify(req.body));
  const headers: Record<string, string | number> = {
    ...(payload !== undefined && !req.rawBody ? { "content-type": "application/json" } : {}),
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...req.headers,
  };
  if (payload !== undefined && !req.chunked) headers["content-length"] = Buffer.byteLength(payload);
  return new Promise<Reply>((resolvePromise, reject) => {
    let answered = false;
    const r = http.request({ host: "127.0.0.1", port, method: req.method, path: req.path, headers, agent }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: any;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolvePromise({ status: res.statusCode ?? 0, text, json });
      });
      res.on("error", reject);
    });
    r.setTimeout(30_000, () => r.destroy(new Error("timed out")));
    // The server may answer (413) and close before the whole body is written: that is not a failure.
    r.on("error", (error) => {
      if (!answered) reject(error);
    });
    if (payload !== undefined) {
      if (req.chunked) {
        const buf = Buffer.from(payload);
        for (let i = 0; i < buf.length; i += 16 * KB) r.write(buf.subarray(i, i + 16 * KB));
      } else r.write(payload);
    }
    r.end();
  });
}

// ---- the contract ----------------------------------------------------------------------------------------

interface Failure {
  op: string;
  label: string;
  problem: string;
  status: number;
  reproduction: string;
  body: string;
  cause?: string;
}

const failures: Failure[] = [];
const statusCounts = new Map<string, number>();
let sent = 0;
/** Server-side errors the logger captured, by request id. */
const logged = new Map<string, string>();
/** Errors the server logged outside any request (matching, jobs): reported, not asserted. */
const background: string[] = [];

function reproduction(req: FuzzRequest): string {
  const payload = req.rawBody ?? (req.body === undefined ? undefined : JSON.stringify(req.body));
  const shown =
    payload === undefined
      ? ""
      : ` body=${JSON.stringify(String(payload).length > 300 ? `${String(payload).slice(0, 300)}…(${String(payload).length} chars)` : String(payload))}`;
  const headers = req.headers
    ? ` headers=${JSON.stringify(Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, v.length > 80 ? `${v.slice(0, 80)}…(${v.length})` : v])))}`
    : "";
  return `${req.method} ${req.path.length > 200 ? `${req.path.slice(0, 200)}…(${req.path.length})` : req.path} as ${req.role ?? "?"}${req.chunked ? " (chunked)" : ""}${headers}${shown}`;
}

function check(req: FuzzRequest, res: Reply): void {
  sent++;
  statusCounts.set(`${req.op} ${res.status}`, (statusCounts.get(`${req.op} ${res.status}`) ?? 0) + 1);
  const fail = (problem: string) => {
    const rid = res.json?.error?.requestId;
    failures.push({
      op: req.op,
      label: req.label,
      problem,
      status: res.status,
      reproduction: reproduction(req),
      body: res.text.slice(0, 300),
      ...(rid && logged.has(rid) ? { cause: logged.get(rid) } : {}),
    });
  };
  if (res.status >= 500) fail(`status ${res.status}`);
  if (req.expectStatus !== undefined && res.status !== req.expectStatus) fail(`expected ${req.expectStatus}, got ${res.status}`);
  if (res.status >= 400 && req.method !== "HEAD") {
    const e = res.json?.error;
    const keys = res.json && typeof res.json === "object" ? Object.keys(res.json) : [];
    if (!e || typeof e.code !== "string" || typeof e.message !== "string" || typeof e.requestId !== "string" || keys.length !== 1) {
      fail("error body is not {error:{code,message,requestId}}");
    } else {
      if (!(ERROR_CODES as readonly string[]).includes(e.code)) fail(`unknown error code ${e.code}`);
      else if (STATUS_BY_CODE[e.code as keyof typeof STATUS_BY_CODE] !== res.status) fail(`code ${e.code} with status ${res.status}`);
      if (res.status === 400 && e.code !== "VALIDATION_FAILED") fail(`400 with code ${e.code}`);
      if (e.requestId.length === 0) fail("empty requestId");
    }
  }
}

/** Sends every request and returns the failures among them. */
async function runAll(requests: FuzzRequest[], tokenOf: (req: FuzzRequest) => string | undefined): Promise<Failure[]> {
  const before = failures.length;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= requests.length) return;
      const req = requests[i]!;
      try {
        // A pooled keep-alive socket can be closed by the server just as the client reuses it; that
        // race is the client's transport, not the server's answer, so a transport error gets one retry.
        const res = await send(req, tokenOf(req)).catch(() => send(req, tokenOf(req)));
        check(req, res);
      } catch (error) {
        sent++;
        failures.push({
          op: req.op,
          label: req.label,
          problem: `transport error: ${(error as Error).message}`,
          status: 0,
          reproduction: reproduction(req),
          body: "",
        });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return failures.slice(before);
}

function summary(list: Failure[]): string {
  const byKind = new Map<string, Failure[]>();
  for (const f of list) {
    const k = `${f.op} — ${f.problem}`;
    byKind.set(k, [...(byKind.get(k) ?? []), f]);
  }
  const lines = [`seed ${SEED}: ${list.length} failing requests (${sent} sent so far), ${byKind.size} kinds`];
  for (const [k, fs_] of byKind) {
    lines.push(`\n• ${k} (${fs_.length}×): ${[...new Set(fs_.map((f) => f.label))].join(" | ").slice(0, 1500)}`);
    for (const f of fs_.slice(0, 2))
      lines.push(`    [${f.label}] ${f.reproduction}\n      → ${f.status} ${f.body}${f.cause ? `\n      server log: ${f.cause}` : ""}`);
  }
  return lines.join("\n");
}

// ---- the suite -------------------------------------------------------------------------------------------

describe("input fuzzing of every documented route (embedded backends)", () => {
  let server: RunningServer;
  let dataDir: string;
  let doc: any;
  let ops: Op[] = [];
  const tokens = new Map<string, string>();
  /** The role each operation is fuzzed with (the first allowed role found by probing). */
  const roleOf = new Map<string, string>();
  /** Real ids by prefix, so path parameters reach the handlers' lookups. */
  const ids: Record<string, string> = {};
  let branchId = "";
  let advisorId = "";
  let conversationId = "";
  let licenceSeq = 0;

  const tokenOf = (req: FuzzRequest) => (req.role === "none" ? undefined : tokens.get(req.role ?? roleOf.get(req.op) ?? "admin"));

  /** A body the route accepts, so single mutations of it test exactly one thing. */
  function validBody(op: Op): unknown {
    switch (op.key) {
      case "POST /v1/dev/token":
        return { sub: "fuzz_user", role: "compliance" };
      case "POST /v1/requests":
        return { topic: "fuzzed topic", requiredLicence: "fund_sales", channel: "chat", mode: "auto", language: "en", priority: 1 };
      case "POST /v1/requests/{id}/rating":
        return { stars: 4, comment: "fine" };
      case "PUT /v1/advisors/me/presence":
        return { status: "available" };
      case "POST /v1/branches":
        return { name: "Fuzz branch", region: "fuzz", timezone: "Europe/London" };
      case "POST /v1/advisors":
        return {
          branchId,
          name: "Fuzz Advisor",
          languages: ["en", "zh-Hant"],
          maxConcurrent: 5,
          suitabilityMaxRisk: 3,
          licences: [
            {
              kind: "fund_sales",
              number: `FZ-${SEED}-${licenceSeq++}`,
              validUntil: "2099-01-01T00:00:00.000Z",
              validFrom: "2020-01-01T00:00:00Z",
              issuer: "FCA",
            },
          ],
        };
      case "POST /v1/clients":
        return { branchId, name: "Fuzz Client", riskLevel: 2, language: "en", dedicatedAdvisorId: advisorId };
      case "PUT /v1/branches/{id}/dispatch-policy":
        // No expectedVersion: an unconditional write, so valid bodies reach the database (the field is still fuzzed).
        return clone(DEFAULT_DISPATCH_POLICY);
      default:
        return op.body ? sample(doc, op.body) : undefined;
    }
  }

  /** The id a path parameter names, from its pattern (`^req_…`). */
  function idFor(param: Param): string {
    const prefix = /\^?([a-z]{3})_/.exec(String(param.schema.pattern ?? ""))?.[1];
    return (prefix && ids[prefix]) || (prefix ? `${prefix}_01jd0000000000000000000000` : "x");
  }

  function fill(op: Op, overrides: Record<string, string> = {}): string {
    if (op.key === MESSAGES_OP) overrides = { id: conversationId, ...overrides };
    return op.template.replace(
      /\{(\w+)\}/g,
      (_m, name: string) => overrides[name] ?? encodeURIComponent(idFor(op.params.find((p) => p.name === name && p.in === "path")!)),
    );
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-fuzz-"));
    // Errors the server logs are kept (not printed) so a 5xx can be reported with its cause.
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n")) {
          if (!line) continue;
          try {
            const entry = JSON.parse(line);
            // Prisma messages carry a code frame; the last line says what the database refused.
            const message = String(entry.err?.message ?? entry.err?.type ?? "")
              .trim()
              .split("\n")
              .filter(Boolean);
            const text = `${entry.msg}: ${(message.find((l) => /Database error|Error:|Code:/.test(l)) ?? message.at(-1) ?? "").slice(0, 300)}${message.length > 1 ? ` (at ${message.find((l) => /invocation in/.test(l))?.trim() ?? "?"} ${message.find((l) => /^\S+\.ts:\d+/.test(l.trim()))?.trim() ?? ""})` : ""}`;
            if (entry.requestId && entry.err) logged.set(entry.requestId, text);
            else if (entry.level >= 50) background.push(text);
          } catch {
            // not JSON
          }
        }
        done();
      },
    });
    server = await startServer(
      loadConfig({
        DATA_DIR: dataDir,
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "silent",
        DEV_AUTH: "true",
        SEED_DEMO: "false",
        JWT_SECRET: SECRET,
        // The fuzzer is one principal per role sending thousands of requests: rate limits are not under test here.
        RATE_LIMIT_REQUESTS_PER_MINUTE: "1000000",
        RATE_LIMIT_ACCEPTS_PER_MINUTE: "1000000",
      }),
      pino({ level: "warn" }, sink),
    );
    port = server.port;
    agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

    // A small world, through the API: a branch, an available advisor, a client whose request is offered to them.
    const as = async (principal: Principal) => issueToken(principal, SECRET);
    tokens.set("admin", await as({ sub: "admin_fuzz", role: "admin" }));
    const call = async (role: string, method: string, p: string, body?: unknown) => {
      const res = await send({ op: "setup", label: "setup", method, path: p, body }, tokens.get(role));
      if (res.status >= 300) throw new Error(`setup ${method} ${p}: ${res.status} ${res.text}`);
      return res.json;
    };
    branchId = (await call("admin", "POST", "/v1/branches", { name: "Fuzz", region: "fuzz-region" })).id;
    advisorId = (
      await call("admin", "POST", "/v1/advisors", {
        branchId,
        name: "Ada",
        languages: ["en"],
        maxConcurrent: 100,
        suitabilityMaxRisk: 5,
        licences: [{ kind: "fund_sales", number: `FZ-${SEED}-base`, validUntil: "2099-01-01T00:00:00.000Z" }],
      })
    ).id;
    const clientId = (await call("admin", "POST", "/v1/clients", { branchId, name: "Cy", riskLevel: 2, language: "en", dedicatedAdvisorId: advisorId })).id;
    tokens.set("manager", await as({ sub: "manager_fuzz", role: "manager", branchId }));
    tokens.set("advisor", await as({ sub: advisorId, role: "advisor", branchId }));
    tokens.set("client", await as({ sub: clientId, role: "client" }));
    tokens.set("compliance", await as({ sub: "compliance_fuzz", role: "compliance" }));
    await call("advisor", "PUT", "/v1/advisors/me/presence", { status: "available" });
    // An accepted request whose conversation the message route is fuzzed on (as its client), so
    // fuzzed messages are really stored and chained, and the audit check at the end covers them.
    conversationId = (await call("client", "POST", "/v1/requests", { topic: "fuzz conversation", requiredLicence: "fund_sales", channel: "chat" })).id;
    let conversationOffer: { offerId: string } | undefined;
    for (const deadline = Date.now() + 5_000; !conversationOffer && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      conversationOffer = ((await call("advisor", "GET", "/v1/advisors/me/offers")) as Array<{ offerId: string; requestId: string }>).find(
        (o) => o.requestId === conversationId,
      );
    }
    if (!conversationOffer) throw new Error("setup: no offer for the conversation within 5 s");
    await call("advisor", "POST", `/v1/offers/${conversationOffer.offerId}/accept`);
    const requestId = (await call("client", "POST", "/v1/requests", { topic: "fuzz", requiredLicence: "fund_sales", channel: "chat" })).id;
    const offers = await call("advisor", "GET", "/v1/advisors/me/offers");
    Object.assign(ids, { brn: branchId, adv: advisorId, cli: clientId, req: requestId, off: offers[0]?.offerId ?? newId("offer") });

    tokens.set("compliance_verify", await as({ sub: "compliance_verify", role: "compliance" }));
    doc = (await send({ op: "setup", label: "setup", method: "GET", path: "/openapi.json" }, undefined)).json;
    ops = operations(doc);

    // The role each route is fuzzed with: the first that is not refused (401/403) on a well-formed call.
    // Path ids are well formed but unknown (except the branch), so a probe can touch no existing request or
    // offer; probes of create routes create one valid record, which is harmless.
    for (const op of ops) {
      for (const role of ["admin", "manager", "advisor", "client", "compliance"]) {
        const p = op.template.replace(/\{(\w+)\}/g, (_m, name: string) => {
          const param = op.params.find((x) => x.name === name && x.in === "path");
          const prefix = /\^?([a-z]{3})_/.exec(String(param?.schema.pattern ?? ""))?.[1] ?? "x";
          return prefix === "brn" ? branchId : `${prefix}_01jd0000000000000000000000`;
        });
        const res = await send({ op: op.key, label: "probe", method: op.method, path: p, body: op.body ? validBody(op) : undefined }, tokens.get(role));
        if (res.status !== 401 && res.status !== 403) {
          roleOf.set(op.key, role);
          break;
        }
      }
    }
    roleOf.set(MESSAGES_OP, "client");
  });

  afterAll(async () => {
    agent?.destroy();
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("finds the routes in the document and an allowed role for each", () => {
    const keys = ops.map((o) => o.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "POST /v1/requests",
        "GET /v1/requests/{id}",
        "POST /v1/offers/{id}/accept",
        "PUT /v1/branches/{id}/dispatch-policy",
        "GET /metrics",
      ]),
    );
    expect(
      ops.filter((o) => !roleOf.has(o.key)).map((o) => o.key),
      "routes that refused every role",
    ).toEqual([]);
  });

  it("text storage would change: a lone surrogate or invalid UTF-8 in any string field of any body is a 400", async () => {
    // The conversation is open: a well-formed message goes in (so the run's chain holds fuzzed messages).
    const welcome = await send(
      {
        op: MESSAGES_OP,
        label: "welcome",
        method: "POST",
        path: `/v1/requests/${conversationId}/messages`,
        body: { body: "héllo 😀 مرحبا \u202e" },
        role: "client",
      },
      tokens.get("client"),
    );
    expect(welcome.status, welcome.text).toBe(201);
    const requests: FuzzRequest[] = [];
    for (const op of ops) {
      if (!op.body) continue;
      const base = { op: op.key, method: op.method, path: fill(op), role: roleOf.get(op.key) };
      for (const f of fieldPaths(doc, op.body)) {
        const type = Array.isArray(f.schema.type) ? f.schema.type : [f.schema.type];
        if (!(type.includes("string") || f.schema.enum || f.schema.type === undefined)) continue;
        const at = f.path.join(".");
        for (const v of LONE_SURROGATES)
          requests.push({ ...base, label: `lone surrogate in ${at}: ${JSON.stringify(v)}`, body: setPath(clone(validBody(op)), f.path, v), expectStatus: 400 });
        for (const bytes of INVALID_UTF8) {
          const body = setPath(clone(validBody(op)), f.path, `a${UTF8_MARKER}b`);
          requests.push({
            ...base,
            label: `invalid UTF-8 ${bytes.map((b) => b.toString(16)).join(" ")} in ${at}`,
            rawBody: withBytes(body, bytes),
            headers: { "content-type": "application/json" },
            expectStatus: 400,
          });
        }
      }
    }
    const failed = await runAll(requests, tokenOf);
    expect(requests.length).toBeGreaterThan(200);
    expect(failed.length, summary(failed)).toBe(0);
  });

  it("bodies: invalid JSON, wrong content types, non-objects, size limits, missing/extra/wrong fields, unicode, prototype keys", async () => {
    const requests: FuzzRequest[] = [];
    for (const op of ops) {
      const role = roleOf.get(op.key);
      const base = { op: op.key, method: op.method, path: fill(op), role };
      const hasBody = !!op.body;
      const valid = validBody(op);
      const validText = JSON.stringify(valid ?? {});

      // Invalid JSON (bodiless routes get it too: it must be ignored or refused, never crash).
      const broken = [
        "{",
        "}",
        "{,}",
        '{"a":1,}',
        "{'a':1}",
        "[1,2",
        "nul",
        "tru",
        '"unterminated',
        "\u0000",
        "{\u0000}",
        '{"a":1}{"b":2}',
        "",
        "   ",
        "\ufeff{}",
        "NaN",
        "-",
        '{"a":1e999999}',
        '{"a":"\\ud800"}',
        '{"a":"\\x41"}',
        '{"a":01}',
        '{"a":\n\n',
        `${"[".repeat(5000)}${"]".repeat(5000)}`,
        `${'{"a":'.repeat(3000)}1${"}".repeat(3000)}`,
      ];
      for (const text of hasBody ? broken : broken.slice(0, 4))
        requests.push({ ...base, label: "invalid json", rawBody: text, headers: { "content-type": "application/json" } });

      if (hasBody) {
        // Wrong or odd content types around a valid body.
        for (const ct of [
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=xyz",
          "application/xml",
          "application/json; charset=utf-16",
          "APPLICATION/JSON",
          "application/json-patch+json",
          "application/vnd.api+json",
          "*/*",
          "application/json, text/plain",
          ";;;",
          "application/",
          "x".repeat(2000),
        ]) {
          requests.push({ ...base, label: `content-type ${ct.slice(0, 40)}`, rawBody: validText, headers: { "content-type": ct } });
        }
        requests.push({ ...base, label: "no content-type", rawBody: validText, headers: {} });
        requests.push({ ...base, label: "form body", rawBody: "a=1&b=2&__proto__[x]=1", headers: { "content-type": "application/x-www-form-urlencoded" } });
        requests.push({
          ...base,
          label: "multipart body",
          rawBody: `--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--\r\n`,
          headers: { "content-type": "multipart/form-data; boundary=xyz" },
        });
        requests.push({
          ...base,
          label: "utf-16 body",
          rawBody: Buffer.from(`\ufeff${validText}`, "utf16le"),
          headers: { "content-type": "application/json" },
        });
        requests.push({
          ...base,
          label: "invalid utf-8",
          rawBody: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]),
          headers: { "content-type": "application/json" },
        });
        requests.push({
          ...base,
          label: "gzip label on a plain body",
          rawBody: validText,
          headers: { "content-type": "application/json", "content-encoding": "gzip" },
        });

        // Bodies that are not objects.
        for (const v of [[], [valid], "string", 123, -1, 0, 1.5, null, true, false, {}, [[]], { 0: 1 }])
          requests.push({ ...base, label: `non-object ${JSON.stringify(v).slice(0, 30)}`, body: v });

        // Size: a 100 KB string in every string field, a 100 KB extra field, and a body over the limit (413).
        for (const f of fieldPaths(doc, op.body!)) {
          if (f.schema.type === "string" || f.schema.enum)
            requests.push({ ...base, label: `100KB in ${f.path.join(".")}`, body: setPath(clone(validBody(op)), f.path, HUGE) });
        }
        requests.push({ ...base, label: "100KB extra field", body: { ...(valid as object), padding: HUGE } });
        requests.push({ ...base, label: "250KB body under the limit", body: { ...(valid as object), padding: "p".repeat(250 * KB) } });
        requests.push({ ...base, label: "310KB body", body: { ...(valid as object), padding: "p".repeat(310 * KB) }, expectStatus: 413 });
        requests.push({
          ...base,
          label: "310KB body sent chunked (no Content-Length)",
          body: { ...(valid as object), padding: "p".repeat(310 * KB) },
          chunked: true,
          expectStatus: 413,
        });
        requests.push({
          ...base,
          label: "310KB array body",
          rawBody: JSON.stringify(Array.from({ length: 40 * KB }, () => 12345678)),
          headers: { "content-type": "application/json" },
          expectStatus: 413,
        });

        // Missing fields, one at a time and all at once; extra fields at every level.
        requests.push({ ...base, label: "empty object", body: {} });
        for (const f of fieldPaths(doc, op.body!)) {
          requests.push({ ...base, label: `missing ${f.path.join(".")}`, body: setPath(clone(validBody(op)), f.path, undefined, true) });
          requests.push({
            ...base,
            label: `extra beside ${f.path.join(".")}`,
            body: setPath(clone(validBody(op)), [...f.path.slice(0, -1), "unexpectedField"], "surprise"),
          });
        }

        // Prototype pollution keys, top level and inside every object field.
        const proto = (target: (string | number)[]) => [
          setPath(clone(validBody(op)), [...target, "__proto__"], { admin: true, role: "admin", polluted: true }),
          setPath(clone(validBody(op)), [...target, "constructor"], { prototype: { polluted: true } }),
          setPath(clone(validBody(op)), [...target, "prototype"], { polluted: true }),
          setPath(clone(validBody(op)), [...target, "__proto__"], null),
          setPath(clone(validBody(op)), [...target, "hasOwnProperty"], "no"),
          setPath(clone(validBody(op)), [...target, "toString"], 1),
        ];
        requests.push(...proto([]).map((body) => ({ ...base, label: "prototype keys at top", body })));
        for (const f of fieldPaths(doc, op.body!)) {
          if (f.schema.type === "object" || f.schema.properties)
            requests.push(...proto(f.path).map((body) => ({ ...base, label: `prototype keys in ${f.path.join(".")}`, body })));
        }
        requests.push({
          ...base,
          label: "__proto__ replaces the body",
          rawBody: `{"__proto__":${validText}}`,
          headers: { "content-type": "application/json" },
        });
        requests.push({
          ...base,
          label: "duplicate keys",
          rawBody: validText.replace(/^\{/, `{"__proto__":{"x":1},"constructor":{"prototype":{"x":1}},`),
          headers: { "content-type": "application/json" },
        });

        // Wrong types, unicode/control strings and numeric edges for every field.
        for (const f of fieldPaths(doc, op.body!)) {
          const values: unknown[] = [...WRONG_TYPES];
          const type = Array.isArray(f.schema.type) ? f.schema.type : [f.schema.type];
          if (type.includes("string") || f.schema.enum || f.schema.type === undefined) values.push(...stringEdges(f.schema));
          if (type.includes("integer") || type.includes("number")) values.push(...numberEdges(f.schema));
          for (const v of values)
            requests.push({ ...base, label: `${f.path.join(".")} = ${JSON.stringify(v)?.slice(0, 40)}`, body: setPath(clone(validBody(op)), f.path, v) });
        }
      } else {
        // Bodiless routes with a body anyway.
        requests.push({ ...base, label: "unexpected JSON body", body: { a: 1, __proto__x: 2 } });
        requests.push({ ...base, label: "unexpected array body", body: [1, 2, 3] });
        // A GET never reads a body, so it is ignored; other methods refuse it unread.
        requests.push({
          ...base,
          label: "310KB on a bodiless route",
          body: { padding: "p".repeat(310 * KB) },
          ...(base.method === "GET" ? {} : { expectStatus: 413 }),
        });
      }
    }
    const failed = await runAll(requests, tokenOf);
    expect(requests.length).toBeGreaterThan(500);
    expect(failed.length, summary(failed)).toBe(0);
  });

  it("paths, queries, headers and methods", async () => {
    const requests: FuzzRequest[] = [];
    const garbage = [
      "%20",
      "%00",
      "%ZZ",
      "%",
      "%%",
      "%E0%A4%A",
      "%C0%AF",
      "%ff%fe",
      "%2e%2e",
      "..",
      ".",
      "null",
      "undefined",
      "0",
      "-1",
      "%2F",
      "a%2Fb",
      "%E2%80%AE",
      encodeURIComponent("😀"),
      encodeURIComponent("\u0000\u0001"),
      "x".repeat(2000),
      "x".repeat(8000),
      "%25",
      "%u0041",
      "'%20OR%201=1--",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as literal text
      "${x}",
      "[]",
      "{}",
      ";x=1",
      "__proto__",
      "constructor",
    ];
    for (const op of ops) {
      const role = roleOf.get(op.key);
      const base = { op: op.key, method: op.method, role, ...(op.body ? { body: validBody(op) } : {}) };
      for (const param of op.params.filter((p) => p.in === "path")) {
        const prefix = /\^?([a-z]{3})_/.exec(String(param.schema.pattern ?? ""))?.[1] ?? "";
        const values = [
          ...garbage,
          `${prefix}_`,
          prefix,
          `${prefix}__`,
          `${prefix}_${"a".repeat(57)}`,
          `${prefix}_${"a".repeat(58)}`,
          `${prefix}_${"a".repeat(1000)}`,
          `${prefix}_${"a".repeat(10_000)}`,
          `${prefix.toUpperCase()}_01JD0000000000000000000000`,
          `${prefix}_01jd00000000000000000000%00`,
          `${prefix}_01jd%2F..%2F..`,
          `${prefix}_01jd%0a`,
          `${prefix}_${encodeURIComponent("ü")}`,
          `${prefix}-01jd`,
          ` ${prefix}_01jd`,
          `${prefix}_01jd0000000000000000000000`,
          ...Object.values(ID_PREFIXES).map((p) => `${p}_01jd0000000000000000000000`),
          ...Object.values(ids),
        ];
        for (const v of values)
          requests.push({ ...base, label: `path ${param.name}=${v.slice(0, 40)}`, path: fill(op, { [param.name]: v.replace(/ /g, "%20") }) });
        requests.push({ ...base, label: "empty path param", path: fill(op, { [param.name]: "" }) });
      }
      for (const param of op.params.filter((p) => p.in === "query")) {
        for (const v of [
          "",
          "abc",
          "-1",
          "0",
          "1",
          "500",
          "501",
          "1e3",
          "1.5",
          "0x10",
          "NaN",
          "Infinity",
          "%20%205",
          "%00",
          "99999999999999999999",
          "1%00",
          "[1]",
          "true",
          "x".repeat(5000),
        ]) {
          requests.push({ ...base, label: `query ${param.name}=${v.slice(0, 20)}`, path: `${fill(op)}?${param.name}=${v}` });
        }
        requests.push({ ...base, label: "repeated query", path: `${fill(op)}?${param.name}=1&${param.name}=2` });
        requests.push({ ...base, label: "bracket query", path: `${fill(op)}?${param.name}[]=1&${param.name}[x]=2` });
        requests.push({ ...base, label: "unknown query", path: `${fill(op)}?__proto__[x]=1&constructor=1&other=${"q".repeat(3000)}` });
      }
      // Odd headers on every route (the Idempotency-Key matters on POST /v1/requests, and must not break others).
      const headerSets: Array<[string, Record<string, string>]> = [
        ["idempotency-key with spaces", { "idempotency-key": "has spaces in it" }],
        ["idempotency-key 10KB", { "idempotency-key": "k".repeat(10 * KB) }],
        ["idempotency-key empty", { "idempotency-key": "" }],
        ["idempotency-key tab", { "idempotency-key": "a\tb" }],
        ["idempotency-key latin1", { "idempotency-key": "clé-é" }],
        ["idempotency-key 128", { "idempotency-key": "k".repeat(128) }],
        ["idempotency-key 129", { "idempotency-key": "k".repeat(129) }],
        ["idempotency-key json", { "idempotency-key": '{"__proto__":1}' }],
        ["x-request-id 10KB", { "x-request-id": "r".repeat(10 * KB) }],
        ["x-request-id odd", { "x-request-id": "../../<>\"'" }],
        ["accept xml", { accept: "application/xml" }],
        ["accept garbage", { accept: ";;;,,,*/*;q=abc" }],
        ["method override", { "x-http-method-override": "DELETE" }],
        ["forwarded", { "x-forwarded-for": `1.1.1.1, ${"2.2.2.2, ".repeat(300)}`, forwarded: "for=x;proto=gopher" }],
        ["cookie", { cookie: "a=b; ".repeat(500) }],
        ["expect", { expect: "100-continue" }],
      ];
      for (const [label, headers] of headerSets) requests.push({ ...base, label, path: fill(op), headers });
      if (op.key === "POST /v1/requests") {
        // One key, two bodies: an idempotency conflict, never a 5xx.
        for (let i = 0; i < 3; i++)
          requests.push({
            ...base,
            label: "idempotent replay",
            path: fill(op),
            headers: { "idempotency-key": `fuzz-replay-${SEED}` },
            body: { ...(validBody(op) as object), topic: `t${i % 2}` },
          });
      }
      // Wrong methods on the path.
      for (const m of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].filter((m) => m !== op.method))
        requests.push({ op: op.key, role, label: `method ${m}`, method: m, path: fill(op) });
      // Authorization header oddities with the right token.
      const token = tokens.get(role ?? "admin")!;
      for (const [label, authorization] of [
        ["lower-case scheme", `bearer ${token}`],
        ["extra spaces", `Bearer    ${token}`],
        ["trailing space", `Bearer ${token} `],
        ["token twice", `Bearer ${token},Bearer ${token}`],
        ["10KB token", `Bearer ${token}${"A".repeat(10 * KB)}`],
      ] as const) {
        requests.push({ ...base, label: `authorization ${label}`, path: fill(op), headers: { authorization } });
      }
    }
    const failed = await runAll(requests, tokenOf);
    expect(requests.length).toBeGreaterThan(500);
    expect(failed.length, summary(failed)).toBe(0);
  });

  it("tokens with odd subjects minted by the dev endpoint do not crash the routes that use the subject", async () => {
    const requests: FuzzRequest[] = [];
    const subjects = ["\u0000", "a\u0000b", "😀", "\ud800", "x".repeat(128), " ", "%00", "__proto__", "constructor", "adv_\u0000"];
    for (const sub of subjects) {
      for (const [role, branch] of [
        ["advisor", branchId],
        ["client", undefined],
        ["manager", branchId],
      ] as const) {
        const minted = await send(
          { op: "POST /v1/dev/token", label: "mint", method: "POST", path: "/v1/dev/token", body: { sub, role, ...(branch ? { branchId: branch } : {}) } },
          undefined,
        );
        check({ op: "POST /v1/dev/token", label: `mint ${role} ${JSON.stringify(sub)}`, method: "POST", path: "/v1/dev/token", body: { sub, role } }, minted);
        if (minted.status !== 200) continue;
        const label = `${role} sub=${JSON.stringify(sub).slice(0, 20)}`;
        tokens.set(label, minted.json.token);
        const reqs: Array<[string, string, unknown?]> =
          role === "advisor"
            ? [
                ["PUT", "/v1/advisors/me/presence", { status: "available" }],
                ["GET", "/v1/advisors/me/offers"],
                ["POST", `/v1/offers/${ids.off}/accept`],
                ["POST", `/v1/offers/${ids.off}/decline`],
                ["POST", `/v1/requests/${ids.req}/complete`],
                ["GET", `/v1/requests/${ids.req}`],
                ["GET", `/v1/advisors/${ids.adv}`],
              ]
            : role === "client"
              ? [
                  ["POST", "/v1/requests", { topic: "t", requiredLicence: "fund_sales", channel: "chat" }],
                  ["GET", `/v1/requests/${ids.req}`],
                  ["POST", `/v1/requests/${ids.req}/cancel`],
                  ["POST", `/v1/requests/${ids.req}/rating`, { stars: 3 }],
                  ["GET", `/v1/clients/${ids.cli}`],
                ]
              : [
                  ["PUT", `/v1/branches/${branchId}/dispatch-policy`, { ...clone(DEFAULT_DISPATCH_POLICY) }],
                  ["GET", `/v1/branches/${branchId}/queue`],
                ];
        for (const [method, p, body] of reqs)
          requests.push({
            op: `${method} ${p.replace(/(req|off|adv|cli|brn)_[0-9a-z]+/g, "{id}")}`,
            label,
            method,
            path: p,
            role: label,
            ...(body === undefined ? {} : { body }),
          });
      }
    }
    const failed = await runAll(requests, tokenOf);
    expect(failed.length, summary(failed)).toBe(0);
  });

  it(`seeded random mutations until at least ${MIN_REQUESTS} requests in total (seed ${SEED})`, async () => {
    const requests: FuzzRequest[] = [];
    const bodyOps = ops.filter((o) => o.body);
    const target = Math.max(600, MIN_REQUESTS - sent + 400);
    const anyValue = (): unknown =>
      pick<() => unknown>([
        () => pick(WRONG_TYPES),
        () => pick(CONTROL_AND_UNICODE),
        () => pick(DATE_TIMES),
        () => pick(BIG_NUMBERS),
        () => Math.floor(rand() * 20) - 5,
        () => "z".repeat(Math.floor(rand() * 300)),
        () => Array.from({ length: Math.floor(rand() * 5) }, () => pick(CONTROL_AND_UNICODE)),
        () => ({ [pick(["__proto__", "constructor", "x", "status", "role"])]: pick(WRONG_TYPES) }),
      ])();
    for (let i = 0; i < target; i++) {
      const op = chance(0.85) && bodyOps.length ? pick(bodyOps) : pick(ops);
      let body: unknown = op.body ? validBody(op) : undefined;
      const fields = op.body ? fieldPaths(doc, op.body) : [];
      const mutations = 1 + Math.floor(rand() * 4);
      const did: string[] = [];
      for (let m = 0; m < mutations; m++) {
        const kind = fields.length ? pick(["set", "set", "set", "delete", "extra", "proto", "dup-array"]) : "extra";
        const f = fields.length ? pick(fields) : { path: ["x"], schema: {} };
        if (kind === "set") {
          const v =
            chance(0.5) && (f.schema.type === "string" || f.schema.enum)
              ? pick(stringEdges(f.schema))
              : chance(0.4) && (f.schema.type === "integer" || f.schema.type === "number")
                ? pick(numberEdges(f.schema))
                : anyValue();
          body = setPath(body, f.path, v);
          did.push(`${f.path.join(".")}=${JSON.stringify(v)?.slice(0, 30)}`);
        } else if (kind === "delete") {
          body = setPath(body, f.path, undefined, true);
          did.push(`-${f.path.join(".")}`);
        } else if (kind === "extra") {
          body = setPath(body, [...f.path.slice(0, -1), pick(["extra", "__proto__", "constructor", "0", ""])], anyValue());
          did.push(`+extra near ${f.path.join(".")}`);
        } else if (kind === "proto") {
          body = setPath(body, [...f.path.slice(0, -1), "__proto__"], { polluted: true, isAdmin: true });
          did.push(`__proto__ near ${f.path.join(".")}`);
        } else {
          const arr = fields.find((x) => x.schema.type === "array");
          if (arr) {
            body = setPath(
              body,
              arr.path,
              Array.from({ length: Math.floor(rand() * 30) }, () => (chance(0.5) ? anyValue() : sample(doc, arr.schema.items ?? {}))),
            );
            did.push(`${arr.path.join(".")}=[…]`);
          }
        }
      }
      const encoded = (v: unknown) => {
        try {
          return encodeURIComponent(String(v)).slice(0, 100) || "x";
        } catch {
          return "%ED%A0%80"; // a lone surrogate, as a path would carry it
        }
      };
      const path = chance(0.1) ? fill(op, Object.fromEntries(op.params.filter((p) => p.in === "path").map((p) => [p.name, encoded(anyValue())]))) : fill(op);
      const headers = chance(0.1) ? { "idempotency-key": pick(["ok-key", "bad key", "k".repeat(200), "é"]) } : undefined;
      requests.push({
        op: op.key,
        label: `random #${i}: ${did.join("; ")}`,
        method: op.method,
        path,
        role: roleOf.get(op.key),
        ...(body === undefined ? {} : { body }),
        ...(headers ? { headers } : {}),
      });
    }
    const failed = await runAll(requests, tokenOf);
    expect(sent).toBeGreaterThanOrEqual(MIN_REQUESTS);
    expect(failed.length, summary(failed)).toBe(0);
  });

  // ---- the bugs this fuzzer found, one precise test each ------------------------------------------------

  describe("regressions found by fuzzing (each fails until its bug is fixed)", () => {
    /** A fresh branch with an available advisor and a client whose dedicated advisor they are. */
    async function smallWorld() {
      const admin = tokens.get("admin");
      const post = async (p: string, body: unknown, token = admin) => {
        const res = await send({ op: "setup", label: "setup", method: "POST", path: p, body }, token);
        if (res.status >= 300) throw new Error(`setup ${p}: ${res.status} ${res.text}`);
        return res.json;
      };
      const branch = (await post("/v1/branches", { name: "Regression", region: `reg-${licenceSeq++}` })).id as string;
      const advisor = (
        await post("/v1/advisors", {
          branchId: branch,
          name: "Reg Advisor",
          languages: ["en"],
          maxConcurrent: 50,
          suitabilityMaxRisk: 5,
          licences: [{ kind: "fund_sales", number: `REG-${SEED}-${licenceSeq++}`, validUntil: "2099-01-01T00:00:00.000Z" }],
        })
      ).id as string;
      const client = (await post("/v1/clients", { branchId: branch, name: "Reg Client", riskLevel: 1, language: "en", dedicatedAdvisorId: advisor }))
        .id as string;
      const advisorToken = await issueToken({ sub: advisor, role: "advisor", branchId: branch }, SECRET);
      const clientToken = await issueToken({ sub: client, role: "client" }, SECRET);
      await send({ op: "setup", label: "setup", method: "PUT", path: "/v1/advisors/me/presence", body: { status: "available" } }, advisorToken);
      /** A request of this client, accepted and completed by the advisor: ready to be rated. */
      const completedRequest = async () => {
        const id = (await post("/v1/requests", { topic: "to rate", requiredLicence: "fund_sales", channel: "chat" }, clientToken)).id as string;
        // The offer may be made a moment after create returns (the sweeper can hold the request's
        // deadline lease when create's own funnel pass looks), so wait for it.
        let offer: { offerId: string; requestId: string } | undefined;
        let offers: Array<{ offerId: string; requestId: string }> = [];
        for (const deadline = Date.now() + 5_000; !offer && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
          offers = (await send({ op: "setup", label: "setup", method: "GET", path: "/v1/advisors/me/offers" }, advisorToken)).json as Array<{
            offerId: string;
            requestId: string;
          }>;
          offer = offers.find((o) => o.requestId === id);
        }
        if (!offer) throw new Error("setup: no offer within 5 s");
        // Requests the fuzzing left waiting in the (national) queue are offered to this new, free
        // advisor too, and their push holds can fill its capacity: decline them so the accept fits.
        for (const other of offers.filter((o) => o.requestId !== id))
          await send({ op: "setup", label: "setup", method: "POST", path: `/v1/offers/${other.offerId}/decline` }, advisorToken);
        await post(`/v1/offers/${offer.offerId}/accept`, undefined, advisorToken);
        await post(`/v1/requests/${id}/complete`, undefined, advisorToken);
        return id;
      };
      return { branch, advisor, client, clientToken, advisorToken, completedRequest };
    }

    const statusOf = async (method: string, p: string, body: unknown, token: string | undefined) => {
      const res = await send({ op: "regression", label: "regression", method, path: p, body }, token);
      return `${res.status} ${res.json?.error?.code ?? ""}`.trim();
    };

    it("regression: a NUL character (U+0000) in any free-text field is a 400 VALIDATION_FAILED, not a 500", async () => {
      const w = await smallWorld();
      const admin = tokens.get("admin");
      const licence = (extra: object) => ({ kind: "fund_sales", number: `NUL-${SEED}-${licenceSeq++}`, validUntil: "2099-01-01T00:00:00.000Z", ...extra });
      const advisorBody = (extra: object, licenceExtra: object = {}) => ({
        branchId: w.branch,
        name: "N",
        languages: ["en"],
        maxConcurrent: 1,
        suitabilityMaxRisk: 1,
        licences: [licence(licenceExtra)],
        ...extra,
      });
      const seen: Record<string, string> = {};
      for (const nul of ["\u0000", "a\u0000b"]) {
        const show = JSON.stringify(nul);
        seen[`POST /v1/requests topic=${show}`] = await statusOf(
          "POST",
          "/v1/requests",
          { topic: nul, requiredLicence: "fund_sales", channel: "chat" },
          w.clientToken,
        );
        seen[`POST /v1/requests language=${show}`] = await statusOf(
          "POST",
          "/v1/requests",
          { topic: "t", requiredLicence: "fund_sales", channel: "chat", language: `e${nul}n` },
          w.clientToken,
        );
        seen[`POST /v1/branches name=${show}`] = await statusOf("POST", "/v1/branches", { name: nul, region: "r" }, admin);
        seen[`POST /v1/branches region=${show}`] = await statusOf("POST", "/v1/branches", { name: "n", region: nul }, admin);
        seen[`POST /v1/advisors name=${show}`] = await statusOf("POST", "/v1/advisors", advisorBody({ name: nul }), admin);
        seen[`POST /v1/advisors licences.0.number=${show}`] = await statusOf(
          "POST",
          "/v1/advisors",
          advisorBody({}, { number: `L${nul}${licenceSeq++}` }),
          admin,
        );
        seen[`POST /v1/advisors licences.0.issuer=${show}`] = await statusOf("POST", "/v1/advisors", advisorBody({}, { issuer: nul }), admin);
        seen[`POST /v1/clients name=${show}`] = await statusOf("POST", "/v1/clients", { branchId: w.branch, name: nul, riskLevel: 1, language: "en" }, admin);
        seen[`POST /v1/requests/{id}/rating comment=${show}`] = await statusOf(
          "POST",
          `/v1/requests/${await w.completedRequest()}/rating`,
          { stars: 4, comment: nul },
          w.clientToken,
        );
      }
      const crashed = Object.entries(seen).filter(([, status]) => Number(status.slice(0, 3)) >= 500);
      expect(
        crashed,
        `NUL in free text must be refused with 400 VALIDATION_FAILED; these answered 5xx:\n${crashed.map(([k, v]) => `  ${k} → ${v}`).join("\n")}`,
      ).toEqual([]);
    });

    it("regression: POST /v1/advisors with a licence validFrom in year 0000 is a 400, not a 500", async () => {
      const admin = tokens.get("admin");
      const results: string[] = [];
      for (const validFrom of ["0000-01-01T00:00:00Z", "0000-01-01T00:00:00+23:59"]) {
        const status = await statusOf(
          "POST",
          "/v1/advisors",
          {
            branchId,
            name: "Y0",
            languages: ["en"],
            maxConcurrent: 1,
            suitabilityMaxRisk: 1,
            licences: [{ kind: "fund_sales", number: `Y0-${SEED}-${licenceSeq++}`, validFrom, validUntil: "2099-01-01T00:00:00Z" }],
          },
          admin,
        );
        results.push(`validFrom=${validFrom} → ${status}`);
      }
      expect(
        results.filter((r) => / → 5\d\d/.test(r)),
        results.join("\n"),
      ).toEqual([]);
    });

    it("regression: PUT dispatch-policy with expectedVersion 2147483647 is refused, not a 500", async () => {
      const status = await statusOf(
        "PUT",
        `/v1/branches/${branchId}/dispatch-policy`,
        { ...clone(DEFAULT_DISPATCH_POLICY), expectedVersion: 2_147_483_647 },
        tokens.get("admin"),
      );
      expect(status, "expected 409 CONFLICT (stale version) or 400").toMatch(/^(409|400) /);
    });

    it("a body over the 256 KB limit sent chunked (no Content-Length) is refused unread: 413, or the connection is closed mid-upload", async () => {
      const results: string[] = [];
      for (const [p, token, body] of [
        ["/v1/dev/token", undefined, { sub: "big", role: "compliance", padding: "p".repeat(1024 * KB) }],
        ["/v1/branches", tokens.get("admin"), { name: "big", region: "big", padding: "p".repeat(1024 * KB) }],
      ] as const) {
        let outcome: string;
        try {
          const res = await send({ op: "regression", label: "chunked", method: "POST", path: p, body, chunked: true }, token);
          outcome = `${res.status} ${res.json?.error?.code ?? ""}`;
        } catch (error) {
          // The server answers 413 before the client has finished sending and closes the socket;
          // a client still writing sees the reset. Either way the body was never parsed.
          outcome = `closed (${(error as Error).message})`;
        }
        results.push(`POST ${p} with a 1 MB chunked body → ${outcome}`);
      }
      expect(
        results.filter((r) => !/ → (413 PAYLOAD_TOO_LARGE|closed)/.test(r)),
        results.join("\n"),
      ).toEqual([]);
    });

    it("regression: a token subject containing U+0000 is refused, never a 500", async () => {
      const results: string[] = [];
      const advisor = await issueToken({ sub: "adv_\u0000", role: "advisor", branchId }, SECRET);
      const client = await issueToken({ sub: "cli_\u0000", role: "client" }, SECRET);
      const manager = await issueToken({ sub: "mgr\u0000", role: "manager", branchId }, SECRET);
      results.push(`PUT /v1/advisors/me/presence as advisor → ${await statusOf("PUT", "/v1/advisors/me/presence", { status: "available" }, advisor)}`);
      results.push(`GET /v1/advisors/me/offers as advisor → ${await statusOf("GET", "/v1/advisors/me/offers", undefined, advisor)}`);
      results.push(
        `POST /v1/requests as client → ${await statusOf("POST", "/v1/requests", { topic: "t", requiredLicence: "fund_sales", channel: "chat" }, client)}`,
      );
      results.push(
        `PUT /v1/branches/{id}/dispatch-policy as manager → ${await statusOf("PUT", `/v1/branches/${branchId}/dispatch-policy`, clone(DEFAULT_DISPATCH_POLICY), manager)}`,
      );
      expect(
        results.filter((r) => / → 5\d\d/.test(r)),
        results.join("\n"),
      ).toEqual([]);
    });
  });

  it("leaves the process unpolluted and the server ready", async () => {
    // The server runs in this process, so a prototype polluted through a body would show here.
    for (const key of ["polluted", "isAdmin", "admin", "role", "x"]) expect(({} as Record<string, unknown>)[key], `Object.prototype.${key}`).toBeUndefined();
    const ready = await send({ op: "GET /readyz", label: "final readiness", method: "GET", path: "/readyz" }, undefined);
    expect(ready.status).toBe(200);
  });

  it("leaves the audit record intact: every chain, messages included, verifies", async () => {
    const stored = await send(
      { op: "setup", label: "messages", method: "GET", path: `/v1/requests/${conversationId}/messages` },
      tokens.get("compliance_verify"),
    );
    expect(stored.json.messages.length, "fuzzed messages were stored").toBeGreaterThan(1);
    const verify = await send(
      { op: "GET /v1/audit/verify", label: "final audit check", method: "GET", path: "/v1/audit/verify" },
      tokens.get("compliance_verify"),
    );
    expect(verify.status).toBe(200);
    expect(verify.json.ok, JSON.stringify(verify.json).slice(0, 1000)).toBe(true);
  });

  it("reports how the requests were answered", () => {
    const perOp = new Map<string, string[]>();
    for (const [k, n] of statusCounts) {
      const status = k.slice(k.lastIndexOf(" ") + 1);
      const op = k.slice(0, k.lastIndexOf(" "));
      perOp.set(op, [...(perOp.get(op) ?? []), `${status}×${n}`]);
    }
    console.log(
      `fuzz: ${sent} requests, seed ${SEED}, ${failures.length} failures\n${[...perOp].map(([op, s]) => `  ${op} (${roleOf.get(op) ?? "-"}): ${s.join(" ")}`).join("\n")}`,
    );
    if (background.length) console.log(`server errors outside requests (${background.length}):\n  ${[...new Set(background)].slice(0, 10).join("\n  ")}`);
    expect(sent).toBeGreaterThanOrEqual(MIN_REQUESTS);
  });
});
