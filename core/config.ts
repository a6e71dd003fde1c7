/**
 * The process configuration, parsed once from the environment with one zod schema. A bad value fails
 * fast with a message that names the variable; nothing downstream reads process.env.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Environment variables that are set but empty count as unset, as a shell user would expect. */
const optionalString = z.preprocess((v) => (v === "" ? undefined : v), z.string().optional());

const booleanFlag = z
  .preprocess((v) => (v === "" ? undefined : v), z.enum(["true", "false", "1", "0", "on", "off", "yes", "no"]).optional())
  .transform((v) => (v === undefined ? undefined : ["true", "1", "on", "yes"].includes(v)));

const port = z.preprocess(
  (v) => (v === "" || v === undefined ? undefined : v),
  z
    .string()
    .regex(/^\d+$/, "must be a whole number from 0 to 65535")
    .transform(Number)
    .pipe(z.number().int().min(0, "must be a whole number from 0 to 65535").max(65535, "must be a whole number from 0 to 65535"))
    .optional(),
);

const positiveInt = (fallback: number) =>
  z
    .preprocess(
      (v) => (v === "" || v === undefined ? undefined : v),
      z.string().regex(/^\d+$/, "must be a positive whole number").transform(Number).pipe(z.number().int().positive()).optional(),
    )
    .transform((v) => v ?? fallback);

/**
 * Defaults of the dependency bounds (see platform/database.ts and platform/redis.ts), exported so tools
 * that open a database or Redis outside the server get the same bounds.
 */
export const DEFAULT_DATABASE_POOL_SIZE = 10;
export const DEFAULT_DATABASE_TIMEOUT_MS = 2_000;
export const DEFAULT_REDIS_TIMEOUT_MS = 2_000;

/** A bound on a dependency call: long enough for a loaded but healthy service, short enough for an interactive API. */
const timeoutMs = (fallback: number) => positiveInt(fallback).refine((v) => v >= 100 && v <= 60_000, "must be from 100 to 60000 milliseconds");

/** One Sentinel address: a host name, an IPv4 address or a bracketed IPv6 one, and a port. */
const SENTINEL_NODE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/;

const EnvSchema = z
  .object({
    NODE_ENV: z.preprocess((v) => (v === "" ? undefined : v), z.enum(["development", "test", "production"]).default("development")),
    HOST: optionalString.transform((v) => v ?? "0.0.0.0"),
    PORT: port.transform((v) => v ?? 3000),
    DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\/.+/.test(v), "must be a postgres:// or postgresql:// URL"),
    REDIS_URL: optionalString.refine((v) => v === undefined || /^rediss?:\/\/.+/.test(v), "must be a redis:// or rediss:// URL"),
    REDIS_SENTINELS: optionalString.refine(
      (v) => v === undefined || v.split(",").every((node) => SENTINEL_NODE.test(node.trim())),
      "must be a comma-separated list of host:port (e.g. s1:26379,s2:26379,s3:26379)",
    ),
    REDIS_SENTINEL_MASTER: optionalString.refine((v) => v === undefined || /^[A-Za-z0-9_.-]{1,128}$/.test(v), "must be 1-128 letters, digits or _ . -"),
    REDIS_PASSWORD: optionalString,
    REDIS_SENTINEL_PASSWORD: optionalString,
    REDIS_PREFIX: optionalString
      .refine((v) => v === undefined || /^[A-Za-z0-9_:.-]{1,64}$/.test(v), "must be 1-64 letters, digits or _ : . -")
      .transform((v) => v ?? "adx:"),
    DATA_DIR: optionalString.transform((v) => v ?? "./data"),
    JWT_SECRET: optionalString.refine((v) => v === undefined || v.length >= 32, "must be at least 32 characters"),
    JWT_MAX_TTL_SECONDS: positiveInt(24 * 3600),
    JWT_ISSUER: optionalString.refine((v) => v === undefined || v.length <= 256, "must be at most 256 characters"),
    JWT_AUDIENCE: optionalString.refine((v) => v === undefined || v.length <= 256, "must be at most 256 characters"),
    LOG_LEVEL: z.preprocess((v) => (v === "" ? undefined : v), z.enum(LOG_LEVELS).default("info")),
    DEV_AUTH: booleanFlag,
    SEED_DEMO: booleanFlag,
    SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
    CRON_LEASE_MS: positiveInt(15_000),
    INCENTIVE_EVALUATION_SECONDS: z
      .preprocess(
        (v) => (v === "" || v === undefined ? undefined : v),
        z.string().regex(/^\d+$/, "must be a whole number of seconds").transform(Number).optional(),
      )
      .transform((v) => v ?? 2)
      .refine((v) => v === 0 || (v <= 60 && 60 % v === 0), "must be 0 (off) or a divisor of 60"),
    AUDIT_RETENTION_DAYS: positiveInt(2190).refine((v) => v >= 365, "must be at least 365 days"),
    RATE_LIMIT_REQUESTS_PER_MINUTE: positiveInt(30),
    RATE_LIMIT_ACCEPTS_PER_MINUTE: positiveInt(120),
    DATABASE_POOL_SIZE: positiveInt(DEFAULT_DATABASE_POOL_SIZE).refine((v) => v <= 1_000, "must be at most 1000 connections"),
    DATABASE_TIMEOUT_MS: timeoutMs(DEFAULT_DATABASE_TIMEOUT_MS),
    DATABASE_PREPARED_STATEMENTS: booleanFlag,
    REDIS_TIMEOUT_MS: timeoutMs(DEFAULT_REDIS_TIMEOUT_MS),
    JOURNAL_MAX_LAG_ENTRIES: positiveInt(5_000).refine((v) => v <= 1_000_000, "must be at most 1000000 entries"),
    MAX_CREATES_IN_FLIGHT: positiveInt(64).refine((v) => v <= 100_000, "must be at most 100000"),
    JOURNAL_MAX_LAG_MS: positiveInt(5_000).refine((v) => v >= 100 && v <= 600_000, "must be from 100 to 600000 milliseconds"),
  })
  .superRefine((env, ctx) => {
    // One way to find Redis: a URL, or Sentinel's addresses and the name of the master they watch.
    if (env.REDIS_URL && (env.REDIS_SENTINELS || env.REDIS_SENTINEL_MASTER)) {
      ctx.addIssue({ code: "custom", path: ["REDIS_URL"], message: "cannot be combined with REDIS_SENTINELS/REDIS_SENTINEL_MASTER: set one or the other" });
    } else if (env.REDIS_SENTINELS && !env.REDIS_SENTINEL_MASTER) {
      ctx.addIssue({ code: "custom", path: ["REDIS_SENTINEL_MASTER"], message: "is required with REDIS_SENTINELS (the master name the Sentinels monitor)" });
    } else if (env.REDIS_SENTINEL_MASTER && !env.REDIS_SENTINELS) {
      ctx.addIssue({ code: "custom", path: ["REDIS_SENTINELS"], message: "is required with REDIS_SENTINEL_MASTER (the Sentinels' host:port list)" });
    }
    if (env.NODE_ENV === "production") {
      if (!env.JWT_SECRET) ctx.addIssue({ code: "custom", path: ["JWT_SECRET"], message: "is required when NODE_ENV=production" });
      if (env.DEV_AUTH) ctx.addIssue({ code: "custom", path: ["DEV_AUTH"], message: "is refused when NODE_ENV=production" });
    }
  });

export type Env = z.input<typeof EnvSchema>;

export interface Config {
  nodeEnv: "development" | "test" | "production";
  host: string;
  port: number;
  /** Unset means embedded PGlite in dataDir. */
  databaseUrl?: string;
  /** Unset means the in-memory matching store (single process). */
  redisUrl?: string;
  /**
   * Redis found through Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_MASTER) instead of REDIS_URL: the
   * server follows the master the Sentinels name across failovers. Passwords (REDIS_PASSWORD for the
   * data nodes, REDIS_SENTINEL_PASSWORD for the Sentinels) are never logged.
   */
  redisSentinel?: RedisSentinelConfig;
  /** Namespace of every Redis key and channel, so deployments can share one Redis. */
  redisPrefix: string;
  dataDir: string;
  jwtSecret: string;
  /** True when no JWT_SECRET was given and a per-process random one is in use. */
  jwtSecretIsEphemeral: boolean;
  /** What a token must satisfy beyond its signature: an `exp` within this many seconds of its issue, and `iss`/`aud` when set. */
  jwt: { maxTtlSeconds: number; issuer?: string; audience?: string };
  logLevel: (typeof LOG_LEVELS)[number];
  devAuth: boolean;
  seedDemo: boolean;
  shutdownTimeoutMs: number;
  /** How long the scheduled-jobs lease lasts without renewal: the failover time after a crash. */
  cronLeaseMs: number;
  /** Seconds between incentive evaluation runs on the job leader; 0 turns evaluation off here. */
  incentiveEvaluationSeconds: number;
  /** Days audit entries and messages are kept before the daily retention purge deletes them (>= 365). */
  auditRetentionDays: number;
  /** Per-principal limits per minute (fixed window): creating requests, and accepting or grabbing offers. */
  rateLimits: { requestsPerMinute: number; acceptsPerMinute: number };
  /**
   * PostgreSQL connections this process may open, and the bound (ms) on connecting, on waiting for a
   * pooled connection and on each statement. Unused with embedded PGlite.
   */
  database: { poolSize: number; timeoutMs: number; preparedStatements: boolean };
  /** The bound (ms) on connecting to Redis and on each Redis command. */
  redis: { timeoutMs: number };
  /** Backpressure on creating requests while the decision journal trails (JOURNAL_MAX_LAG_ENTRIES, JOURNAL_MAX_LAG_MS). */
  journal: { maxLagEntries: number; maxLagMs: number };
  /** Load shedding: request creations this process runs at once; more answer 503 with Retry-After (MAX_CREATES_IN_FLIGHT). */
  maxCreatesInFlight: number;
  embedded: boolean;
}

export interface RedisSentinelConfig {
  sentinels: Array<{ host: string; port: number }>;
  masterName: string;
  password?: string;
  sentinelPassword?: string;
}

/** "h1:26379, [::1]:26380" as addresses; the schema has checked the shape. */
function parseSentinels(list: string): Array<{ host: string; port: number }> {
  return list.split(",").map((node) => {
    const trimmed = node.trim();
    const colon = trimmed.lastIndexOf(":");
    return { host: trimmed.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port: Number(trimmed.slice(colon + 1)) };
  });
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment into a Config, or throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? "environment");
        const raw = env[name];
        const shown = raw === undefined || /SECRET|URL|PASSWORD/.test(name) ? "" : ` (got "${raw}")`;
        return `${name} ${issue.message}${shown}`;
      }),
    );
  }
  const e = parsed.data;
  const embedded = e.DATABASE_URL === undefined;
  return {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    ...(e.REDIS_SENTINELS && e.REDIS_SENTINEL_MASTER
      ? {
          redisSentinel: {
            sentinels: parseSentinels(e.REDIS_SENTINELS),
            masterName: e.REDIS_SENTINEL_MASTER,
            ...(e.REDIS_PASSWORD ? { password: e.REDIS_PASSWORD } : {}),
            ...(e.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: e.REDIS_SENTINEL_PASSWORD } : {}),
          },
        }
      : {}),
    redisPrefix: e.REDIS_PREFIX,
    dataDir: e.DATA_DIR,
    jwtSecret: e.JWT_SECRET ?? randomBytes(32).toString("hex"),
    jwtSecretIsEphemeral: e.JWT_SECRET === undefined,
    jwt: { maxTtlSeconds: e.JWT_MAX_TTL_SECONDS, ...(e.JWT_ISSUER ? { issuer: e.JWT_ISSUER } : {}), ...(e.JWT_AUDIENCE ? { audience: e.JWT_AUDIENCE } : {}) },
    logLevel: e.LOG_LEVEL,
    // Dev tokens are a local convenience: on by default only for the embedded laptop setup.
    devAuth: e.DEV_AUTH ?? (embedded && e.NODE_ENV !== "production"),
    seedDemo: e.SEED_DEMO ?? embedded,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    cronLeaseMs: e.CRON_LEASE_MS,
    incentiveEvaluationSeconds: e.INCENTIVE_EVALUATION_SECONDS,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    rateLimits: { requestsPerMinute: e.RATE_LIMIT_REQUESTS_PER_MINUTE, acceptsPerMinute: e.RATE_LIMIT_ACCEPTS_PER_MINUTE },
    database: { poolSize: e.DATABASE_POOL_SIZE, timeoutMs: e.DATABASE_TIMEOUT_MS, preparedStatements: e.DATABASE_PREPARED_STATEMENTS ?? true },
    redis: { timeoutMs: e.REDIS_TIMEOUT_MS },
    journal: { maxLagEntries: e.JOURNAL_MAX_LAG_ENTRIES, maxLagMs: e.JOURNAL_MAX_LAG_MS },
    maxCreatesInFlight: e.MAX_CREATES_IN_FLIGHT,
    embedded,
  };
}

/** A URL with its password replaced, safe to log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<unparseable url>";
  }
}
