/**
 * A year of synthetic history for one branch, written with generate_series in a few INSERT ... SELECT
 * statements (seconds, not minutes, for 200k requests): requests with their outcomes and stages,
 * 1 to 3 offers each with a realistic eligibility snapshot, ratings for 60% of the completed ones,
 * a request.created event per request, and award transactions (one or two per completed request,
 * each with its event, its two postings and its award decision with the event's request, 1% of them
 * reversed), and each advisor's presence changes (one or two available spans a day). Deterministic (setseed).
 *
 * Mix: 70% completed, 5% still assigned, 3% cancelled after assignment, 10% cancelled before it
 * (half of them before any offer), 12% expired with a callback.
 */
import pg from "pg";

export const KPI_BRANCH = "brn_kpibench";
export const KPI_TIMEZONE = "Europe/London";
/** The history's year, in the branch's local time. */
export const KPI_YEAR = { from: new Date("2025-01-01T00:00:00Z"), to: new Date("2026-01-01T00:00:00Z") };

const YEAR_END = KPI_YEAR.to.toISOString().slice(0, 10);
const ADVISORS = 50;
const CLIENTS = 2_000;
/** About the size of a real offer's eligibility snapshot (licence, suitability, presence, capacity). */
const ELIGIBILITY = JSON.stringify({
  licence: { kind: "fund_sales", number: "FS-000000", validFrom: "2024-01-01T00:00:00.000Z", validUntil: "2030-01-01T00:00:00.000Z", status: "active" },
  suitability: { clientRisk: 3, advisorMax: 4 },
  presence: "available",
  capacity: { active: 1, maxConcurrent: 3 },
  language: { wanted: "en", spoken: ["en", "fr"] },
  rank: { score: 0.8123, rating: 4.6, responsiveness: 0.91, load: 0.33 },
});

const DIRECTORY = [
  `INSERT INTO "Branch" (id, name, region, timezone) VALUES ('${KPI_BRANCH}', 'KPI bench', 'bench', '${KPI_TIMEZONE}')`,
  `INSERT INTO "Advisor" (id, "branchId", name, "maxConcurrent", languages, "suitabilityMaxRisk")
   SELECT 'adv_kb' || i, '${KPI_BRANCH}', 'Advisor ' || i, 3, ARRAY['en'], 5 FROM generate_series(0, ${ADVISORS - 1}) i`,
  `INSERT INTO "Client" (id, "branchId", name, "riskLevel", language)
   SELECT 'cli_kb' || i, '${KPI_BRANCH}', 'Client ' || i, 1 + i % 5, 'en' FROM generate_series(0, ${CLIENTS - 1}) i`,
  `INSERT INTO "LedgerAccount" (id, code, kind, "ownerId", "branchId")
   SELECT 'acc_kb_points_' || i, 'advisor_points:adv_kb' || i, 'advisor_points'::"LedgerAccountKind", 'adv_kb' || i, '${KPI_BRANCH}' FROM generate_series(0, ${ADVISORS - 1}) i
   UNION ALL SELECT 'acc_kb_budget', 'branch_budget:${KPI_BRANCH}', 'branch_budget'::"LedgerAccountKind", '${KPI_BRANCH}', '${KPI_BRANCH}'`,
];

/** The requests: u picks the outcome, v the stage, the rest the times (s after creation). */
function requestsSql(count: number): string {
  return `
    INSERT INTO "ServiceRequest" (id, "clientId", "branchId", topic, "requiredLicence", channel, "createdAt", status, stage, "stageIndex",
      "callbackRequested", "assignedAdvisorId", "offeredAt", "assignedAt", "completedAt", "cancelledAt", "expiredAt")
    SELECT id, 'cli_kb' || (i % ${CLIENTS}), '${KPI_BRANCH}', 'pension', 'fund_sales'::"LicenceKind", 'chat'::"Channel", created,
      (CASE WHEN u < 0.70 THEN 'completed' WHEN u < 0.75 THEN 'assigned' WHEN u < 0.88 THEN 'cancelled' ELSE 'expired' END)::"RequestStatus",
      (CASE WHEN v < 0.3 THEN 'dedicated' WHEN v < 0.6 THEN 'branch' WHEN v < 0.75 THEN 'region' WHEN v < 0.9 THEN 'national' END)::"FunnelPool",
      CASE WHEN v < 0.3 THEN 0 WHEN v < 0.6 THEN 1 WHEN v < 0.75 THEN 2 WHEN v < 0.9 THEN 3 ELSE 4 END,
      u >= 0.88,
      CASE WHEN u < 0.78 THEN 'adv_kb' || (i % ${ADVISORS}) END,
      CASE WHEN u < 0.83 OR u >= 0.88 THEN created + first_offer END,
      CASE WHEN u < 0.78 THEN created + first_offer + accept END,
      CASE WHEN u < 0.70 THEN created + first_offer + accept + interval '20 minutes' END,
      CASE WHEN u >= 0.75 AND u < 0.88 THEN created + interval '3 minutes' END,
      CASE WHEN u >= 0.88 THEN created + interval '10 minutes' END
    FROM (
      -- Requests still assigned are the year's last 12 hours' (a real assignment ends in minutes),
      -- so their open assignment is hours of utilisation, not months.
      SELECT *, CASE WHEN u >= 0.70 AND u < 0.75 THEN timestamp '${YEAR_END}' - (timestamp '${YEAR_END}' - anytime) / 730 ELSE anytime END AS created
      FROM (
        SELECT i, 'req_kb' || lpad(i::text, 7, '0') AS id, random() AS u, random() AS v,
          timestamp '${KPI_YEAR.from.toISOString().slice(0, 10)}' + random() * interval '365 days' AS anytime,
          random() * interval '30 seconds' + interval '500 milliseconds' AS first_offer,
          random() * interval '120 seconds' + interval '1 second' AS accept
        FROM generate_series(1, ${count}) i
      ) y
    ) x`;
}

const OFFERS = `
  INSERT INTO "Offer" (id, "requestId", "advisorId", kind, stage, "stageIndex", "sentAt", "expiresAt", outcome, "respondedAt", eligibility)
  SELECT 'off_' || r.id || '_' || j, r.id, 'adv_kb' || ((hashtext(r.id) & 65535) + j) % ${ADVISORS}, 'push'::"OfferKind", coalesce(r.stage, 'national'), r."stageIndex",
    r."offeredAt" + (j - 1) * interval '20 seconds', r."offeredAt" + (j - 1) * interval '20 seconds' + interval '20 seconds',
    (CASE WHEN j = n.k AND r."assignedAt" IS NOT NULL THEN 'accepted' WHEN r.status = 'cancelled' AND r."assignedAt" IS NULL THEN 'withdrawn'
          WHEN random() < 0.5 THEN 'declined' ELSE 'timed_out' END)::"OfferOutcome",
    r."offeredAt" + (j - 1) * interval '20 seconds' + interval '5 seconds', '${ELIGIBILITY}'::jsonb
  FROM "ServiceRequest" r
  -- (r.id <> '')::int - 1 is 0, but names the outer row, so random() is drawn per request, not once.
  CROSS JOIN LATERAL (SELECT 1 + floor(random() * 3)::int + (r.id <> '')::int - 1 AS k) n
  CROSS JOIN LATERAL generate_series(1, n.k) j
  WHERE r."branchId" = '${KPI_BRANCH}' AND r."offeredAt" IS NOT NULL`;

const RATINGS = `
  INSERT INTO "Rating" (id, "requestId", "advisorId", "clientId", stars, "createdAt")
  SELECT 'rat_' || id, id, "assignedAdvisorId", "clientId", 1 + floor(random() * 5)::int, "completedAt" + interval '1 minute'
  FROM "ServiceRequest" WHERE "branchId" = '${KPI_BRANCH}' AND status = 'completed' AND random() < 0.6`;

const EVENTS = [
  `INSERT INTO "EventLog" (id, type, at, "requestId", "branchId", data)
   SELECT 'evt_c_' || id, 'request.created', "createdAt", id, "branchId", '{}'::jsonb FROM "ServiceRequest" WHERE "branchId" = '${KPI_BRANCH}'`,
  `INSERT INTO "EventLog" (id, type, at, "requestId", "branchId", "advisorId", data)
   SELECT 'evt_a_' || r.id || '_' || j, 'request.completed', r."completedAt", r.id, r."branchId", r."assignedAdvisorId", '{}'::jsonb
   FROM "ServiceRequest" r CROSS JOIN LATERAL generate_series(1, CASE WHEN random() < 0.3 THEN 2 ELSE 1 END + (r.id <> '')::int - 1) j
   WHERE r."branchId" = '${KPI_BRANCH}' AND r.status = 'completed'`,
];

const AWARDS = [
  `INSERT INTO "LedgerTransaction" (id, "idempotencyKey", kind, "branchId", metadata, "createdAt")
   SELECT 'txn_' || e.id, 'award:' || e.id || ':rule', 'award', e."branchId",
     jsonb_build_object('eventId', e.id, 'ruleId', 'rule', 'ruleSetVersion', 1, 'advisorId', e."advisorId"), e.at + interval '2 seconds'
   FROM "EventLog" e WHERE e."branchId" = '${KPI_BRANCH}' AND e.type = 'request.completed'`,
  `INSERT INTO "LedgerPosting" ("transactionId", "accountId", amount, "createdAt")
   SELECT t.id, a.account, a.sign * (5 + (hashtext(t.id) & 15)), t."createdAt"
   FROM "LedgerTransaction" t
   CROSS JOIN LATERAL (VALUES ('acc_kb_budget', -1), ('acc_kb_points_' || substring(t.metadata->>'advisorId' FROM 7), 1)) AS a(account, sign)
   WHERE t."branchId" = '${KPI_BRANCH}' AND t.kind = 'award'`,
  // The award decisions, written with their transactions in the real system (incentives/ledger/awards.ts).
  `INSERT INTO "IncentiveAward" (id, "eventId", "ruleId", "ruleSetVersion", "branchId", "advisorId", points, status, "transactionId", "requestId", at)
   SELECT 'awd_' || t.id, t.metadata->>'eventId', 'rule', 1, t."branchId", t.metadata->>'advisorId', p.amount, 'posted', t.id, e."requestId", t."createdAt" - interval '2 seconds'
   FROM "LedgerTransaction" t JOIN "LedgerPosting" p ON p."transactionId" = t.id AND p.amount > 0
   JOIN "EventLog" e ON e.id = t.metadata->>'eventId'
   WHERE t."branchId" = '${KPI_BRANCH}' AND t.kind = 'award'`,
  `INSERT INTO "LedgerTransaction" (id, "idempotencyKey", kind, "branchId", metadata, "reversesId", "createdAt")
   SELECT 'txn_rev_' || t.id, 'reverse:' || t.id, 'reversal', t."branchId", jsonb_build_object('reverses', t.id, 'reversesKind', 'award'), t.id, t."createdAt" + interval '1 day'
   FROM "LedgerTransaction" t WHERE t."branchId" = '${KPI_BRANCH}' AND t.kind = 'award' AND hashtext(t.id) % 100 = 0`,
  `INSERT INTO "LedgerPosting" ("transactionId", "accountId", amount, "createdAt")
   SELECT r.id, p."accountId", -p.amount, r."createdAt"
   FROM "LedgerTransaction" r JOIN "LedgerPosting" p ON p."transactionId" = r."reversesId"
   WHERE r."branchId" = '${KPI_BRANCH}' AND r.kind = 'reversal'`,
];

/**
 * Presence changes (the history behind utilisation): every advisor works every day of the year, in
 * at 08:00-09:00 and off at 17:00-18:00 (UTC wall clock), with a lunch break (away 12:00-13:00, back
 * within the hour) on 70% of days: one or two available spans a day.
 */
const PRESENCE = `
  INSERT INTO "AdvisorPresenceChange" (id, "advisorId", "branchId", presence, at)
  SELECT 'prs_kb_' || a || '_' || d || '_' || c.n, 'adv_kb' || a, '${KPI_BRANCH}', c.presence, timestamp '${KPI_YEAR.from.toISOString().slice(0, 10)}' + d * interval '1 day' + c.offs
  FROM generate_series(0, ${ADVISORS - 1}) a
  CROSS JOIN generate_series(0, 364) d
  -- (a + d) * 0 names the outer row, so random() is drawn per advisor and day, not once.
  CROSS JOIN LATERAL (SELECT random() + (a + d) * 0 < 0.7 AS lunch, random() AS j) r
  CROSS JOIN LATERAL (VALUES
    (1, 'available', interval '8 hours' + r.j * interval '1 hour'),
    (2, CASE WHEN r.lunch THEN 'away' END, interval '12 hours' + r.j * interval '30 minutes'),
    (3, CASE WHEN r.lunch THEN 'available' END, interval '13 hours' + r.j * interval '30 minutes'),
    (4, 'offline', interval '17 hours' + r.j * interval '1 hour')) AS c(n, presence, offs)
  WHERE c.presence IS NOT NULL`;

/** Writes the history into the (migrated, empty) database at `url`; `log` gets a line per step. */
export async function writeKpiHistory(url: string, requests: number, log: (line: string) => void): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT setseed(0.42)");
    const steps: Array<[string, string[]]> = [
      ["directory", DIRECTORY],
      ["requests", [requestsSql(requests)]],
      ["offers", [OFFERS]],
      ["ratings", [RATINGS]],
      ["events", EVENTS],
      ["awards", AWARDS],
      ["presence", [PRESENCE]],
    ];
    for (const [name, statements] of steps) {
      const started = Date.now();
      for (const sql of statements) await client.query(sql);
      log(`kpis: wrote ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    await client.query("VACUUM ANALYZE");
    const counts = await client.query<Record<string, string>>(`
      SELECT (SELECT count(*) FROM "ServiceRequest") AS requests, (SELECT count(*) FROM "Offer") AS offers,
        (SELECT count(*) FROM "Rating") AS ratings, (SELECT count(*) FROM "EventLog") AS events,
        (SELECT count(*) FROM "LedgerTransaction") AS transactions, (SELECT count(*) FROM "LedgerPosting") AS postings,
        (SELECT count(*) FROM "IncentiveAward") AS awards, (SELECT count(*) FROM "AdvisorPresenceChange") AS presence`);
    return Object.fromEntries(Object.entries(counts.rows[0]!).map(([k, v]) => [k, Number(v)]));
  } finally {
    await client.end();
  }
}
