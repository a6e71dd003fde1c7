/** Types of startScript.mjs (plain JavaScript, shared with load-tests/scale-out.mjs). */
export function nodeFlagsOf(start: string): string[] | null;
export function startScriptOf(packageDir: string): string;
