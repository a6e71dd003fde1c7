/**
 * A self-contained matching world for engine tests: its own branch and region in the database (unique
 * ids, so worlds share PostgreSQL safely), its own store, a manual clock and a recording event bus.
 */
import type { PresenceHistory } from "../../../matching/presenceHistory.ts";
import { ManualClock } from "../../../core/clock.ts";
import type { Database } from "../../../platform/database.ts";
import type { DispatchPolicy } from "../../../matching/domain/policy.ts";
import { BRANCH_DISPATCH_POLICY } from "../../../matching/domain/policy.ts";
import type { LicenceKind } from "../../../matching/domain/types.ts";
import { MatchingEngine, type NewRequest } from "../../../matching/engine/engine.ts";
import { EventBus, type DomainEvent } from "../../../matching/events.ts";
import type { Recorder } from "../../../matching/journal/recorder.ts";
import { createPrismaMatchingRecords } from "../../../matching/records/prisma.ts";
import type { MatchingStore } from "../../../matching/store/port.ts";

export interface AdvisorSpec {
  maxConcurrent?: number;
  languages?: string[];
  suitabilityMaxRisk?: number;
  licences?: Array<{ kind: LicenceKind; validFrom?: number; validUntil?: number; status?: "active" | "suspended" | "revoked" }>;
  branchId?: string;
}

export interface World {
  tag: string;
  branchId: string;
  region: string;
  clock: ManualClock;
  engine: MatchingEngine;
  store: MatchingStore;
  events: DomainEvent[];
  /** The main engine's bus, for extra subscribers. */
  bus: EventBus;
  addBranch(): Promise<string>;
  addAdvisor(spec?: AdvisorSpec): Promise<string>;
  addClient(spec?: { riskLevel?: number; language?: string; dedicatedAdvisorId?: string | null; branchId?: string }): Promise<string>;
  /** Ends the advisor's licences of a kind now, in the directory, and syncs the live store. */
  expireLicence(advisorId: string, kind: LicenceKind): Promise<void>;
  setPolicy(patch: Partial<DispatchPolicy>, branchId?: string): Promise<void>;
  eventsOf(type: DomainEvent["type"]): DomainEvent[];
  /** Another engine on the same store and database: a second server process. */
  peer(store?: MatchingStore): MatchingEngine;
}

/** A fund-sales chat request from this client, dispatched, any language, priority 0, unless `patch` says otherwise. */
export function requestInput(clientId: string, patch: Partial<NewRequest> = {}): NewRequest {
  return { clientId, topic: "t", requiredLicence: "fund_sales", channel: "chat", mode: "dispatch", language: null, priority: 0, ...patch };
}

let counter = 0;
const YEAR = 365 * 86_400_000;

export async function createWorld(
  db: Database,
  store: MatchingStore,
  options: { clock?: ManualClock; presenceTtlMs?: number; recorder?: Recorder; beforeRebuild?: () => Promise<void>; presenceHistory?: PresenceHistory } = {},
): Promise<World> {
  const tag = `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const clock = options.clock ?? new ManualClock();
  const prisma = db.prisma;
  const region = `r_${tag}`;
  const events: DomainEvent[] = [];
  const records = createPrismaMatchingRecords(db);
  const makeEngine = (s: MatchingStore, bus = new EventBus()) => {
    bus.subscribe((e) => void events.push(e));
    return new MatchingEngine({
      store: s,
      records,
      bus,
      clock,
      presenceTtlMs: options.presenceTtlMs ?? 45_000,
      policyTtlMs: 0,
      ...(options.recorder ? { recorder: options.recorder } : {}),
      ...(options.beforeRebuild ? { beforeRebuild: options.beforeRebuild } : {}),
      ...(options.presenceHistory ? { presenceHistory: options.presenceHistory } : {}),
    });
  };
  const bus = new EventBus();
  const engine = makeEngine(store, bus);
  let seq = 0;
  const next = (prefix: string) => `${prefix}_${tag}_${(seq++).toString().padStart(4, "0")}`;

  const addBranch = async () => {
    const id = next("brn");
    await prisma.branch.create({ data: { id, name: id, region } });
    await prisma.dispatchPolicy.create({ data: { branchId: id, policy: BRANCH_DISPATCH_POLICY as object, updatedBy: "test" } });
    return id;
  };
  const branchId = await addBranch();

  return {
    tag,
    branchId,
    region,
    clock,
    engine,
    store,
    events,
    bus,
    addBranch,
    async expireLicence(advisorId, kind) {
      await prisma.licence.updateMany({ where: { advisorId, kind }, data: { validUntil: new Date(clock.now()) } });
      await engine.syncAdvisor(advisorId);
    },
    async addAdvisor(spec = {}) {
      const id = next("adv");
      const licences = spec.licences ?? [{ kind: "fund_sales" as const }];
      await prisma.advisor.create({
        data: {
          id,
          branchId: spec.branchId ?? branchId,
          name: id,
          maxConcurrent: spec.maxConcurrent ?? 2,
          languages: spec.languages ?? ["en"],
          suitabilityMaxRisk: spec.suitabilityMaxRisk ?? 5,
          licences: {
            create: licences.map((l, i) => ({
              id: `lic_${id}_${i}`,
              kind: l.kind,
              number: `N-${id}-${i}`,
              issuer: "FCA",
              validFrom: new Date(l.validFrom ?? clock.now() - YEAR),
              validUntil: new Date(l.validUntil ?? clock.now() + YEAR),
              status: l.status ?? "active",
            })),
          },
        },
      });
      await engine.syncAdvisor(id);
      return id;
    },
    async addClient(spec = {}) {
      const id = next("cli");
      await prisma.client.create({
        data: {
          id,
          branchId: spec.branchId ?? branchId,
          name: id,
          riskLevel: spec.riskLevel ?? 2,
          language: spec.language ?? "en",
          dedicatedAdvisorId: spec.dedicatedAdvisorId ?? null,
        },
      });
      return id;
    },
    async setPolicy(patch, forBranch = branchId) {
      const policy = { ...BRANCH_DISPATCH_POLICY, ...patch };
      await prisma.dispatchPolicy.update({ where: { branchId: forBranch }, data: { policy: policy as object } });
    },
    eventsOf(type) {
      return events.filter((e) => e.type === type);
    },
    peer(s = store) {
      return makeEngine(s);
    },
  };
}
