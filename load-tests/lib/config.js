/**
 * Settings from environment variables (`k6 run -e NAME=value` or the shell environment) and the
 * run's identity. Plain ES module: k6 runs it in its own JS runtime, not in Node.
 */

/** A string setting; empty counts as unset, as in the server's own config. */
export function envString(name, fallback) {
  const value = __ENV[name];
  return value === undefined || value === "" ? fallback : value;
}

/** A number setting; a typo must stop the run, not silently turn into NaN or the default. */
export function envNumber(name, fallback, { min = -Infinity, max = Infinity, integer = false } = {}) {
  const raw = envString(name, undefined);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`${name}=${raw}: expected ${integer ? "an integer" : "a number"} in [${min}, ${max}]`);
  }
  return value;
}

export const envInt = (name, fallback, range = {}) => envNumber(name, fallback, { ...range, integer: true });

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s", "2h30m", "500ms" → milliseconds. The scripts need the number to size sessions and timers. */
export function durationMs(text) {
  const parts = String(text).match(/(\d+(?:\.\d+)?)(ms|s|m|h)/g);
  if (!parts || parts.join("") !== String(text)) throw new Error(`${text}: expected a duration such as 90s, 10m or 2h30m`);
  return parts.reduce((sum, part) => {
    const [, amount, unit] = part.match(/(\d+(?:\.\d+)?)(ms|s|m|h)/);
    return sum + Number(amount) * UNITS[unit];
  }, 0);
}

/** A duration setting, returned both as k6's string form (for options) and in milliseconds. */
export function envDuration(name, fallback) {
  const text = envString(name, fallback);
  return { text, ms: durationMs(text) };
}

/** k6's duration string for a number of milliseconds (options want strings like "125s"). */
export const seconds = (ms) => `${Math.ceil(ms / 1000)}s`;

const trimUrl = (url) => url.trim().replace(/\/+$/, "");

/**
 * The server processes under test. BASE_URLS (comma-separated) names several processes of one
 * deployment (one database, one Redis); without it, BASE_URL names the only one. Advisors and
 * clients are spread over the list by their index (see serverFor), so offers made on one process
 * reach sockets on the others, and grabs race across processes.
 */
export const BASE_URLS = (() => {
  const list = envString("BASE_URLS", undefined);
  if (list === undefined) return [trimUrl(envString("BASE_URL", "http://localhost:3000"))];
  const urls = list.split(",").map(trimUrl).filter(Boolean);
  for (const url of urls) if (!/^https?:\/\/[^/]+/.test(url)) throw new Error(`BASE_URLS: ${url} is not an http(s) URL`);
  if (!urls.length) throw new Error("BASE_URLS: expected one or more comma-separated URLs");
  return urls;
})();

/** The first server: setup, teardown and the soak's /metrics scrape talk to it. */
export const BASE_URL = BASE_URLS[0];

/** The socket URL of a server (`ws://…/v1/ws`). */
export const wsUrl = (baseUrl) => `${baseUrl.replace(/^http/, "ws")}/v1/ws`;
export const WS_URL = wsUrl(BASE_URL);

/** The server advisor or client number `index` talks to: the list taken in turn. */
export const serverFor = (index) => BASE_URLS[index % BASE_URLS.length];

/**
 * A per-run tag. The init context runs once per VU (and once for setup), so a value computed here
 * would differ between VUs; setup() creates it once and hands it to every VU in its data. RUN_ID
 * lets a user pin it (e.g. to find a run's rows in the database afterwards).
 */
export function newRunId() {
  const fromEnv = envString("RUN_ID", undefined);
  if (fromEnv !== undefined) {
    if (!/^[a-z0-9]{2,8}$/.test(fromEnv)) throw new Error(`RUN_ID=${fromEnv}: expected 2-8 lowercase letters or digits`);
    return fromEnv;
  }
  // Base 36 of the time plus randomness: 8 characters, unique enough for runs against one server.
  const time = (Date.now() % 36 ** 5).toString(36).padStart(5, "0");
  const random = Math.floor(Math.random() * 36 ** 3)
    .toString(36)
    .padStart(3, "0");
  return time + random;
}

/** A random integer in [min, max], for think and conversation times. */
export const randomBetween = (min, max) => min + Math.floor(Math.random() * (max - min + 1));
