/** What the matching engine takes and answers: its options, a new request, and each action's outcome. */
import type { Clock } from "../../core/clock.ts";
import type { EventBus } from "../events.ts";
import type { Channel, LicenceKind, RequestMode, RequestStatus } from "../domain/types.ts";
import type { Recorder } from "../journal/recorder.ts";
import type { MatchingRecords } from "../records/port.ts";
import type { MatchingStore } from "../store/port.ts";
import type { PresenceHistory } from "../presenceHistory.ts";

export interface EngineOptions {
  store: MatchingStore;
  records: MatchingRecords;
  /** Where decisions go on their way to the record: the journal in a server, the record directly by default. */
  recorder?: Recorder;
  bus: EventBus;
  clock: Clock;
  /** A heartbeat older than this counts as offline (default 45 s). */
  presenceTtlMs?: number;
  /** How long a sweeper owns a due request before another may take it over (default 10 s). */
  leaseMs?: number;
  /** How long a branch policy is cached (default 2 s): a manager's change applies within this. */
  policyTtlMs?: number;
  onError?: (error: unknown, context: string) => void;
  /**
   * Runs while this process holds the rebuild lease, before the rebuild reads PostgreSQL: a server
   * persists every journal entry here (whoever holds it), so the record holds every decision taken
   * before the loss that survived in the journal. Decisions are fenced while the live state is
   * missing, so nothing new is decided between this and the new generation.
   */
  beforeRebuild?: () => Promise<void>;
  /** Where presence transitions go for reporting (none by default). */
  presenceHistory?: PresenceHistory;
}

export interface NewRequest {
  clientId: string;
  topic: string;
  requiredLicence: LicenceKind;
  channel: Channel;
  mode: RequestMode;
  language: string | null;
  priority: number;
  idempotencyKey?: string | null;
  requestHash?: string | null;
}

export type CreateOutcome =
  /** status: as the live store has it after the first funnel pass; null for a replay (not read). */
  | { ok: true; requestId: string; created: boolean; status: RequestStatus | null }
  /** OVERLOADED: persistence trails too far behind; nothing was created, retry shortly. */
  | { ok: false; reason: "UNKNOWN_CLIENT" | "IDEMPOTENCY_CONFLICT" | "OVERLOADED" };

export type AcceptOutcome =
  | { ok: true; requestId: string; duplicate: boolean }
  | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "OFFER_EXPIRED" | "ALREADY_TAKEN" | "AT_CAPACITY" | "NOT_ELIGIBLE" };

export type DeclineOutcome = { ok: true; requestId: string } | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "ALREADY_CLOSED" };

export type RateOutcome = { ok: true } | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "NOT_COMPLETED" | "ALREADY_RATED" };

export type FinishOutcome = { ok: true; duplicate: boolean } | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "INVALID_STATE" };
