/**
 * The Redis fan-out between server processes: every process's handlers get each envelope exactly
 * once, the publishing process's at once (before the round trip through Redis); envelopes published
 * in one callback share one message; and a handler that throws stops neither the other handlers nor
 * the publish.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createRedisFanout, type Envelope, type Fanout, MAX_ENVELOPES_PER_MESSAGE } from "../../api/realtime/fanout.ts";
import type { RedisClient } from "../../platform/redis.ts";
import { describeWithServices, probeRedis, TEST_REDIS_URL, testKeyPrefix } from "../support/services.ts";

describeWithServices("Redis fan-out", [await probeRedis()], () => {
  let client: RedisClient;
  const opened: Fanout[] = [];
  const errors: unknown[] = [];

  beforeAll(async () => {
    client = createClient({ url: TEST_REDIS_URL }) as RedisClient;
    await client.connect();
  });
  afterAll(async () => {
    await Promise.all(opened.map((fanout) => fanout.close()));
    await client.quit();
  });

  async function processes(count: number, channel: string): Promise<Array<{ fanout: Fanout; received: Envelope[] }>> {
    return Promise.all(
      Array.from({ length: count }, async () => {
        const fanout = await createRedisFanout(client, channel, (error) => errors.push(error));
        opened.push(fanout);
        const received: Envelope[] = [];
        fanout.onEnvelope((envelope) => received.push(envelope));
        return { fanout, received };
      }),
    );
  }

  /** What crosses the channel, as another subscriber sees it (raw messages, in order). */
  async function watch(channel: string): Promise<{ crossed: string[]; stop: () => Promise<unknown> }> {
    const crossed: string[] = [];
    const listener = client.duplicate();
    await listener.connect();
    await listener.subscribe(channel, (raw) => void crossed.push(raw));
    return { crossed, stop: () => listener.quit() };
  }

  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  it("delivers every envelope once on every process, on the publisher's before its round trip", async () => {
    const [a, b, c] = await processes(3, `${testKeyPrefix()}realtime`);
    const sent = Array.from({ length: 40 }, (_, i) => ({ to: [`adv_${i % 4}`], message: { type: "offer", n: i } }));
    await Promise.all(
      sent.map(async (envelope, i) => {
        const publisher = [a!, b!, c!][i % 3]!;
        const pending = publisher.fanout.publish(envelope);
        // Synchronously, before the publish's round trip: the publisher's own handlers have it.
        expect(publisher.received).toContainEqual(envelope);
        await pending;
      }),
    );
    await until(() => [a!, b!, c!].every((p) => p.received.length >= sent.length));
    await new Promise((resolve) => setTimeout(resolve, 50)); // a duplicate would arrive by now
    for (const p of [a!, b!, c!]) {
      const numbers = p.received.map((envelope) => envelope.message.n as number).sort((x, y) => x - y);
      expect(numbers).toEqual(sent.map((_, i) => i));
      // What crossed Redis arrives as published, without the fan-out's own bookkeeping.
      expect(p.received.every((envelope) => !("origin" in envelope))).toBe(true);
    }
  });

  it("envelopes published in one callback cross Redis as one message, in order; a lone one as the envelope itself", async () => {
    const channel = `${testKeyPrefix()}realtime`;
    const [a, b] = await processes(2, channel);
    const { crossed, stop } = await watch(channel);
    const turn = Array.from({ length: 5 }, (_, i) => ({ to: [`adv_${i}`], message: { type: "offer", n: i } }));
    await Promise.all(turn.map((envelope) => a!.fanout.publish(envelope)));
    const lone = { to: ["adv_9"], message: { type: "offer", n: 5 } };
    await a!.fanout.publish(lone);
    await until(() => b!.received.length === 6 && crossed.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 50)); // a duplicate would arrive by now
    expect(b!.received).toEqual([...turn, lone]);
    expect(a!.received).toEqual([...turn, lone]);
    expect(crossed).toHaveLength(2);
    expect(JSON.parse(crossed[0]!)).toEqual({ origin: expect.any(String), batch: turn });
    expect(JSON.parse(crossed[1]!)).toEqual({ ...lone, origin: expect.any(String) });
    await stop();
  });

  it("an envelope that cannot be serialised fails its own publish only; a long callback's envelopes cross in several messages, in order", async () => {
    const channel = `${testKeyPrefix()}realtime`;
    const [a, b] = await processes(2, channel);
    const { crossed, stop } = await watch(channel);
    const count = 2 * MAX_ENVELOPES_PER_MESSAGE + 5;
    const good = Array.from({ length: count }, (_, i) => ({ to: [`adv_${i % 7}`], message: { type: "offer", n: i } }));
    const bad = { to: ["adv_x"], message: { type: "offer", n: 10n } } as unknown as Envelope;
    const outcomes = await Promise.allSettled([...good.slice(0, 3), bad, ...good.slice(3)].map((envelope) => a!.fanout.publish(envelope)));
    expect(outcomes.filter((o) => o.status === "rejected").map((o) => ((o as PromiseRejectedResult).reason as Error).name)).toEqual(["TypeError"]);
    await until(() => b!.received.length === count && crossed.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(b!.received).toEqual(good);
    expect(crossed.map((raw) => (JSON.parse(raw) as { batch: unknown[] }).batch.length)).toEqual([MAX_ENVELOPES_PER_MESSAGE, MAX_ENVELOPES_PER_MESSAGE, 5]);
    await stop();
  });

  it("a message on the channel that is not an envelope is reported, and nothing is delivered", async () => {
    const channel = `${testKeyPrefix()}realtime`;
    const [a] = await processes(1, channel);
    const reported = errors.length;
    await client.publish(channel, "42");
    await client.publish(channel, "null");
    await until(() => errors.length >= reported + 2);
    expect(errors.slice(reported).map((error) => (error as Error).message)).toEqual([
      `realtime channel ${channel}: a message that is not an envelope`,
      `realtime channel ${channel}: a message that is not an envelope`,
    ]);
    expect(a!.received).toEqual([]);
  });

  it("a handler that throws is reported; the other handlers and the other processes still get it", async () => {
    const [a, b] = await processes(2, `${testKeyPrefix()}realtime`);
    a!.fanout.onEnvelope(() => {
      throw new Error("handler failed");
    });
    const reported = errors.length;
    await a!.fanout.publish({ to: ["adv_x"], message: { type: "offer.withdrawn" } });
    await until(() => b!.received.length === 1);
    expect(a!.received).toHaveLength(1);
    expect(b!.received).toHaveLength(1);
    expect(errors.slice(reported).map((error) => (error as Error).message)).toEqual(["handler failed"]);
  });
});
