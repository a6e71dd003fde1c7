/**
 * Prometheus metrics in process (prom-client): the HTTP middleware labels by route pattern, the
 * exposition is well-formed text format 0.0.4 with the default process metrics beside ours,
 * counters and histograms move with traffic, and the domain gauges follow PostgreSQL and the
 * matching store at scrape time.
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpMetrics } from "../../api/metrics/middleware.ts";
import { createPrometheusMetrics, DURATION_BUCKETS } from "../../app/metrics/prometheus.ts";
import type { Metrics } from "../../api/metrics.ts";
import type { Database } from "../../platform/database.ts";
import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { createWorld, type World } from "../matching/support/world.ts";

/** Every sample line of the exposition, as name, labels and value. */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  return text
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
      const value = match[3] === "+Inf" ? Infinity : Number(match[3]);
      return { name: match[1]!, labels, value };
    });
}

function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

function makeApp(metrics: Metrics) {
  const app = new Hono();
  app.use("*", httpMetrics(metrics));
  app.get("/items/:id", (c) => c.json({ id: c.req.param("id") }));
  app.post("/items", (c) => c.json({ created: true }, 201));
  app.get("/boom", () => {
    throw new Error("boom");
  });
  app.onError((_error, c) => c.json({ error: "internal" }, 500));
  return app;
}

describe("prometheus metrics", () => {
  let db: Database;
  let store: MatchingStore;
  let world: World;
  let metrics: Metrics;

  beforeAll(async () => {
    db = await openMigratedPglite();
    store = createMemoryMatchingStore();
    world = await createWorld(db, store);
    metrics = createPrometheusMetrics({ prisma: db.prisma, store, clock: world.clock });
  });
  afterAll(async () => {
    await db?.close();
  });

  it("renders well-formed text exposition: HELP and TYPE before each family, every sample parseable", async () => {
    await makeApp(metrics).request("/items/1");
    const text = await metrics.render();
    expect(text.endsWith("\n")).toBe(true);
    const families = new Map<string, string>();
    for (const line of text.split("\n")) {
      const type = line.match(/^# TYPE (\S+) (counter|gauge|histogram)$/);
      if (type) families.set(type[1]!, type[2]!);
    }
    const ours = {
      http_requests_total: "counter",
      http_request_duration_seconds: "histogram",
      advisor_dispatch_open_requests: "gauge",
      advisor_dispatch_offers_total: "gauge",
      advisor_dispatch_available_advisors: "gauge",
      advisor_dispatch_scrape_source_up: "gauge",
    };
    expect(Object.fromEntries(families)).toMatchObject(ours);
    // Besides ours, only prom-client's default process metrics, and the usual ones among them.
    expect([...families.keys()].filter((name) => !(name in ours) && !/^(process|nodejs)_/.test(name))).toEqual([]);
    expect([...families.keys()]).toEqual(
      expect.arrayContaining([
        "process_cpu_user_seconds_total",
        "process_resident_memory_bytes",
        "nodejs_eventloop_lag_seconds",
        "nodejs_heap_size_used_bytes",
      ]),
    );
    for (const sample of samples(text)) {
      const family = [...families.keys()].find((f) => sample.name === f || sample.name.startsWith(`${f}_`));
      expect(family, sample.name).toBeDefined();
      expect(text.indexOf(`# TYPE ${family} `)).toBeLessThan(text.indexOf(`\n${sample.name}`));
    }
    expect(text).toContain('http_requests_total{method="GET",route="/items/:id",status="200"}');
    expect(text).toContain('advisor_dispatch_scrape_source_up{source="database"} 1');
    expect(text).toContain('advisor_dispatch_scrape_source_up{source="store"} 1');
  });

  it("reports the journal's lag and the reconciler's totals when given the matching runtime's", async () => {
    const reconciled = { checked: 12, behind: 3, repaired: 2, missing: 1, restored: 1, rescheduled: 1 };
    const local = createPrometheusMetrics({
      prisma: db.prisma,
      store,
      clock: world.clock,
      journal: { lag: async () => ({ entries: 7, oldestMs: 2_500 }), reconciled },
    });
    const text = await local.render();
    expect(text).toContain("# TYPE advisor_dispatch_journal_pending_entries gauge");
    expect(sampleValue(text, "advisor_dispatch_journal_pending_entries")).toBe(7);
    expect(sampleValue(text, "advisor_dispatch_journal_oldest_entry_seconds")).toBe(2.5);
    for (const [result, n] of Object.entries(reconciled)) expect(sampleValue(text, "advisor_dispatch_reconciler_requests_total", { result })).toBe(n);
  });

  it("counts requests by method, route pattern (never the raw path) and status, and times them in a histogram", async () => {
    const local = createPrometheusMetrics({ prisma: db.prisma, store, clock: world.clock });
    const app = makeApp(local);
    for (const id of ["a", "b", "c"]) expect((await app.request(`/items/${id}`)).status).toBe(200);
    expect((await app.request("/items", { method: "POST" })).status).toBe(201);
    expect((await app.request("/boom")).status).toBe(500);
    expect((await app.request("/nowhere/at/all")).status).toBe(404);

    let text = await local.render();
    expect(sampleValue(text, "http_requests_total", { method: "GET", route: "/items/:id", status: "200" })).toBe(3);
    expect(sampleValue(text, "http_requests_total", { method: "POST", route: "/items", status: "201" })).toBe(1);
    expect(sampleValue(text, "http_requests_total", { method: "GET", route: "/boom", status: "500" })).toBe(1);
    // Unmatched paths share the catch-all's pattern: bounded cardinality.
    expect(sampleValue(text, "http_requests_total", { method: "GET", route: "/*", status: "404" })).toBe(1);
    expect(text).not.toMatch(/route="\/items\/a"|nowhere/);

    const histogram = samples(text).filter((s) => s.name === "http_request_duration_seconds_bucket" && s.labels.route === "/items/:id");
    expect(histogram.map((s) => s.labels.le)).toEqual([...DURATION_BUCKETS.map(String), "+Inf"]);
    const counts = histogram.map((s) => s.value);
    expect(counts).toEqual([...counts].sort((a, b) => a - b)); // cumulative
    expect(counts.at(-1)).toBe(3);
    expect(sampleValue(text, "http_request_duration_seconds_count", { route: "/items/:id" })).toBe(3);
    expect(sampleValue(text, "http_request_duration_seconds_sum", { route: "/items/:id" })).toBeGreaterThan(0);

    await app.request("/items/d");
    text = await local.render();
    expect(sampleValue(text, "http_requests_total", { method: "GET", route: "/items/:id", status: "200" })).toBe(4);
    expect(sampleValue(text, "http_request_duration_seconds_count", { route: "/items/:id" })).toBe(4);
  });

  it("files observations into the right cumulative buckets and escapes label values", async () => {
    const local = createPrometheusMetrics({ prisma: db.prisma, store, clock: world.clock });
    local.observeHttp("GET", '/odd"\\\nroute', 200, 0.03);
    local.observeHttp("GET", '/odd"\\\nroute', 200, 7);
    const text = await local.render();
    expect(text).toContain('http_requests_total{method="GET",route="/odd\\"\\\\\\nroute",status="200"} 2');
    const bucket = (le: string) => sampleValue(text, "http_request_duration_seconds_bucket", { le });
    expect([bucket("0.025"), bucket("0.05"), bucket("5"), bucket("+Inf")]).toEqual([0, 1, 1, 2]);
  });

  it("reads open requests, offers by outcome and available advisors when scraped", async () => {
    const before = await metrics.render();
    const openOffers = sampleValue(before, "advisor_dispatch_offers_total", { outcome: "open" })!;
    const offered = sampleValue(before, "advisor_dispatch_open_requests", { status: "offered" })!;
    expect(sampleValue(before, "advisor_dispatch_open_requests", { status: "pending" })).toBeTypeOf("number");
    expect(sampleValue(before, "advisor_dispatch_offers_total", { outcome: "lost_race" })).toBeTypeOf("number");

    const advisors = [await world.addAdvisor(), await world.addAdvisor()];
    for (const id of advisors) await world.engine.setPresence(id, "available");
    const clientId = await world.addClient();
    const created = await world.engine.createRequest({
      clientId,
      topic: "pension",
      requiredLicence: "fund_sales",
      channel: "chat",
      mode: "dispatch",
      language: "en",
      priority: 0,
    });
    expect(created.ok).toBe(true);

    let text = await metrics.render();
    expect(sampleValue(text, "advisor_dispatch_available_advisors")).toBe(2);
    expect(sampleValue(text, "advisor_dispatch_open_requests", { status: "offered" })).toBe(offered + 1);
    expect(sampleValue(text, "advisor_dispatch_offers_total", { outcome: "open" })).toBe(openOffers + 1);

    // The advisor declines: one declined offer, and the funnel offers the other advisor.
    const first = world.eventsOf("offer.sent")[0] as { offerId: string; advisorId: string };
    expect((await world.engine.decline(first.offerId, first.advisorId)).ok).toBe(true);
    text = await metrics.render();
    expect(sampleValue(text, "advisor_dispatch_offers_total", { outcome: "declined" })).toBe(1);
    expect(sampleValue(text, "advisor_dispatch_offers_total", { outcome: "open" })).toBe(openOffers + 1);

    // Heartbeats lapse: nobody counts as available any more.
    world.clock.advance(46_000);
    expect(sampleValue(await metrics.render(), "advisor_dispatch_available_advisors")).toBe(0);
  });

  it("still renders the HTTP metrics when a gauge source fails, and says which one", async () => {
    const broken: MatchingStore = { ...store, countAvailable: async () => Promise.reject(new Error("ECONNREFUSED")) };
    const local = createPrometheusMetrics({ prisma: db.prisma, store: broken, clock: world.clock });
    await makeApp(local).request("/items/x");
    const text = await local.render();
    expect(sampleValue(text, "http_requests_total", { route: "/items/:id" })).toBe(1);
    expect(sampleValue(text, "advisor_dispatch_scrape_source_up", { source: "store" })).toBe(0);
    expect(sampleValue(text, "advisor_dispatch_scrape_source_up", { source: "database" })).toBe(1);
    expect(text).not.toContain("advisor_dispatch_available_advisors");
    expect(text).toContain("advisor_dispatch_open_requests");
  });
});
