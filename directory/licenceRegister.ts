/**
 * The licence register: admins suspend, revoke, reinstate and re-date licences, one at a time or
 * from a CSV file. Only the system of record is written here; making a change effective in the live
 * matching state (re-sync, withdraw offers) is the caller's next step, after commit.
 *
 * Every change locks its licence row and records an audit action in the same transaction, so two
 * admins changing one licence at once are serialized and each recorded "from" is what was really
 * replaced. A revoked licence is final: the regulator issues a new number rather than reviving one.
 */
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import { recordAction, recordActions, type RecordedAction } from "../compliance/audit/actions.ts";
import type { LicenceKind, LicenceStatus } from "../matching/domain/types.ts";
import type { LicenceRecord } from "./advisors.ts";

type Tx = Prisma.TransactionClient;

export const LICENCE_STATUSES = ["active", "suspended", "revoked"] as const satisfies readonly LicenceStatus[];

const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 60_000 } as const;

export type ChangeSource = "api" | "import";

export interface LicenceKey {
  kind: LicenceKind;
  number: string;
}

export interface LicenceChange extends LicenceKey {
  status?: LicenceStatus;
  validUntil?: Date;
}

/** A licence as the register shows it: the directory's view of it, plus whose it is. */
export interface RegisteredLicence extends LicenceRecord {
  advisorId: string;
}

/** Why a change is refused: the licence is revoked, or validUntil would not be after validFrom. */
export type ChangeRefusal = "INVALID_STATE" | "INVALID_VALIDITY";

export type ChangeLicenceResult =
  | { ok: true; licence: RegisteredLicence; duplicate: boolean }
  | { ok: false; reason: "NOT_FOUND" }
  | { ok: false; reason: ChangeRefusal };

export interface ImportRow extends LicenceKey {
  line: number;
  status: LicenceStatus;
  /** Absent when the file leaves it empty: the stored validity stays. */
  validUntil?: Date;
}

export type ImportLicencesResult =
  | { ok: true; changed: number; unchanged: number; unmatched: Array<{ line: number } & LicenceKey>; changedAdvisorIds: string[] }
  | { ok: false; reason: "ROWS_REFUSED"; refused: Array<{ line: number; reason: ChangeRefusal } & LicenceKey> };

/** A licence row as locked, with what the audit record needs. */
interface LockedLicence extends RegisteredLicence {
  branchId: string;
}

type Plan = { kind: "refused"; reason: ChangeRefusal } | { kind: "unchanged" } | { kind: "changed"; type: string; status: LicenceStatus; validUntil: Date };

const ACTION_BY_STATUS: Record<LicenceStatus, string> = { suspended: "licence.suspended", revoked: "licence.revoked", active: "licence.reinstated" };

/** What a requested change means for the licence as it stands. Pure. */
function planChange(current: RegisteredLicence, change: Pick<LicenceChange, "status" | "validUntil">): Plan {
  const status = change.status ?? current.status;
  const validUntil = change.validUntil ?? current.validUntil;
  const sameValidity = validUntil.getTime() === current.validUntil.getTime();
  if (status === current.status && sameValidity) return { kind: "unchanged" };
  if (current.status === "revoked") return { kind: "refused", reason: "INVALID_STATE" };
  if (!sameValidity && validUntil.getTime() <= current.validFrom.getTime()) return { kind: "refused", reason: "INVALID_VALIDITY" };
  return { kind: "changed", type: status === current.status ? "licence.validity_changed" : ACTION_BY_STATUS[status], status, validUntil };
}

/**
 * Locks the licences named by `keys` (those that exist) in id order, so concurrent imports touching
 * the same licences always lock in the same order and cannot deadlock each other.
 */
async function lockLicences(tx: Tx, keys: readonly LicenceKey[]): Promise<LockedLicence[]> {
  if (!keys.length) return [];
  const wanted = Prisma.join(keys.map((k) => Prisma.sql`(${k.kind}::"LicenceKind", ${k.number})`));
  return tx.$queryRaw<LockedLicence[]>`
    SELECT l."id", l."advisorId", a."branchId", l."kind"::text AS "kind", l."number", l."issuer", l."validFrom", l."validUntil",
           l."verifiedAt", l."status"::text AS "status"
    FROM "Licence" l
    JOIN "Advisor" a ON a."id" = l."advisorId"
    WHERE (l."kind", l."number") IN (${wanted})
    ORDER BY l."id"
    FOR UPDATE OF l`;
}

const REGISTERED_FIELDS = {
  id: true,
  advisorId: true,
  kind: true,
  number: true,
  issuer: true,
  validFrom: true,
  validUntil: true,
  verifiedAt: true,
  status: true,
} as const;

const keyOf = (k: LicenceKey) => `${k.kind}\u0000${k.number}`;
const validityOf = (l: { status: LicenceStatus; validUntil: Date }) => ({ status: l.status, validUntil: l.validUntil.toISOString() });

interface ChangeContext {
  actor: string;
  now: Date;
  reason: string | null;
  source: ChangeSource;
}

async function applyPlan(tx: Tx, current: LockedLicence, plan: Extract<Plan, { kind: "changed" }>): Promise<RegisteredLicence> {
  const updated = await tx.licence.update({ where: { id: current.id }, data: { status: plan.status, validUntil: plan.validUntil }, select: REGISTERED_FIELDS });
  return { ...updated, kind: updated.kind as LicenceKind, status: updated.status as LicenceStatus };
}

function auditOf(current: LockedLicence, plan: Extract<Plan, { kind: "changed" }>, context: ChangeContext): RecordedAction {
  return {
    type: plan.type,
    actor: context.actor,
    at: context.now,
    branchId: current.branchId,
    advisorId: current.advisorId,
    data: {
      licenceId: current.id,
      kind: current.kind,
      number: current.number,
      from: validityOf(current),
      to: validityOf(plan),
      reason: context.reason,
      source: context.source,
    },
  };
}

const withoutBranch = ({ branchId: _branchId, ...licence }: LockedLicence): RegisteredLicence => licence;

/** Changes one licence's status and/or validUntil. Same values again change and record nothing. */
export async function changeLicence(prisma: PrismaClient, input: LicenceChange & { reason?: string; actor: string; now: Date }): Promise<ChangeLicenceResult> {
  return prisma.$transaction(async (tx): Promise<ChangeLicenceResult> => {
    const [current] = await lockLicences(tx, [input]);
    if (!current) return { ok: false, reason: "NOT_FOUND" };
    const plan = planChange(current, input);
    if (plan.kind === "refused") return { ok: false, reason: plan.reason };
    if (plan.kind === "unchanged") return { ok: true, licence: withoutBranch(current), duplicate: true };
    const licence = await applyPlan(tx, current, plan);
    await recordAction(tx, auditOf(current, plan, { actor: input.actor, now: input.now, reason: input.reason ?? null, source: "api" }));
    return { ok: true, licence, duplicate: false };
  }, TRANSACTION_OPTIONS);
}

/**
 * Applies every row of an import in one transaction, or none: when any row is refused, nothing is
 * written and every refused row is named. Rows for licences not on file are reported, not refused:
 * a regulator's register lists licences of people who do not work here.
 */
export async function importLicences(prisma: PrismaClient, rows: readonly ImportRow[], actor: string, now: Date): Promise<ImportLicencesResult> {
  return prisma.$transaction(async (tx): Promise<ImportLicencesResult> => {
    const held = new Map((await lockLicences(tx, rows)).map((l) => [keyOf(l), l]));
    const unmatched: Array<{ line: number } & LicenceKey> = [];
    const refused: Array<{ line: number; reason: ChangeRefusal } & LicenceKey> = [];
    const changes: Array<{ current: LockedLicence; plan: Extract<Plan, { kind: "changed" }> }> = [];
    let unchanged = 0;
    for (const row of rows) {
      const current = held.get(keyOf(row));
      if (!current) {
        unmatched.push({ line: row.line, kind: row.kind, number: row.number });
        continue;
      }
      const plan = planChange(current, row);
      if (plan.kind === "refused") refused.push({ line: row.line, kind: row.kind, number: row.number, reason: plan.reason });
      else if (plan.kind === "unchanged") unchanged++;
      else changes.push({ current, plan });
    }
    // Decided before anything is written, so a refusal leaves the transaction without writes.
    if (refused.length) return { ok: false, reason: "ROWS_REFUSED", refused };

    const context: ChangeContext = { actor, now, reason: null, source: "import" };
    for (const { current, plan } of changes) await applyPlan(tx, current, plan);
    await recordActions(
      tx,
      changes.map(({ current, plan }) => auditOf(current, plan, context)),
    );
    return { ok: true, changed: changes.length, unchanged, unmatched, changedAdvisorIds: [...new Set(changes.map((c) => c.current.advisorId))] };
  }, TRANSACTION_OPTIONS);
}
