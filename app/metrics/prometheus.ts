/**
 * The Metrics implementation, on prom-client: its registry writes the text exposition (format
 * 0.0.4) and adds the default process metrics (CPU, memory, event loop lag, GC, handles).
 *
 * HTTP metrics are counted in process (each process is its own scrape target). The domain gauges
 * are read when scraped, from the source of truth for each: PostgreSQL for requests and offers, the
 * live matching store for who is available, so every process reports the same values. When a source
 * is unreachable its gauges are left out and advisor_dispatch_scrape_source_up says so, so that the
 * HTTP metrics still arrive exactly when they matter most. That is why the domain gauges live in a
 * registry made per scrape, holding only the families whose source answered, merged with the
 * process-long one.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Clock } from "../../core/clock.ts";
import type { PrismaClient } from "../../platform/database.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import type { Metrics } from "../../api/metrics.ts";

/** Upper bounds (seconds) of the request duration histogram: the Prometheus client defaults. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

const OPEN_STATUSES = ["pending", "offered", "assigned"] as const;
const OFFER_OUTCOMES = ["open", "accepted", "declined", "timed_out", "withdrawn", "lost_race"] as const;

export interface PrometheusMetricsDeps {
  prisma: PrismaClient;
  store: MatchingStore;
  clock: Clock;
  /** A heartbeat older than this does not count as available (default 45 s, the engine's). */
  presenceTtlMs?: number;
  /** The decision journal's lag and the reconciler's totals on this process (the matching runtime). */
  journal?: {
    lag(): Promise<{ entries: number; oldestMs: number }>;
    reconciled: { checked: number; behind: number; repaired: number; missing: number; restored: number; rescheduled: number };
    /** Capacity slots the supply sweeps suspected and released. */
    supply?: { suspect: number; released: number };
  };
}

// ---- the domain gauges, each source read into the registry of one scrape ----

async function readDatabase(deps: PrometheusMetricsDeps, scrape: Registry): Promise<void> {
  const [byStatus, byOutcome] = await Promise.all([
    deps.prisma.serviceRequest.groupBy({ by: ["status"], where: { status: { in: [...OPEN_STATUSES] } }, _count: { _all: true } }),
    deps.prisma.offer.groupBy({ by: ["outcome"], _count: { _all: true } }),
  ]);
  const open = new Gauge({
    name: "advisor_dispatch_open_requests",
    help: "Service requests not yet finished, by status (PostgreSQL).",
    labelNames: ["status"],
    registers: [scrape],
  });
  for (const status of OPEN_STATUSES) open.set({ status }, byStatus.find((row) => row.status === status)?._count._all ?? 0);
  // A gauge despite the _total name: it is a row count, and the "open" series goes down as offers close.
  const offers = new Gauge({
    name: "advisor_dispatch_offers_total",
    help: 'Offers ever made, by outcome; open ones as outcome="open" (PostgreSQL).',
    labelNames: ["outcome"],
    registers: [scrape],
  });
  for (const outcome of OFFER_OUTCOMES) offers.set({ outcome }, byOutcome.find((row) => (row.outcome ?? "open") === outcome)?._count._all ?? 0);
}

async function readStore(deps: PrometheusMetricsDeps & { presenceTtlMs: number }, scrape: Registry): Promise<void> {
  // Available as eligibility sees it: a heartbeat younger than the TTL (heartbeatAt > now - ttl, whole ms).
  const available = await deps.store.countAvailable(deps.clock.now() - deps.presenceTtlMs + 1);
  new Gauge({ name: "advisor_dispatch_available_advisors", help: "Advisors available with a live heartbeat (matching store).", registers: [scrape] }).set(
    available,
  );
}

async function readJournal(deps: PrometheusMetricsDeps, scrape: Registry): Promise<void> {
  if (!deps.journal) return;
  const lag = await deps.journal.lag();
  const { reconciled, supply } = deps.journal;
  new Gauge({
    name: "advisor_dispatch_journal_pending_entries",
    help: "Decisions in the journal not yet persisted to PostgreSQL (all processes).",
    registers: [scrape],
  }).set(lag.entries);
  new Gauge({
    name: "advisor_dispatch_journal_oldest_entry_seconds",
    help: "Age of the oldest decision not yet persisted, in seconds (0 when none).",
    registers: [scrape],
  }).set(lag.oldestMs / 1000);
  const requestsReconciled = new Counter({
    name: "advisor_dispatch_reconciler_requests_total",
    help: "Requests the reconciler on this process compared, found behind the live store, repaired, found missing from it, restored to it, or made due again (no deadline, or one later than an open offer's expiry).",
    labelNames: ["result"],
    registers: [scrape],
  });
  for (const result of ["checked", "behind", "repaired", "missing", "restored", "rescheduled"] as const) requestsReconciled.inc({ result }, reconciled[result]);
  if (supply) {
    const slots = new Counter({
      name: "advisor_dispatch_reconciler_slots_total",
      help: "Capacity slots the supply sweeps on this process found held for nothing (suspect) and gave back (released).",
      labelNames: ["result"],
      registers: [scrape],
    });
    slots.inc({ result: "suspect" }, supply.suspect);
    slots.inc({ result: "released" }, supply.released);
  }
}

export function createPrometheusMetrics(deps: PrometheusMetricsDeps): Metrics {
  const sources = { ...deps, presenceTtlMs: deps.presenceTtlMs ?? 45_000 };
  // One registry per instance (not prom-client's global one): tests and processes may hold several.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests handled, by method, matched route pattern and status.",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  const durations = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method and matched route pattern.",
    labelNames: ["method", "route"],
    buckets: [...DURATION_BUCKETS],
    registers: [registry],
  });

  /** Runs one source's reads into a registry of its own: a source that fails leaves nothing behind. */
  async function fromSource(read: (deps: typeof sources, scrape: Registry) => Promise<void>): Promise<Registry> {
    const scrape = new Registry();
    await read(sources, scrape);
    return scrape;
  }

  return {
    observeHttp(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      durations.observe({ method, route }, seconds);
    },

    async render() {
      const [database, store, journal] = await Promise.allSettled([fromSource(readDatabase), fromSource(readStore), fromSource(readJournal)]);
      const up = new Registry();
      const sourceUp = new Gauge({
        name: "advisor_dispatch_scrape_source_up",
        help: "1 when the scrape could read the source of the domain gauges, else 0.",
        labelNames: ["source"],
        registers: [up],
      });
      sourceUp.set({ source: "database" }, database.status === "fulfilled" ? 1 : 0);
      sourceUp.set({ source: "store" }, store.status === "fulfilled" ? 1 : 0);
      const answered = [database, store, journal].flatMap((source) => (source.status === "fulfilled" ? [source.value] : []));
      return await Registry.merge([registry, ...answered, up]).metrics();
    },
  };
}
