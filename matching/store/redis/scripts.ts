/**
 * The Lua scripts (matching/lua/, one file per atomic operation) and how they run.
 *
 * Assembly: a script's `--@include <lib>` lines are replaced by matching/lua/lib/<lib>.lua, so every
 * loaded script is self-contained. The code numbers have one source, CODES (codes.ts): each `C.NAME`
 * becomes its number, and `--@include codes` defines `C[name]` for the few lookups by a name known
 * only when the script runs (an eligibility reason), as a table built on first use. Building the
 * whole table on every call cost about 1.3 us, and a grab's losers run little else.
 *
 * Running: on first use per client every script is loaded once (SCRIPT LOAD), then each call is an
 * EVALSHA. After SCRIPT FLUSH, a Redis restart or a failover to a node that never saw the load,
 * EVALSHA answers NOSCRIPT: that call falls back to EVAL with the source, and the next call loads
 * every script again, so EVALSHA hits from then on.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { RedisClient } from "../../../platform/redis.ts";
import { ACTION_SCRIPTS, CODES, FENCED_SCRIPTS, SCRIPT_NAMES, type ScriptName } from "./codes.ts";
import { assertOneSlot } from "./keys.ts";

const LUA_DIR = new URL("../../lua/", import.meta.url);

export interface Script {
  readonly name: ScriptName;
  readonly source: string;
  readonly sha: string;
}

function codesLua(): string {
  const entries = Object.entries(CODES).map(([name, code]) => `${name} = ${code}`);
  return [
    "-- generated from matching/store/redis/codes.ts (a code by its name is written as its number; a name known only at run time goes through code_of)",
    "local CODES_BY_NAME",
    `local function code_of(name) CODES_BY_NAME = CODES_BY_NAME or { ${entries.join(", ")} } return CODES_BY_NAME[name] end`,
    "",
  ].join("\n");
}

/** `C.NAME` as its number, `C[expression]` as a code_of call (see the header). */
function inlineCodes(name: string, text: string): string {
  return text
    .replace(/\bC\.([A-Z_]+)\b/g, (_, code: string) => {
      const value = (CODES as Record<string, number>)[code];
      if (value === undefined) throw new Error(`lua/${name}.lua: unknown code C.${code}`);
      return String(value);
    })
    .replace(/\bC\[([^\]]+)\]/g, "code_of($1)");
}

function assemble(name: string, seen: Set<string> = new Set()): string {
  const text = readFileSync(new URL(`${name}.lua`, LUA_DIR), "utf8");
  return text.replace(/^--@include ([a-z]+)[ \t]*$/gm, (_, lib: string) => {
    if (seen.has(lib)) return `-- (${lib} already included)`;
    seen.add(lib);
    if (lib === "codes") return codesLua();
    return `-- ---- lib/${lib}.lua ----\n${readFileSync(new URL(`lib/${lib}.lua`, LUA_DIR), "utf8")}`;
  });
}

let built: Record<ScriptName, Script> | undefined;

/** Every script, assembled and hashed once per process. */
export function scripts(): Record<ScriptName, Script> {
  if (!built) {
    const all = {} as Record<ScriptName, Script>;
    for (const name of SCRIPT_NAMES) {
      const source = inlineCodes(name, assemble(name));
      all[name] = { name, source, sha: createHash("sha1").update(source).digest("hex") };
    }
    built = all;
  }
  return built;
}

const loads = new WeakMap<RedisClient, Promise<void>>();

/** SCRIPT LOAD of every script, once per client (retried on the next call if it failed). */
function ensureLoaded(client: RedisClient): Promise<void> {
  let loading = loads.get(client);
  if (!loading) {
    loading = Promise.all(
      Object.values(scripts()).map(async (script) => {
        const sha = await client.scriptLoad(script.source);
        if (sha !== script.sha) throw new Error(`redis matching store: SCRIPT LOAD of ${script.name} gave ${sha}, expected ${script.sha}`);
      }),
    ).then(() => undefined);
    loading.catch(() => loads.delete(client));
    loads.set(client, loading);
  }
  return loading;
}

const isNoScript = (error: unknown): boolean => error instanceof Error && error.message.startsWith("NOSCRIPT");

/**
 * Runs one script by SHA, falling back to EVAL on NOSCRIPT. A script touches one entity: its keys
 * share one hash tag, except a fenced script's last key, the generation (see keys.ts), and the
 * action scripts (codes.ts, ACTION_SCRIPTS), which decide across entities.
 */
export async function runScript(client: RedisClient, name: ScriptName, keys: string[], args: string[]): Promise<unknown> {
  if (!ACTION_SCRIPTS.has(name)) assertOneSlot(name, FENCED_SCRIPTS.has(name) ? keys.slice(0, -1) : keys);
  const script = scripts()[name];
  await ensureLoaded(client);
  try {
    return await client.evalSha(script.sha, { keys, arguments: args });
  } catch (error) {
    if (!isNoScript(error)) throw error;
    // The script cache was emptied (SCRIPT FLUSH, restart, failover): load everything again on the
    // next call, and run this one from source.
    loads.delete(client);
    return await client.eval(script.source, { keys, arguments: args });
  }
}
