/**
 * Load shedding for request creation. Past the sustainable rate a server that admits every create
 * only gets slower for everyone: creations queue for database connections and the event loop, and
 * accepts and completes, which free capacity, wait behind them. So each process runs at most
 * `max` creations at once; the next one answers 503 UNAVAILABLE with Retry-After at once (nothing
 * was written: a create retried with its Idempotency-Key is safe), while every other call goes on.
 * At the sustained rate a create takes tens of milliseconds, so a handful are in flight; the bound
 * only bites when they pile up. Reports take places of their own (api/routes/reporting.ts) for the
 * same reason: a KPI query holds two database connections for up to a second.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../core/errors.ts";

export interface Admission {
  /** Takes a place, or answers false when all `max` are taken. */
  tryEnter(): boolean;
  leave(): void;
  readonly inFlight: number;
  /** Creations refused since start. */
  readonly shed: number;
}

export function createAdmission(max: number): Admission {
  let inFlight = 0;
  let shed = 0;
  return {
    tryEnter() {
      if (inFlight >= max) {
        shed++;
        return false;
      }
      inFlight++;
      return true;
    },
    leave() {
      inFlight = Math.max(0, inFlight - 1);
    },
    get inFlight() {
      return inFlight;
    },
    get shed() {
      return shed;
    },
  };
}

/** Middleware: runs the handler inside a place of `admission`, or answers 503 with Retry-After. */
export function admitted(admission: Admission, busyMessage = "too many requests are being created right now; retry shortly"): MiddlewareHandler {
  return async (_c, next) => {
    if (!admission.tryEnter()) throw new AppError("UNAVAILABLE", busyMessage);
    try {
      await next();
    } finally {
      admission.leave();
    }
  };
}
