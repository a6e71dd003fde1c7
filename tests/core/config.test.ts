import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, redactUrl } from "../../core/config.ts";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("config", () => {
  it("defaults to the embedded setup with dev auth and demo data", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, embedded: true, devAuth: true, seedDemo: true, dataDir: "./data", logLevel: "info" });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.jwtSecretIsEphemeral).toBe(true);
    expect(config.jwtSecret.length).toBeGreaterThanOrEqual(32);
  });

  it("names the variable and the bad value", () => {
    expect(problemsOf({ PORT: "abc" })).toEqual(['PORT must be a whole number from 0 to 65535 (got "abc")']);
    expect(problemsOf({ PORT: "70000" })[0]).toMatch(/^PORT /);
    expect(problemsOf({ LOG_LEVEL: "loud" })[0]).toMatch(/^LOG_LEVEL /);
    expect(problemsOf({ DEV_AUTH: "maybe" })[0]).toMatch(/^DEV_AUTH /);
  });

  it("never echoes secrets or URLs in its messages", () => {
    const problems = problemsOf({ JWT_SECRET: "short-secret", DATABASE_URL: "mysql://u:pw@h/db" });
    expect(problems.join("\n")).not.toMatch(/short-secret|pw@/);
    expect(problems.map((p) => p.split(" ")[0]).sort()).toEqual(["DATABASE_URL", "JWT_SECRET"]);
  });

  it("switches to PostgreSQL + Redis when both URLs are set, without dev auth", () => {
    const config = loadConfig({ DATABASE_URL: "postgresql://u@h:5432/db", REDIS_URL: "redis://h:6379" });
    expect(config).toMatchObject({ embedded: false, devAuth: false, seedDemo: false });
  });

  it("finds Redis through Sentinel: the addresses and the master name together, never with REDIS_URL", () => {
    const config = loadConfig({
      DATABASE_URL: "postgresql://u@h:5432/db",
      REDIS_SENTINELS: "s1:26379, 10.0.0.2:26380,[::1]:26381",
      REDIS_SENTINEL_MASTER: "adx-main",
      REDIS_PASSWORD: "node-pw",
    });
    expect(config.redisUrl).toBeUndefined();
    expect(config.redisSentinel).toEqual({
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "10.0.0.2", port: 26380 },
        { host: "::1", port: 26381 },
      ],
      masterName: "adx-main",
      password: "node-pw",
    });
    expect(loadConfig({ REDIS_URL: "redis://h:6379" }).redisSentinel).toBeUndefined();

    expect(problemsOf({ REDIS_URL: "redis://h:6379", REDIS_SENTINELS: "s1:26379", REDIS_SENTINEL_MASTER: "m" })).toEqual([
      "REDIS_URL cannot be combined with REDIS_SENTINELS/REDIS_SENTINEL_MASTER: set one or the other",
    ]);
    expect(problemsOf({ REDIS_SENTINELS: "s1:26379" })[0]).toMatch(/^REDIS_SENTINEL_MASTER is required/);
    expect(problemsOf({ REDIS_SENTINEL_MASTER: "m" })[0]).toMatch(/^REDIS_SENTINELS is required/);
    expect(problemsOf({ REDIS_SENTINELS: "s1", REDIS_SENTINEL_MASTER: "m" })[0]).toMatch(/^REDIS_SENTINELS must be a comma-separated list of host:port/);
    // A bad value next to a password: the password is never echoed.
    const problems = problemsOf({ REDIS_SENTINELS: "s1:x", REDIS_SENTINEL_MASTER: "m", REDIS_SENTINEL_PASSWORD: "sentinel-pw", PORT: "no" });
    expect(problems.join("\n")).not.toMatch(/sentinel-pw/);
  });

  it("refuses dev auth and a missing secret in production", () => {
    const problems = problemsOf({ NODE_ENV: "production", DEV_AUTH: "true", DATABASE_URL: "postgresql://h/db" });
    expect(problems.map((p) => p.split(" ")[0]).sort()).toEqual(["DEV_AUTH", "JWT_SECRET"]);
    const ok = loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(32), DATABASE_URL: "postgresql://h/db" });
    expect(ok.devAuth).toBe(false);
  });

  it("treats empty variables as unset", () => {
    expect(loadConfig({ PORT: "", DATABASE_URL: "" })).toMatchObject({ port: 3000, embedded: true });
  });

  it("reads the per-minute rate limits as positive whole numbers, defaulting to 30 creates and 120 accepts", () => {
    expect(loadConfig({}).rateLimits).toEqual({ requestsPerMinute: 30, acceptsPerMinute: 120 });
    expect(loadConfig({ RATE_LIMIT_REQUESTS_PER_MINUTE: "5", RATE_LIMIT_ACCEPTS_PER_MINUTE: "" }).rateLimits).toEqual({
      requestsPerMinute: 5,
      acceptsPerMinute: 120,
    });
    expect(problemsOf({ RATE_LIMIT_REQUESTS_PER_MINUTE: "0" })[0]).toMatch(/^RATE_LIMIT_REQUESTS_PER_MINUTE .*\(got "0"\)$/);
    expect(problemsOf({ RATE_LIMIT_ACCEPTS_PER_MINUTE: "-1" })[0]).toMatch(/^RATE_LIMIT_ACCEPTS_PER_MINUTE /);
    expect(problemsOf({ RATE_LIMIT_ACCEPTS_PER_MINUTE: "2.5" })[0]).toMatch(/^RATE_LIMIT_ACCEPTS_PER_MINUTE /);
  });

  it("reads the pool size and the PostgreSQL and Redis bounds, defaulting to 10 connections and 2 s each", () => {
    expect(loadConfig({})).toMatchObject({ database: { poolSize: 10, timeoutMs: 2_000 }, redis: { timeoutMs: 2_000 } });
    const set = loadConfig({ DATABASE_POOL_SIZE: "4", DATABASE_TIMEOUT_MS: "750", REDIS_TIMEOUT_MS: "" });
    expect(set).toMatchObject({ database: { poolSize: 4, timeoutMs: 750 }, redis: { timeoutMs: 2_000 } });
    expect(loadConfig({}).database.preparedStatements).toBe(true);
    expect(loadConfig({ DATABASE_PREPARED_STATEMENTS: "false" }).database.preparedStatements).toBe(false);
    expect(problemsOf({ DATABASE_PREPARED_STATEMENTS: "sometimes" })[0]).toMatch(/^DATABASE_PREPARED_STATEMENTS /);
    expect(problemsOf({ DATABASE_POOL_SIZE: "0" })[0]).toMatch(/^DATABASE_POOL_SIZE .*\(got "0"\)$/);
    expect(problemsOf({ DATABASE_POOL_SIZE: "ten" })[0]).toMatch(/^DATABASE_POOL_SIZE /);
    expect(problemsOf({ DATABASE_POOL_SIZE: "5000" })[0]).toMatch(/^DATABASE_POOL_SIZE must be at most 1000/);
    expect(problemsOf({ DATABASE_TIMEOUT_MS: "50" })[0]).toMatch(/^DATABASE_TIMEOUT_MS must be from 100 to 60000 milliseconds \(got "50"\)$/);
    expect(problemsOf({ DATABASE_TIMEOUT_MS: "2s" })[0]).toMatch(/^DATABASE_TIMEOUT_MS /);
    expect(problemsOf({ REDIS_TIMEOUT_MS: "600000" })[0]).toMatch(/^REDIS_TIMEOUT_MS must be from 100 to 60000/);
    expect(problemsOf({ REDIS_TIMEOUT_MS: "-1" })[0]).toMatch(/^REDIS_TIMEOUT_MS /);
  });

  it("reads the journal's backpressure bounds, defaulting to 5,000 entries and 5 s", () => {
    expect(loadConfig({})).toMatchObject({ journal: { maxLagEntries: 5_000, maxLagMs: 5_000 } });
    expect(loadConfig({ JOURNAL_MAX_LAG_ENTRIES: "200", JOURNAL_MAX_LAG_MS: "1500" })).toMatchObject({ journal: { maxLagEntries: 200, maxLagMs: 1_500 } });
    expect(problemsOf({ JOURNAL_MAX_LAG_ENTRIES: "0" })[0]).toMatch(/^JOURNAL_MAX_LAG_ENTRIES /);
    expect(problemsOf({ JOURNAL_MAX_LAG_ENTRIES: "2000000" })[0]).toMatch(/^JOURNAL_MAX_LAG_ENTRIES must be at most 1000000/);
    expect(problemsOf({ JOURNAL_MAX_LAG_MS: "50" })[0]).toMatch(/^JOURNAL_MAX_LAG_MS must be from 100 to 600000 milliseconds/);
  });

  it("redacts passwords from URLs it logs", () => {
    expect(redactUrl("postgresql://user:secret@db:5432/x")).toBe("postgresql://user:***@db:5432/x");
  });
});
