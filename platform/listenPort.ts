/**
 * The listening port is checked before anything else starts (opening the database, migrating,
 * seeding): a port another process holds is then one readable line, "port 3000 is in use on
 * 127.0.0.1", at once, instead of a stack trace after the migrations. The real listen can still
 * lose a race for the port; portInUseError turns that error into the same line.
 */
import net from "node:net";
import { StartupError } from "./backends.ts";

export function portInUseError(error: unknown, host: string, port: number): StartupError | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === "EADDRINUSE") return new StartupError(`port ${port} is in use on ${host}: stop the other process or set PORT`);
  if (code === "EACCES") return new StartupError(`port ${port} on ${host} needs privileges this process does not have: set PORT above 1023`);
  if (code === "EADDRNOTAVAIL") return new StartupError(`HOST ${host} is not an address of this machine`);
  return null;
}

/** Resolves when `port` on `host` can be listened on now (port 0 always can); a StartupError otherwise. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (error) => reject(portInUseError(error, host, port) ?? error));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
