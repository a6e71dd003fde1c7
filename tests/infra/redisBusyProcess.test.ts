/**
 * The Redis command deadline measures Redis, not our own event loop: when the process is too busy to
 * read its socket for longer than the deadline, a reply that has already arrived still settles the
 * command instead of a spurious timeout (seen under overload, where thousands of such timeouts
 * replaced healthy connections).
 */
import { expect, it } from "vitest";
import { connectRedis } from "../../platform/redis.ts";
import { describeWithServices, probeRedis, TEST_REDIS_URL } from "../support/services.ts";

describeWithServices("Redis deadline in a busy process", [await probeRedis()], () => {
  it("a reply that arrived while the event loop was blocked past the deadline still answers the command", async () => {
    const redis = await connectRedis(TEST_REDIS_URL, () => {}, { timeoutMs: 200 });
    try {
      const pending = Array.from({ length: 20 }, (_, i) => redis.client.echo(`still here ${i}`));
      // Busy for twice the deadline: the replies come in meanwhile, unread.
      const until = Date.now() + 400;
      while (Date.now() < until);
      expect(await Promise.all(pending)).toEqual(Array.from({ length: 20 }, (_, i) => `still here ${i}`));
      expect(await redis.client.ping()).toBe("PONG");
    } finally {
      await redis.close();
    }
  });
});
