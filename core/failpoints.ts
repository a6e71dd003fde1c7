/**
 * Test-only fault hooks: named places where a test makes the code fail the way a crash or an outage
 * would, to show that nothing is lost or left half-written. Inert unless a test arms one (a hook is
 * one Map lookup); production code never arms them.
 *
 *   engine.after-decision   the live store has decided; its journal entry is not yet written
 *                           (as if the process died there): the reconciler must repair the record
 *   persister.before-ack    a batch is committed but not acknowledged (a persister died mid-batch):
 *                           it is taken again and must change nothing the second time
 *   records.apply           the database refuses the batch (an outage): it must be retried
 */
export const FAILPOINTS = ["engine.after-decision", "persister.before-ack", "records.apply"] as const;
export type FailpointName = (typeof FAILPOINTS)[number];

interface Armed {
  /** How many more times it fires; Infinity until disarmed. */
  remaining: number;
  /** Fires only when this returns true (e.g. one in three calls). */
  when: () => boolean;
  message: string;
  /** A Node error code to carry (e.g. ECONNREFUSED), so the failure reads as that outage. */
  code?: string;
}

const armed = new Map<FailpointName, Armed>();

export class FailpointError extends Error {
  constructor(
    readonly failpoint: FailpointName,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "FailpointError";
  }
}

/** Throws when a test armed this failpoint; otherwise does nothing. */
export function failpoint(name: FailpointName): void {
  if (armed.size === 0) return;
  const hook = armed.get(name);
  if (!hook?.when()) return;
  if (--hook.remaining <= 0) armed.delete(name);
  throw new FailpointError(name, hook.message, hook.code);
}

export function armFailpoint(name: FailpointName, options: { times?: number; when?: () => boolean; message?: string; code?: string } = {}): void {
  armed.set(name, {
    remaining: options.times ?? Infinity,
    when: options.when ?? (() => true),
    message: options.message ?? `failpoint ${name}`,
    ...(options.code ? { code: options.code } : {}),
  });
}

export function disarmFailpoints(): void {
  armed.clear();
}
