/**
 * The composition root of one server process: backends, matching, rate limits, metrics, the HTTP
 * app, realtime delivery and scheduled jobs, started in order and stopped in reverse.
 */
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/logger.ts";
import type { PrismaClient } from "../platform/database.ts";
import { openBackends } from "../platform/backends.ts";
import { assertPortFree, portInUseError } from "../platform/listenPort.ts";
import { startJobs } from "./jobs/scheduler.ts";
import { createMatchingRuntime } from "./matching.ts";
import { createMemoryRateLimiter } from "../platform/rateLimit/memory.ts";
import { createRedisRateLimiter } from "./rateLimit/redis.ts";
import { demoMissing, seedDemo } from "../prisma/seed/demo.ts";
import { createApp } from "../api/app.ts";
import { createPrometheusMetrics } from "./metrics/prometheus.ts";
import { tokenRules } from "../api/auth/principal.ts";
import { createAdvisorStanding } from "../api/auth/standing.ts";
import { isAdvisorOffboarded } from "../directory/advisors.ts";
import { SESSION_REVOKED } from "../api/realtime/hub.ts";
import { createLocalFanout, createRedisFanout, type Fanout } from "../api/realtime/fanout.ts";
import type { RedisClient } from "../platform/redis.ts";
import { attachRealtime, onConnectOf } from "../api/realtime/hub.ts";
import { renderClientUpdates } from "./realtime/clientUpdates.ts";
import { wireBranchFeed } from "./realtime/branchFeed.ts";
import { replayBranchPolicies } from "../simulation/replay.ts";
import { wireDemandAlerts } from "./realtime/demandAlerts.ts";
import { resendOpenOffers, wireNotifications } from "./realtime/notifications.ts";

export interface RunningServer {
  port: number;
  /**
   * The server's own database client, for tests and tools that must act on its data the way a
   * job of this process would (settle a period, say): the embedded database (PGlite) is locked to
   * the one process that opened it, so they could not open their own. Closed by stop().
   */
  prisma: PrismaClient;
  stop(): Promise<void>;
}

/** Stops taking connections and lets in-flight requests finish, cutting them after `timeoutMs`. */
async function closeHttp(server: Server, realtime: { close(): Promise<void> }, timeoutMs: number, logger: Logger): Promise<void> {
  const forced = setTimeout(() => {
    logger.warn({ timeoutMs }, "in-flight work did not finish in time; closing connections");
    server.closeAllConnections();
  }, timeoutMs);
  forced.unref();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await realtime.close();
  await closed;
  clearTimeout(forced);
}

/** Realtime delivery across processes: a Redis channel when there is Redis, else in-process. */
async function openFanout(redis: RedisClient | undefined, config: Config, logger: Logger): Promise<Fanout> {
  if (!redis) return createLocalFanout();
  return createRedisFanout(redis, `${config.redisPrefix}realtime`, (error) => logger.error({ err: error }, "realtime channel error"));
}

/** The demo data, on the first start with an empty database (SEED_DEMO). */
async function seedDemoIfMissing(prisma: PrismaClient, logger: Logger): Promise<void> {
  if (!(await demoMissing(prisma))) return;
  const { inserted } = await seedDemo(prisma);
  logger.info({ inserted }, "seeded demo data");
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  await assertPortFree(config.host, config.port);
  const backends = await openBackends(config, logger);
  try {
    const prisma = backends.database.prisma;
    if (config.seedDemo) await seedDemoIfMissing(prisma, logger);
    const matching = await createMatchingRuntime(backends, logger, { redisPrefix: config.redisPrefix, journal: config.journal });
    const redis = backends.redis?.client;
    const limiter = redis ? createRedisRateLimiter(redis, { prefix: config.redisPrefix }) : createMemoryRateLimiter();
    const metrics = createPrometheusMetrics({
      prisma,
      store: matching.store,
      clock: matching.clock,
      presenceTtlMs: matching.presenceTtlMs,
      journal: { lag: () => matching.persister.lag(1_000), reconciled: matching.engine.reconciled, supply: matching.engine.supplyReconciled },
    });
    const fanout = await openFanout(redis, config, logger);
    const unwireNotifications = wireNotifications(matching.bus, fanout, prisma, logger, { now: () => matching.clock.now() });
    const unwireAlerts = wireDemandAlerts({ bus: matching.bus, prisma, engine: matching.engine, store: matching.store, fanout, clock: matching.clock, logger });
    const branchFeed = wireBranchFeed({ bus: matching.bus, fanout, prisma, store: matching.store, clock: matching.clock, logger });

    // Every process forgets an advisor's standing when any process revokes their sessions.
    const standing = createAdvisorStanding((advisorId) => isAdvisorOffboarded(prisma, advisorId));
    fanout.onEnvelope((envelope) => {
      if (envelope.message.type === SESSION_REVOKED) standing.forget(envelope.to);
    });
    const app = createApp({ config, logger, backends, matching, limiter, metrics, fanout, standing, policyReplay: replayBranchPolicies });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s as Server)) as Server;
      // The port was free a moment ago (assertPortFree); another process may have taken it since.
      s.once("error", (error) => reject(portInUseError(error, config.host, config.port) ?? error));
    });
    // Keep idle connections longer than clients and load balancers do (60 s is common), so the
    // server is never the side that closes a keep-alive socket just as a client reuses it.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    const port = (server.address() as AddressInfo).port;
    const realtime = attachRealtime(server, {
      tokenRules: tokenRules(config),
      fanout,
      logger,
      admit: async (principal) => !(await standing.isOffboarded(principal)),
      // An advisor's open offers; a manager's branch snapshot.
      onConnect: onConnectOf(resendOpenOffers(prisma), branchFeed.onConnect),
      // A client's request updates, read where the client's socket is (clientUpdates.ts).
      render: renderClientUpdates(prisma),
    });
    matching.start();
    const jobs = startJobs({
      engine: matching.engine,
      store: matching.store,
      prisma,
      logger,
      clock: matching.clock,
      presenceTtlMs: matching.presenceTtlMs,
      leaseTtlMs: config.cronLeaseMs,
      incentiveEvaluationSeconds: config.incentiveEvaluationSeconds,
      auditRetentionDays: config.auditRetentionDays,
    });
    logger.info({ port, host: config.host, devAuth: config.devAuth }, `listening on http://${config.host}:${port}`);

    return {
      port,
      prisma,
      async stop() {
        await closeHttp(server, realtime, config.shutdownTimeoutMs, logger);
        await jobs.stop();
        await matching.stop();
        await matching.bus.drain();
        unwireNotifications();
        await unwireAlerts();
        await branchFeed.stop();
        await backends.close();
      },
    };
  } catch (error) {
    await backends.close();
    throw error;
  }
}
