/**
 * The people of a DayScript on the real server's HTTP API, each with their own token: advisors'
 * phones reporting presence, receiving offers and answering them, completing; clients asking,
 * cancelling and rating. Any refusal (a status of 300 or more) throws: the script was written for
 * this engine, so a refusal means the day went otherwise than planned.
 *
 * An offer reaches its advisor from the event bus (offer.sent), as the realtime hub delivers it to
 * their phone: GET /v1/advisors/me/offers filters on the wall clock, and the scripted day is in the
 * past. Each phone reports its presence every 20 s while not offline (the server's presence lapses
 * after 45 s); a report of "available" also offers the advisor queued requests, as the simulator's
 * heartbeat does.
 */
import type { AppDeps } from "../../../api/context.ts";
import { issueToken, type Principal } from "../../../api/auth/principal.ts";
import { advisorRoutes } from "../../../api/routes/advisors.ts";
import { requestRoutes } from "../../../api/routes/requests.ts";
import type { ManualClock } from "../../../core/clock.ts";
import type { Presence } from "../../../matching/domain/types.ts";
import type { DomainEvent } from "../../../matching/events.ts";
import type { Agenda } from "../../../simulation/agenda.ts";
import { HEARTBEAT_MS } from "../../../simulation/behaviour.ts";
import type { DayScript, ScriptedRequest } from "../../../simulation/script.ts";
import { createTestApp } from "../../support/testApp.ts";

export type Step =
  | { kind: "presence"; advisorId: string; presence: Presence }
  | { kind: "arrive"; request: ScriptedRequest }
  | { kind: "heartbeat" }
  | { kind: "answer"; offerId: string; advisorId: string; answer: "accept" | "decline"; request: ScriptedRequest }
  | { kind: "complete"; requestId: string; advisorId: string; request: ScriptedRequest }
  | { kind: "rate"; requestId: string; clientId: string; stars: number }
  | { kind: "cancel"; requestId: string; clientId: string };

export class HttpPeople {
  /** HTTP calls made, by what they did. */
  readonly calls: Record<string, number> = {};
  private readonly app: ReturnType<typeof createTestApp>;
  private readonly tokens = new Map<string, string>();
  private readonly branchOf: Map<string, string>;
  private readonly byClient: Map<string, ScriptedRequest>;
  private readonly requestOf = new Map<string, ScriptedRequest>();
  private readonly sent = new Map<string, number>();
  private readonly presence = new Map<string, Presence>();

  constructor(
    private readonly deps: AppDeps,
    private readonly clock: ManualClock,
    private readonly agenda: Agenda<Step>,
    private readonly script: DayScript,
  ) {
    this.app = createTestApp(deps, requestRoutes(deps), advisorRoutes(deps));
    this.branchOf = new Map(script.advisors.map((a) => [a.id, a.branchId]));
    this.byClient = new Map(script.requests.map((r) => [r.clientId, r]));
    deps.matching.bus.subscribe((event) => this.observe(event));
  }

  /** The day's requests so far, by id. */
  requestIds(): Iterable<string> {
    return this.requestOf.keys();
  }

  scheduleDay(): void {
    const { presence, requests, dayStart } = this.script;
    for (const change of presence) this.agenda.add(change.at, { kind: "presence", advisorId: change.advisorId, presence: change.presence });
    for (const request of requests) this.agenda.add(request.at, { kind: "arrive", request });
    if (!presence.length) return;
    const times = presence.map((c) => c.at);
    const first = dayStart + Math.ceil((Math.min(...times) - dayStart) / HEARTBEAT_MS) * HEARTBEAT_MS;
    for (let t = first; t <= Math.max(...times); t += HEARTBEAT_MS) this.agenda.add(t, { kind: "heartbeat" });
  }

  private observe(event: DomainEvent): void {
    if (event.type === "request.created") {
      const request = this.byClient.get(event.clientId);
      if (request) this.requestOf.set(event.requestId, request);
      return;
    }
    if (event.type !== "offer.sent") return;
    const request = this.requestOf.get(event.requestId);
    if (!request) return;
    const index = this.sent.get(event.requestId) ?? 0;
    this.sent.set(event.requestId, index + 1);
    const scripted = request.answers[index];
    if (!scripted) return;
    this.agenda.add(this.clock.now() + scripted.afterMs, {
      kind: "answer",
      offerId: event.offerId,
      advisorId: event.advisorId,
      answer: scripted.answer,
      request,
    });
  }

  async perform(step: Step): Promise<void> {
    switch (step.kind) {
      case "presence":
        this.presence.set(step.advisorId, step.presence);
        await this.call("presence", "PUT", "/v1/advisors/me/presence", this.advisor(step.advisorId), { status: step.presence });
        return;
      case "heartbeat":
        for (const { id } of this.script.advisors) {
          const reported = this.presence.get(id);
          if (reported && reported !== "offline") await this.call("heartbeat", "PUT", "/v1/advisors/me/presence", this.advisor(id), { status: reported });
        }
        return;
      case "arrive":
        return this.arrive(step.request);
      case "answer":
        return this.answer(step);
      case "complete": {
        await this.call("complete", "POST", `/v1/requests/${step.requestId}/complete`, this.advisor(step.advisorId));
        const rating = step.request.rating;
        if (rating)
          this.agenda.add(this.clock.now() + rating.afterMs, { kind: "rate", requestId: step.requestId, clientId: step.request.clientId, stars: rating.stars });
        return;
      }
      case "rate":
        await this.call("rate", "POST", `/v1/requests/${step.requestId}/rating`, this.client(step.clientId), { stars: step.stars });
        return;
      case "cancel":
        await this.call("cancel", "POST", `/v1/requests/${step.requestId}/cancel`, this.client(step.clientId));
        return;
    }
  }

  private async arrive(request: ScriptedRequest): Promise<void> {
    const body = { topic: "scripted", requiredLicence: request.requiredLicence, channel: "chat", mode: "auto", language: request.language };
    const created = await this.call("create", "POST", "/v1/requests", this.client(request.clientId), body);
    if (request.cancelAfterMs !== undefined) {
      this.agenda.add(request.at + request.cancelAfterMs, { kind: "cancel", requestId: String(created.id), clientId: request.clientId });
    }
  }

  private async answer(step: Extract<Step, { kind: "answer" }>): Promise<void> {
    const who = this.advisor(step.advisorId);
    if (step.answer === "decline") {
      await this.call("decline", "POST", `/v1/offers/${step.offerId}/decline`, who);
      return;
    }
    const accepted = await this.call("accept", "POST", `/v1/offers/${step.offerId}/accept`, who);
    const { handleMs } = step.request;
    if (handleMs !== undefined) {
      this.agenda.add(this.clock.now() + handleMs, {
        kind: "complete",
        requestId: String(accepted.requestId),
        advisorId: step.advisorId,
        request: step.request,
      });
    }
  }

  private advisor(id: string): Principal {
    return { sub: id, role: "advisor", branchId: this.branchOf.get(id)! };
  }

  private client(id: string): Principal {
    return { sub: id, role: "client" };
  }

  private async call(what: string, method: string, path: string, principal: Principal, body?: unknown): Promise<Record<string, unknown>> {
    let token = this.tokens.get(principal.sub);
    if (!token) {
      token = await issueToken(principal, this.deps.config.jwtSecret);
      this.tokens.set(principal.sub, token);
    }
    const res = await this.app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    this.calls[what] = (this.calls[what] ?? 0) + 1;
    if (res.status >= 300)
      throw new Error(`${what}: ${method} ${path} at ${new Date(this.clock.now()).toISOString()} answered ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  }
}
