import { describe, expect, it } from "vitest";
import { connectRedis } from "../../platform/redis.ts";
import { describeWithServices, probeRedis, TEST_REDIS_URL, testKeyPrefix } from "../support/services.ts";

describeWithServices("redis connection", [await probeRedis()], () => {
  it("connects, answers and closes", async () => {
    const redis = await connectRedis(TEST_REDIS_URL, () => {});
    const key = `${testKeyPrefix()}k`;
    await redis.client.set(key, "v", { EX: 10 });
    expect(await redis.client.get(key)).toBe("v");
    await redis.ping();
    await redis.close();
    expect(redis.client.isOpen).toBe(false);
  });
});

describe("redis connection failures", () => {
  it("fail fast with a clear error instead of retrying forever", async () => {
    const started = Date.now();
    await expect(connectRedis("redis://127.0.0.1:1", () => {})).rejects.toThrow(/ECONNREFUSED|could not connect/);
    expect(Date.now() - started).toBeLessThan(6_000);
  });
});
