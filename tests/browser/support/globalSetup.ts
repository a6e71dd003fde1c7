/** Once per browser run: the console the tests load is built from the sources as they are now. */
import { ensureWebBuild } from "../../../tools/ensureWebBuild.ts";

export default async function setup(): Promise<void> {
  const state = await ensureWebBuild({ ifStale: true });
  if (state !== "fresh") console.log(`[browser] console ${state}: built web/dist`);
}
