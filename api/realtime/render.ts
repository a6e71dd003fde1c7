/**
 * Rendering stub envelopes (Envelope.render) where they are delivered. Renders of the same stub
 * (the same message) run one at a time: a stub that arrives while its render runs makes it render
 * once more afterwards, so the last message sent reflects every stub that arrived, and a burst of
 * updates to one request costs two reads, not one per update.
 */
import type { Logger } from "../../core/logger.ts";
import type { Envelope } from "./fanout.ts";

/** Makes the envelope a stub stands for, or null when there is nothing to send. */
export type Render = (stub: Envelope) => Promise<Envelope | null>;

export interface StubRenderer {
  /** Renders the stub (now, or after the render of the same stub under way) and hands the result to `deliver`. */
  render(stub: Envelope): void;
}

export function stubRenderer(render: Render, deliver: (envelope: Envelope) => void, logger: Logger): StubRenderer {
  const running = new Map<string, { again: boolean }>();

  async function loop(key: string, stub: Envelope, state: { again: boolean }): Promise<void> {
    try {
      while (state.again) {
        state.again = false;
        const rendered = await render(stub);
        // Only where the stub was addressed: a renderer cannot widen who receives what.
        const to = rendered ? rendered.to.filter((address) => stub.to.includes(address)) : [];
        if (rendered && to.length > 0) deliver({ to, message: rendered.message });
      }
    } catch (error) {
      logger.error({ err: error, type: stub.message.type }, "realtime render failed");
    } finally {
      running.delete(key);
    }
  }

  return {
    render(stub) {
      const key = JSON.stringify([stub.to, stub.message]);
      const state = running.get(key);
      if (state) {
        state.again = true;
        return;
      }
      const started = { again: true };
      running.set(key, started);
      void loop(key, stub, started);
    },
  };
}
