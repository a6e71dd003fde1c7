/**
 * The Sentinel connection (platform/redisSentinel.ts) on its own: after the primary is killed, the
 * same handle reaches the promoted replica without being reopened; commands fail meanwhile with
 * errors the API maps to 503; a script loaded on the old master runs again (NOSCRIPT, then EVAL);
 * a pub/sub duplicate made before the failover receives what is published after it; a failed start
 * names the Sentinels' answers.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RedisHandle } from "../../platform/redis.ts";
import { connectRedisSentinel } from "../../platform/redisSentinel.ts";
import { isUnavailable } from "../../platform/unavailable.ts";
import { probeRedisServer, startSentinelCluster, type SentinelCluster } from "../support/sentinelCluster.ts";
import { freePort } from "../support/server.ts";
import { describeWithServices } from "../support/services.ts";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithServices("Redis through Sentinel", [probeRedisServer()], () => {
  let cluster: SentinelCluster;
  let redis: RedisHandle;
  const switches: string[] = [];

  beforeAll(async () => {
    cluster = await startSentinelCluster({ downAfterMs: 1_000, failoverTimeoutMs: 60_000 });
    const sentinels = cluster.sentinels.split(",").map((s) => ({ host: "127.0.0.1", port: Number(s.split(":")[1]) }));
    redis = await connectRedisSentinel({ sentinels, masterName: cluster.masterName }, () => {}, {
      timeoutMs: 1_000,
      onSwitch: (from, to) => switches.push(`${from} -> ${to}`),
    });
  }, 60_000);

  afterAll(async () => {
    await redis?.close().catch(() => {});
    await cluster?.stop();
  });

  it("refuses to start with one line naming why when no Sentinel answers", async () => {
    const port = await freePort();
    await expect(connectRedisSentinel({ sentinels: [{ host: "127.0.0.1", port }], masterName: "m" }, () => {}, { timeoutMs: 300 })).rejects.toThrow(
      new RegExp(`no Sentinel named the master of m \\(127\\.0\\.0\\.1:${port}: `),
    );
  });

  it("follows the master across a failover: commands, scripts and subscriptions carry on", async () => {
    expect(redis.location).toBe(`sentinel ${cluster.masterName} via ${cluster.sentinels}`);
    const script = "return redis.call('INCR', KEYS[1])";
    const sha = await redis.client.scriptLoad(script);
    expect(await redis.client.evalSha(sha, { keys: ["n"] })).toBe(1);

    const subscriber = redis.client.duplicate();
    subscriber.on("error", () => {});
    await subscriber.connect();
    const received: string[] = [];
    await subscriber.subscribe("ch", (message) => received.push(message));
    await redis.client.publish("ch", "before");

    const killedAt = Date.now();
    await cluster.killNode(cluster.primaryPort);
    const failures: unknown[] = [];
    let backAfter: number | null = null;
    while (Date.now() - killedAt < 20_000) {
      try {
        await redis.client.set("after", "1");
        backAfter = Date.now() - killedAt;
        break;
      } catch (error) {
        failures.push(error);
        await pause(100);
      }
    }
    console.log(`sentinel connection: back ${backAfter} ms after the kill, ${failures.length} failed commands meanwhile; ${switches.join(", ")}`);
    expect(backAfter, "commands reach the new master").not.toBeNull();
    expect(switches).toEqual([`127.0.0.1:${cluster.primaryPort} -> 127.0.0.1:${cluster.replicaPort}`]);
    expect(await cluster.currentMasterPort()).toBe(cluster.replicaPort);
    expect(failures.filter((e) => !isUnavailable(e)).map(String), "every failure meanwhile is one the API answers with 503").toEqual([]);

    // The replica had the key and the script's effect, not necessarily the script: EVALSHA may answer NOSCRIPT.
    const again = await redis.client.evalSha(sha, { keys: ["n"] }).catch(async (error: Error) => {
      expect(error.message).toMatch(/^NOSCRIPT/);
      return redis.client.eval(script, { keys: ["n"] });
    });
    expect(again).toBe(2);

    // The subscriber moved to the new master too.
    for (let i = 0; i < 50 && !received.includes("after"); i++) {
      await redis.client.publish("ch", "after");
      await pause(100);
    }
    expect(received).toContain("before");
    expect(received).toContain("after");
    await subscriber.quit();
    await redis.ping();
  }, 60_000);
});
