/**
 * A process's CPU time so far, read from /proc (Linux): user plus system, in milliseconds. The
 * endToEnd suite divides its change over the measured phase by the flows completed, a figure that
 * moves far less with the machine's noise than flows/s, which depend on what else ran at the time.
 */
import { readFile } from "node:fs/promises";

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on every Linux Node runs on. */
const TICKS_PER_SECOND = 100;

/** null where /proc is missing (not Linux) or the process is gone. */
export async function cpuMs(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
