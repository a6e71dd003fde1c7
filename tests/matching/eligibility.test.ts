import { describe, expect, it } from "vitest";
import {
  checkEligibility,
  explainExclusions,
  INELIGIBLE_REASONS,
  type EligibilityInput,
  type EligibilityResult,
  type IneligibleReason,
} from "../../matching/domain/eligibility.ts";
import type { AdvisorProfile, AdvisorSupply, LicenceFact, RequestFacts } from "../../matching/domain/types.ts";

const NOW = Date.parse("2026-03-01T12:00:00.000Z");
const TTL = 45_000;
const DAY = 86_400_000;

function licence(overrides: Partial<LicenceFact> = {}): LicenceFact {
  return {
    id: "lic-1",
    kind: "fund_sales",
    number: "FS-0001",
    issuer: "FSA",
    validFrom: NOW - 365 * DAY,
    validUntil: NOW + 365 * DAY,
    status: "active",
    ...overrides,
  };
}

function advisor(overrides: Partial<AdvisorProfile> = {}): AdvisorProfile {
  return {
    id: "adv-1",
    branchId: "br-1",
    region: "north",
    status: "active",
    maxConcurrent: 3,
    languages: ["en", "fr"],
    suitabilityMaxRisk: 3,
    licences: [licence()],
    ...overrides,
  };
}

function supply(overrides: Partial<AdvisorSupply> = {}): AdvisorSupply {
  return { presence: "available", heartbeatAt: NOW - 1_000, active: 0, pendingPush: 0, ...overrides };
}

function request(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    id: "req-1",
    clientId: "cli-1",
    branchId: "br-1",
    region: "north",
    requiredLicence: "fund_sales",
    riskLevel: 3,
    language: "en",
    priority: 0,
    dedicatedAdvisorId: null,
    mode: "dispatch",
    createdAt: NOW - 5_000,
    ...overrides,
  };
}

function input(overrides: Partial<EligibilityInput> = {}): EligibilityInput {
  return {
    advisor: advisor(),
    supply: supply(),
    request: request(),
    now: NOW,
    presenceTtlMs: TTL,
    capacityRule: "push",
    ...overrides,
  };
}

function reasonOf(result: EligibilityResult): IneligibleReason | "ELIGIBLE" {
  return result.eligible ? "ELIGIBLE" : result.reason;
}

function detailOf(result: EligibilityResult): string {
  if (result.eligible) throw new Error("expected an ineligible result");
  return result.detail;
}

describe("checkEligibility: eligible advisor", () => {
  it("returns a snapshot of the facts that made the advisor eligible", () => {
    const result = checkEligibility(input({ supply: supply({ active: 1, pendingPush: 1 }) }));
    expect(result).toEqual({
      eligible: true,
      snapshot: {
        checkedAt: NOW,
        licence: {
          id: "lic-1",
          kind: "fund_sales",
          number: "FS-0001",
          issuer: "FSA",
          validFrom: NOW - 365 * DAY,
          validUntil: NOW + 365 * DAY,
        },
        suitability: { advisorMaxRisk: 3, clientRisk: 3 },
        language: { requested: "en", advisor: ["en", "fr"] },
        presence: "available",
        active: 1,
        pendingPush: 1,
        maxConcurrent: 3,
      },
    });
  });

  it("cites the valid licence of the required kind with the latest validUntil", () => {
    const licences = [
      licence({ id: "short", validUntil: NOW + 10 * DAY }),
      licence({ id: "other-kind", kind: "futures", validUntil: NOW + 9_000 * DAY }),
      licence({ id: "suspended-long", status: "suspended", validUntil: NOW + 5_000 * DAY }),
      licence({ id: "long", validUntil: NOW + 900 * DAY }),
      licence({ id: "expired", validUntil: NOW - DAY }),
    ];
    const result = checkEligibility(input({ advisor: advisor({ licences }) }));
    expect(result.eligible && result.snapshot.licence.id).toBe("long");
    expect(result.eligible && result.snapshot.licence.validUntil).toBe(NOW + 900 * DAY);
  });

  it("copies the advisor's languages so later profile edits cannot rewrite the record", () => {
    const profile = advisor({ languages: ["en"] });
    const result = checkEligibility(input({ advisor: profile }));
    profile.languages.push("de");
    expect(result.eligible && result.snapshot.language.advisor).toEqual(["en"]);
  });

  it("does not leak the licence status or other profile fields into the snapshot licence", () => {
    const result = checkEligibility(input());
    expect(result.eligible && Object.keys(result.snapshot.licence).sort()).toEqual(["id", "issuer", "kind", "number", "validFrom", "validUntil"]);
  });
});

describe("checkEligibility: EXCLUDED", () => {
  it("rejects an advisor who declined or timed out on this request before", () => {
    const result = checkEligibility(input({ excluded: true }));
    expect(reasonOf(result)).toBe("EXCLUDED");
    expect(detailOf(result)).toMatch(/declined|timed out/);
  });

  it.each([false, undefined])("accepts excluded = %s", (excluded) => {
    expect(reasonOf(checkEligibility(input({ excluded })))).toBe("ELIGIBLE");
  });
});

describe("checkEligibility: STATUS", () => {
  it.each(["suspended", "offboarded"] as const)("rejects a %s advisor", (status) => {
    const result = checkEligibility(input({ advisor: advisor({ status }) }));
    expect(reasonOf(result)).toBe("STATUS");
    expect(detailOf(result)).toContain(status);
  });
});

describe("checkEligibility: PRESENCE", () => {
  it.each(["away", "offline"] as const)("rejects presence %s even with a fresh heartbeat", (presence) => {
    const result = checkEligibility(input({ supply: supply({ presence, heartbeatAt: NOW }) }));
    expect(reasonOf(result)).toBe("PRESENCE");
    expect(detailOf(result)).toContain(presence);
  });

  it("accepts a heartbeat one ms younger than the TTL", () => {
    expect(reasonOf(checkEligibility(input({ supply: supply({ heartbeatAt: NOW - TTL + 1 }) })))).toBe("ELIGIBLE");
  });

  it("treats a heartbeat exactly presenceTtlMs old as offline", () => {
    const result = checkEligibility(input({ supply: supply({ heartbeatAt: NOW - TTL }) }));
    expect(reasonOf(result)).toBe("PRESENCE");
    expect(detailOf(result)).toBe(`heartbeat ${TTL}ms old, limit ${TTL}ms`);
  });

  it("treats an older heartbeat as offline while the flag still says available", () => {
    expect(reasonOf(checkEligibility(input({ supply: supply({ heartbeatAt: NOW - 10 * TTL }) })))).toBe("PRESENCE");
  });

  it("honours the TTL it is given rather than a built-in one", () => {
    const heartbeat = supply({ heartbeatAt: NOW - 50_000 });
    expect(reasonOf(checkEligibility(input({ supply: heartbeat, presenceTtlMs: 60_000 })))).toBe("ELIGIBLE");
    expect(reasonOf(checkEligibility(input({ supply: heartbeat, presenceTtlMs: 50_000 })))).toBe("PRESENCE");
  });
});

describe("checkEligibility: CAPACITY", () => {
  // maxConcurrent 3 throughout.
  it.each([
    // active, pendingPush, push, broadcast, accept
    [0, 0, "ELIGIBLE", "ELIGIBLE", "ELIGIBLE"],
    [2, 0, "ELIGIBLE", "ELIGIBLE", "ELIGIBLE"],
    [1, 1, "ELIGIBLE", "ELIGIBLE", "ELIGIBLE"],
    [2, 1, "CAPACITY", "ELIGIBLE", "ELIGIBLE"],
    [0, 3, "CAPACITY", "ELIGIBLE", "ELIGIBLE"],
    [1, 5, "CAPACITY", "ELIGIBLE", "ELIGIBLE"],
    [3, 0, "CAPACITY", "CAPACITY", "CAPACITY"],
    [4, 0, "CAPACITY", "CAPACITY", "CAPACITY"],
  ] as const)("active %i, pendingPush %i: push %s, broadcast %s, accept %s", (active, pendingPush, push, broadcast, accept) => {
    const base = { supply: supply({ active, pendingPush }) };
    expect(reasonOf(checkEligibility(input({ ...base, capacityRule: "push" })))).toBe(push);
    expect(reasonOf(checkEligibility(input({ ...base, capacityRule: "broadcast" })))).toBe(broadcast);
    expect(reasonOf(checkEligibility(input({ ...base, capacityRule: "accept" })))).toBe(accept);
  });

  it.each(["push", "broadcast", "accept"] as const)("an advisor with maxConcurrent 0 has no capacity (%s)", (capacityRule) => {
    const result = checkEligibility(input({ advisor: advisor({ maxConcurrent: 0 }), capacityRule }));
    expect(reasonOf(result)).toBe("CAPACITY");
  });

  it("explains push capacity with the pending offers that hold slots", () => {
    const result = checkEligibility(input({ supply: supply({ active: 2, pendingPush: 1 }), capacityRule: "push" }));
    expect(detailOf(result)).toBe("active 2 + pending push 1 at max 3");
  });

  it("explains broadcast and accept capacity with assignments only", () => {
    const base = { supply: supply({ active: 3, pendingPush: 1 }) };
    expect(detailOf(checkEligibility(input({ ...base, capacityRule: "broadcast" })))).toBe("active 3 at max 3");
    expect(detailOf(checkEligibility(input({ ...base, capacityRule: "accept" })))).toBe("active 3 at max 3");
  });
});

describe("checkEligibility: LICENCE", () => {
  const withLicences = (...licences: LicenceFact[]) => input({ advisor: advisor({ licences }) });

  it("rejects an advisor with no licence of the required kind", () => {
    const result = checkEligibility(withLicences(licence({ kind: "futures" }), licence({ kind: "insurance" })));
    expect(reasonOf(result)).toBe("LICENCE");
    expect(detailOf(result)).toBe("no fund_sales licence");
  });

  it("rejects an advisor with no licences at all", () => {
    expect(reasonOf(checkEligibility(withLicences()))).toBe("LICENCE");
  });

  it.each(["suspended", "revoked"] as const)("rejects a %s licence that is otherwise in date", (status) => {
    const result = checkEligibility(withLicences(licence({ status })));
    expect(reasonOf(result)).toBe("LICENCE");
    expect(detailOf(result)).toBe(`licence fund_sales ${status}`);
  });

  it("treats validFrom === now as valid", () => {
    expect(reasonOf(checkEligibility(withLicences(licence({ validFrom: NOW }))))).toBe("ELIGIBLE");
  });

  it("treats validFrom one ms in the future as not yet valid", () => {
    const result = checkEligibility(withLicences(licence({ validFrom: NOW + 1 })));
    expect(reasonOf(result)).toBe("LICENCE");
    expect(detailOf(result)).toBe(`licence fund_sales not valid until ${new Date(NOW + 1).toISOString()}`);
  });

  it("treats validUntil === now as expired", () => {
    const result = checkEligibility(withLicences(licence({ validUntil: NOW })));
    expect(reasonOf(result)).toBe("LICENCE");
    expect(detailOf(result)).toBe(`licence fund_sales expired ${new Date(NOW).toISOString()}`);
  });

  it("treats validUntil one ms in the future as valid", () => {
    expect(reasonOf(checkEligibility(withLicences(licence({ validUntil: NOW + 1 }))))).toBe("ELIGIBLE");
  });

  it("names the expiry date in the detail", () => {
    const expiredAt = Date.parse("2026-01-01T00:00:00.000Z");
    const result = checkEligibility(withLicences(licence({ validUntil: expiredAt })));
    expect(detailOf(result)).toBe("licence fund_sales expired 2026-01-01T00:00:00.000Z");
  });

  it("explains the licence of the required kind that came closest (latest validUntil)", () => {
    const result = checkEligibility(
      withLicences(
        licence({ id: "old", validUntil: NOW - 100 * DAY }),
        licence({ id: "recent", validUntil: NOW - DAY }),
        licence({ id: "other", kind: "futures" }),
      ),
    );
    expect(detailOf(result)).toBe(`licence fund_sales expired ${new Date(NOW - DAY).toISOString()}`);
  });

  it("accepts when one licence of the kind is valid even if others are not", () => {
    const result = checkEligibility(
      withLicences(licence({ id: "expired", validUntil: NOW - DAY }), licence({ id: "ok" }), licence({ id: "revoked", status: "revoked" })),
    );
    expect(result.eligible && result.snapshot.licence.id).toBe("ok");
  });

  it("checks the kind the request requires", () => {
    const futuresOnly = advisor({ licences: [licence({ kind: "futures" })] });
    expect(reasonOf(checkEligibility(input({ advisor: futuresOnly, request: request({ requiredLicence: "futures" }) })))).toBe("ELIGIBLE");
    expect(reasonOf(checkEligibility(input({ advisor: futuresOnly })))).toBe("LICENCE");
  });
});

describe("checkEligibility: SUITABILITY", () => {
  it("accepts a client risk equal to the advisor's scope", () => {
    expect(reasonOf(checkEligibility(input({ request: request({ riskLevel: 3 }) })))).toBe("ELIGIBLE");
  });

  it("accepts a client risk below the advisor's scope", () => {
    expect(reasonOf(checkEligibility(input({ request: request({ riskLevel: 1 }) })))).toBe("ELIGIBLE");
  });

  it("rejects a client risk above the advisor's scope", () => {
    const result = checkEligibility(input({ request: request({ riskLevel: 4 }) }));
    expect(reasonOf(result)).toBe("SUITABILITY");
    expect(detailOf(result)).toBe("risk 4 above scope 3");
  });
});

describe("checkEligibility: LANGUAGE", () => {
  it("accepts any advisor when no language is requested", () => {
    const result = checkEligibility(input({ advisor: advisor({ languages: [] }), request: request({ language: null }) }));
    expect(reasonOf(result)).toBe("ELIGIBLE");
    expect(result.eligible && result.snapshot.language).toEqual({ requested: null, advisor: [] });
  });

  it("matches languages case-insensitively in both directions", () => {
    expect(reasonOf(checkEligibility(input({ request: request({ language: "FR" }) })))).toBe("ELIGIBLE");
    const upper = advisor({ languages: ["EN"] });
    expect(reasonOf(checkEligibility(input({ advisor: upper, request: request({ language: "en" }) })))).toBe("ELIGIBLE");
  });

  it("rejects an advisor who does not speak the requested language", () => {
    const result = checkEligibility(input({ request: request({ language: "de" }) }));
    expect(reasonOf(result)).toBe("LANGUAGE");
    expect(detailOf(result)).toBe("language de not in [en, fr]");
  });

  it("does not match on a prefix or substring", () => {
    const result = checkEligibility(input({ advisor: advisor({ languages: ["en-GB"] }), request: request({ language: "en" }) }));
    expect(reasonOf(result)).toBe("LANGUAGE");
  });
});

describe("checkEligibility: rule order", () => {
  // Each entry breaks exactly one rule. Applied together, the first in order must be reported;
  // repairing failures one at a time must reveal the next rule in order.
  const breakers: Record<IneligibleReason, (i: EligibilityInput) => EligibilityInput> = {
    EXCLUDED: (i) => ({ ...i, excluded: true }),
    STATUS: (i) => ({ ...i, advisor: { ...i.advisor, status: "suspended" } }),
    PRESENCE: (i) => ({ ...i, supply: { ...i.supply, heartbeatAt: NOW - TTL } }),
    CAPACITY: (i) => ({ ...i, supply: { ...i.supply, active: 3 } }),
    LICENCE: (i) => ({ ...i, advisor: { ...i.advisor, licences: [licence({ validUntil: NOW })] } }),
    SUITABILITY: (i) => ({ ...i, request: { ...i.request, riskLevel: 5 } }),
    LANGUAGE: (i) => ({ ...i, request: { ...i.request, language: "ja" } }),
  };

  it("lists the reasons in check order", () => {
    expect(INELIGIBLE_REASONS).toEqual(["EXCLUDED", "STATUS", "PRESENCE", "CAPACITY", "LICENCE", "SUITABILITY", "LANGUAGE"]);
  });

  it.each(INELIGIBLE_REASONS.map((reason, index) => [reason, index] as const))("reports %s when it and every later rule fail", (reason, index) => {
    const failing = INELIGIBLE_REASONS.slice(index).reduce((acc, r) => breakers[r](acc), input());
    expect(reasonOf(checkEligibility(failing))).toBe(reason);
  });

  it.each(INELIGIBLE_REASONS.map((reason) => [reason] as const))("each breaker alone yields %s", (reason) => {
    expect(reasonOf(checkEligibility(breakers[reason](input())))).toBe(reason);
  });

  it("reports the earlier rule when two rules fail out of sequence", () => {
    // LANGUAGE and STATUS both fail: STATUS comes first even though LANGUAGE was broken first.
    const failing = breakers.STATUS(breakers.LANGUAGE(input()));
    expect(reasonOf(checkEligibility(failing))).toBe("STATUS");
  });
});

describe("explainExclusions", () => {
  const ineligible = (reason: IneligibleReason): EligibilityResult => ({ eligible: false, reason, detail: "x" });

  it("has every reason key, all empty, when nobody was excluded", () => {
    const eligible = checkEligibility(input());
    expect(explainExclusions([])).toEqual({
      EXCLUDED: [],
      STATUS: [],
      PRESENCE: [],
      CAPACITY: [],
      LICENCE: [],
      SUITABILITY: [],
      LANGUAGE: [],
    });
    expect(explainExclusions([{ advisorId: "a", result: eligible }])).toEqual(explainExclusions([]));
  });

  it("groups excluded advisors by rule, keeps input order, and leaves eligible advisors out", () => {
    const eligible = checkEligibility(input());
    const grouped = explainExclusions([
      { advisorId: "c", result: ineligible("LICENCE") },
      { advisorId: "ok-1", result: eligible },
      { advisorId: "a", result: ineligible("CAPACITY") },
      { advisorId: "b", result: ineligible("LICENCE") },
      { advisorId: "d", result: ineligible("EXCLUDED") },
      { advisorId: "ok-2", result: eligible },
    ]);
    expect(grouped).toEqual({
      EXCLUDED: ["d"],
      STATUS: [],
      PRESENCE: [],
      CAPACITY: ["a"],
      LICENCE: ["c", "b"],
      SUITABILITY: [],
      LANGUAGE: [],
    });
  });

  it("works on real checkEligibility results", () => {
    const grouped = explainExclusions([
      { advisorId: "away", result: checkEligibility(input({ supply: supply({ presence: "away" }) })) },
      { advisorId: "polyglot-not", result: checkEligibility(input({ request: request({ language: "ja" }) })) },
      { advisorId: "fine", result: checkEligibility(input()) },
    ]);
    expect(grouped.PRESENCE).toEqual(["away"]);
    expect(grouped.LANGUAGE).toEqual(["polyglot-not"]);
    expect(Object.values(grouped).flat()).not.toContain("fine");
  });

  it("returns fresh arrays on each call", () => {
    const first = explainExclusions([{ advisorId: "a", result: ineligible("STATUS") }]);
    first.STATUS.push("mutated");
    expect(explainExclusions([]).STATUS).toEqual([]);
  });
});
