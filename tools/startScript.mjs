/**
 * The node flags `npm start` gives the server: package.json's start script is
 * `node <flags> --import tsx app/main.ts`. Plain JavaScript, so that load-tests/scale-out.mjs (run by
 * node alone) and the TypeScript benchmarks and tests read them through the same code.
 */
import fs from "node:fs";
import path from "node:path";

const START_SCRIPT = /^node((?: --[^ ]+)*) --import tsx app\/main\.ts$/;

/** The flags of a start script, or null when it is not of that shape (an older checkout's, say). */
export function nodeFlagsOf(start) {
  const match = START_SCRIPT.exec(start);
  return match ? match[1].split(" ").filter((flag) => flag !== "") : null;
}

/** The start script of the package in `packageDir`. */
export function startScriptOf(packageDir) {
  return JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")).scripts.start;
}
