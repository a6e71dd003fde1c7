/** Structured JSON logs (pino). Secrets are redacted at the logger so no call site can leak them. */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: "advisor-dispatch", pid: process.pid, ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ["authorization", "*.authorization", "headers.authorization", "token", "*.token", "password", "*.password", "jwtSecret", "*.jwtSecret"],
      censor: "[redacted]",
    },
  });
}
