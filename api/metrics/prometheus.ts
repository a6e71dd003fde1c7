/**
 * The Metrics implementation: Prometheus text exposition (format 0.0.4), written by hand because it
 * is a few lines of text and not worth a dependency.
 *
 * HTTP metrics are counted in process (each process is its own scrape target). The domain gauges
 * are read when scraped, from the source of truth for each: PostgreSQL for requests and offers, the
 * live matching store for who is available, so every process reports the same values. When a source
 * is unreachable its gauges are left out and advisor_dispatch_scrape_source_up says so, so that the
 * HTTP metrics still arrive exactly when they matter most.
 */
import type { Clock } from "../../core/clock.ts";
import type { PrismaClient } from "../../infra/database.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import type { Metrics } from "../metrics.ts";

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

interface Histogram {
  /** Cumulative count per bucket of DURATION_BUCKETS. */
  buckets: number[];
  sum: number;
  count: number;
}

/** Label values may hold anything; the format needs \\, " and newlines escaped. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(pairs: Record<string, string>): string {
  const body = Object.entries(pairs)
    .map(([name, value]) => `${name}="${escapeLabel(value)}"`)
    .join(",");
  return body ? `{${body}}` : "";
}

/** Numbers as Prometheus writes them (+Inf, NaN). */
function num(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function header(name: string, type: "counter" | "gauge" | "histogram", help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

export function createPrometheusMetrics(deps: PrometheusMetricsDeps): Metrics {
  const presenceTtlMs = deps.presenceTtlMs ?? 45_000;
  // Keyed by the JSON of the label values: no separator can collide with a value.
  const requests = new Map<string, number>();
  const durations = new Map<string, Histogram>();

  function renderHttp(): string[] {
    const lines = header("http_requests_total", "counter", "HTTP requests handled, by method, matched route pattern and status.");
    for (const [key, count] of requests) {
      const [method, route, status] = JSON.parse(key) as [string, string, string];
      lines.push(`http_requests_total${labels({ method, route, status })} ${count}`);
    }
    lines.push(...header("http_request_duration_seconds", "histogram", "HTTP request duration in seconds, by method and matched route pattern."));
    for (const [key, histogram] of durations) {
      const [method, route] = JSON.parse(key) as [string, string];
      DURATION_BUCKETS.forEach((le, i) => {
        lines.push(`http_request_duration_seconds_bucket${labels({ method, route, le: String(le) })} ${histogram.buckets[i]}`);
      });
      lines.push(`http_request_duration_seconds_bucket${labels({ method, route, le: "+Inf" })} ${histogram.count}`);
      lines.push(`http_request_duration_seconds_sum${labels({ method, route })} ${num(histogram.sum)}`);
      lines.push(`http_request_duration_seconds_count${labels({ method, route })} ${histogram.count}`);
    }
    return lines;
  }

  async function renderDatabase(): Promise<string[]> {
    const [byStatus, byOutcome] = await Promise.all([
      deps.prisma.serviceRequest.groupBy({ by: ["status"], where: { status: { in: [...OPEN_STATUSES] } }, _count: { _all: true } }),
      deps.prisma.offer.groupBy({ by: ["outcome"], _count: { _all: true } }),
    ]);
    const lines = header("advisor_dispatch_open_requests", "gauge", "Service requests not yet finished, by status (PostgreSQL).");
    for (const status of OPEN_STATUSES) {
      const count = byStatus.find((row) => row.status === status)?._count._all ?? 0;
      lines.push(`advisor_dispatch_open_requests${labels({ status })} ${count}`);
    }
    // A gauge despite the _total name: it is a row count, and the "open" series goes down as offers close.
    lines.push(...header("advisor_dispatch_offers_total", "gauge", "Offers ever made, by outcome; open ones as outcome=\"open\" (PostgreSQL)."));
    for (const outcome of OFFER_OUTCOMES) {
      const count = byOutcome.find((row) => (row.outcome ?? "open") === outcome)?._count._all ?? 0;
      lines.push(`advisor_dispatch_offers_total${labels({ outcome })} ${count}`);
    }
    return lines;
  }

  async function renderStore(): Promise<string[]> {
    // Available as eligibility sees it: a heartbeat younger than the TTL (heartbeatAt > now - ttl, whole ms).
    const available = await deps.store.countAvailable(deps.clock.now() - presenceTtlMs + 1);
    return [
      ...header("advisor_dispatch_available_advisors", "gauge", "Advisors available with a live heartbeat (matching store)."),
      `advisor_dispatch_available_advisors ${available}`,
    ];
  }

  async function renderJournal(): Promise<string[]> {
    if (!deps.journal) return [];
    const lag = await deps.journal.lag();
    const { reconciled } = deps.journal;
    return [
      ...header("advisor_dispatch_journal_pending_entries", "gauge", "Decisions in the journal not yet persisted to PostgreSQL (all processes)."),
      `advisor_dispatch_journal_pending_entries ${lag.entries}`,
      ...header("advisor_dispatch_journal_oldest_entry_seconds", "gauge", "Age of the oldest decision not yet persisted, in seconds (0 when none)."),
      `advisor_dispatch_journal_oldest_entry_seconds ${num(lag.oldestMs / 1000)}`,
      ...header("advisor_dispatch_reconciler_requests_total", "counter", "Requests the reconciler on this process compared, found behind the live store, repaired, found missing from it, restored to it, or made due again (no deadline, or one later than an open offer's expiry)."),
      ...(["checked", "behind", "repaired", "missing", "restored", "rescheduled"] as const).map((result) => `advisor_dispatch_reconciler_requests_total${labels({ result })} ${reconciled[result]}`),
      ...(deps.journal.supply
        ? [
            ...header("advisor_dispatch_reconciler_slots_total", "counter", "Capacity slots the supply sweeps on this process found held for nothing (suspect) and gave back (released)."),
            `advisor_dispatch_reconciler_slots_total${labels({ result: "suspect" })} ${deps.journal.supply.suspect}`,
            `advisor_dispatch_reconciler_slots_total${labels({ result: "released" })} ${deps.journal.supply.released}`,
          ]
        : []),
    ];
  }

  return {
    observeHttp(method, route, status, seconds) {
      const counterKey = JSON.stringify([method, route, String(status)]);
      requests.set(counterKey, (requests.get(counterKey) ?? 0) + 1);
      const histogramKey = JSON.stringify([method, route]);
      let histogram = durations.get(histogramKey);
      if (!histogram) {
        histogram = { buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
        durations.set(histogramKey, histogram);
      }
      DURATION_BUCKETS.forEach((le, i) => {
        if (seconds <= le) histogram.buckets[i]! += 1;
      });
      histogram.sum += seconds;
      histogram.count += 1;
    },

    async render() {
      const [database, store, journal] = await Promise.allSettled([renderDatabase(), renderStore(), renderJournal()]);
      const lines = renderHttp();
      for (const source of [database, store, journal]) if (source.status === "fulfilled") lines.push(...source.value);
      lines.push(...header("advisor_dispatch_scrape_source_up", "gauge", "1 when the scrape could read the source of the domain gauges, else 0."));
      lines.push(`advisor_dispatch_scrape_source_up${labels({ source: "database" })} ${database.status === "fulfilled" ? 1 : 0}`);
      lines.push(`advisor_dispatch_scrape_source_up${labels({ source: "store" })} ${store.status === "fulfilled" ? 1 : 0}`);
      return `${lines.join("\n")}\n`;
    },
  };
}
