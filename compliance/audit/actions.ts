/**
 * Recorded actions: the changes people make outside the matching engine (directory edits, policy
 * changes, offboarding, licence changes, admin actions) go into the same event log as the engine's
 * events, written in the transaction that makes the change, so the change and its record commit or
 * fail together. The audit chainer then chains them like any other event (stream per request, else
 * per branch, else global), with `data.actor` as the entry's actor.
 */
import type { Prisma } from "../../generated/prisma/client.ts";
import { newId } from "../../core/ids.ts";

type Tx = Prisma.TransactionClient;

export interface RecordedAction {
  /** Dotted past tense, e.g. "advisor.offboarded", "licence.suspended", "policy.changed". */
  type: string;
  /** Who did it: the principal's subject (e.g. "adm_1", "mgr_x"), or "system" for jobs. */
  actor: string;
  at: Date;
  branchId?: string | null;
  advisorId?: string | null;
  requestId?: string | null;
  /** What changed: enough to answer "who did what to whom, from what to what". */
  data: Record<string, unknown>;
}

/** Appends one action to the event log inside the caller's transaction. */
export async function recordAction(tx: Tx, action: RecordedAction): Promise<void> {
  await recordActions(tx, [action]);
}

/** Appends several actions, in order, inside the caller's transaction. */
export async function recordActions(tx: Tx, actions: RecordedAction[]): Promise<void> {
  if (!actions.length) return;
  await tx.eventLog.createMany({
    data: actions.map((action) => ({
      id: newId("auditEvent"),
      type: action.type,
      at: action.at,
      branchId: action.branchId ?? null,
      advisorId: action.advisorId ?? null,
      requestId: action.requestId ?? null,
      data: { ...action.data, actor: action.actor } as Prisma.InputJsonValue,
    })),
  });
}
