/**
 * `npm run check:size`: the size limits of the house style, on every source file (tests, the
 * benchmarks and load-test scripts excepted; generated code is not ours): no file over 400 lines and
 * no function over 80, counted from the line it starts on to the line it ends on. Prints each
 * offender with its place and length, and exits 1 when there is one. Biome's own rule does not
 * look at class methods, which is why this walks the TypeScript syntax tree itself.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import ts from "typescript";

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;
const EXEMPT = /^(tests|bench|load-tests|generated)\//;

const files = execFileSync("git", ["ls-files", "*.ts", "*.tsx", "*.mjs", "*.js"], { encoding: "utf8" })
  .split("\n")
  .filter((file) => file && !EXEMPT.test(file));

const offenders: string[] = [];
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  if (lines > MAX_FILE_LINES) offenders.push(`${file}: ${lines} lines (file limit ${MAX_FILE_LINES})`);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
      if (end - start + 1 > MAX_FUNCTION_LINES) {
        const name = node.name && ts.isIdentifier(node.name) ? node.name.text : "(anonymous)";
        offenders.push(`${file}:${start}: ${name} is ${end - start + 1} lines (function limit ${MAX_FUNCTION_LINES})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
for (const line of offenders) console.log(line);
console.log(`${files.length} source files checked: ${offenders.length} over the limits`);
process.exit(offenders.length ? 1 : 0);
