/** Demand on Redis: requests, offers and the actions that decide across advisors and requests (accept, resolve, end, reopen), each one script. */
import type { RequestStatus } from "../../domain/types.ts";
import type { AcceptResult, AdvisorState, JudgedCandidate, MatchingStore, OfferRoundInput } from "../port.ts";
import { asArray, CAPACITY_REASONS, decodeAdvisor, decodeOffer, decodeOffers, decodeRequest, decodeSnapshot, eligibilityContext, must } from "./decode.ts";
import { RESPONSIVENESS_ALPHA, TERMINAL_RETENTION_SECONDS, type StoreContext } from "./context.ts";

/**
 * A broadcast candidate's judged text and snapshot for makeOffers.lua, or two empty strings: for a
 * state this store did not decode from a stored text, and for a push, which writes the advisor
 * (decoding it) anyway and would send a text per candidate down the whole ranking.
 */
function judgedArgs(textOf: StoreContext["candidateText"], kind: OfferRoundInput["kind"], judged: JudgedCandidate | undefined): [string, string] {
  const text = kind === "broadcast" && judged ? textOf(judged.state) : undefined;
  return text === undefined || !judged ? ["", ""] : [text, JSON.stringify(judged.eligibility)];
}

/** Creating and reading requests, and recording offers. */
export function requestSteps(
  ctx: StoreContext,
): Pick<MatchingStore, "createRequest" | "getRequest" | "lookupRequest" | "addOffers" | "makeOffers" | "claimOffer" | "closeOffer"> {
  const { keys, options, run, loadRequest, loadRequestIfLive, candidateText } = ctx;
  return {
    async createRequest(facts, init) {
      const outcome = await run(
        "createRequest",
        [keys.request(facts.id), keys.deadlines, keys.live],
        [JSON.stringify(facts), String(init.stageIndex), String(init.now), String(init.deadline)],
      );
      if (!outcome.ok) throw new Error("redis matching store: createRequest refused");
      // Live set and deadline are written by the script: nothing global to sync.
      return { request: must(decodeRequest(outcome.payload[0]), "request"), created: !outcome.duplicate };
    },
    async getRequest(requestId) {
      return (await loadRequest(requestId))?.value ?? null;
    },
    async lookupRequest(requestId) {
      const { request, live } = await loadRequestIfLive(requestId);
      return { request: request?.value ?? null, live };
    },
    async addOffers(requestId, stageIndex, offers, now) {
      const outcome = await run("addOffers", [keys.request(requestId)], [String(stageIndex), JSON.stringify(offers), String(now)]);
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      // pending -> offered: still live, queue score unchanged, so nothing global to sync.
      return { ok: true, request: must(decodeRequest(outcome.payload[0]), "request") };
    },
    async makeOffers(input, journal) {
      const { requestId, now, expiresAt, presenceTtlMs, language } = input;
      const outcome = await run(
        "makeOffers",
        [keys.request(requestId), keys.deadlines, keys.journal],
        [
          String(input.stageIndex),
          input.kind,
          String(input.candidates.length),
          String(input.count),
          eligibilityContext({ language }, now, presenceTtlMs),
          String(now),
          String(expiresAt),
          keys.prefix,
          options.journal && journal ? JSON.stringify(journal) : "",
          ...input.candidates.flatMap((candidate) => [candidate.advisorId, candidate.offerId, ...judgedArgs(candidateText, input.kind, candidate.judged)]),
        ],
      );
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      const [requestRaw, offersRaw, snapshotsRaw, journalId] = outcome.payload;
      const snapshots = asArray(JSON.parse(String(snapshotsRaw)));
      const offers = decodeOffers(offersRaw).map((offer, i) => ({ offer, eligibility: decodeSnapshot(JSON.stringify(snapshots[i])) }));
      // pending -> offered: still live, queue score unchanged; holds leave the index as it is.
      return { ok: true, request: must(decodeRequest(requestRaw), "request"), offers, journalId: typeof journalId === "string" ? journalId : null };
    },
    async claimOffer(requestId, offerId, advisorId, now) {
      const outcome = await run("claimOffer", [keys.request(requestId)], [offerId, advisorId, String(now)]);
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      const doc = decodeRequest(outcome.payload[0]);
      return {
        ok: true,
        request: must(doc, "request"),
        offer: decodeOffer(JSON.parse(String(outcome.payload[1]))),
        superseded: decodeOffers(outcome.payload[2]),
        duplicate: outcome.duplicate,
      };
    },
    async closeOffer(requestId, offerId, outcome, now, advisorId) {
      const result = await run("closeOffer", [keys.request(requestId)], [offerId, outcome, String(now), JSON.stringify(advisorId ?? null)]);
      if (!result.ok) {
        if (result.reason === "ALREADY_CLOSED" || result.reason === "NOT_DUE") {
          return { ok: false, reason: result.reason, offer: decodeOffer(JSON.parse(String(result.payload[0]))) };
        }
        return { ok: false, reason: result.reason };
      }
      // offered -> pending at most: still live, queue score unchanged, so nothing global to sync.
      return { ok: true, request: must(decodeRequest(result.payload[0]), "request"), offer: decodeOffer(JSON.parse(String(result.payload[1]))) };
    },
  };
}

/** The accept, one script. */
export function acceptSteps(ctx: StoreContext): Pick<MatchingStore, "acceptOffer"> {
  const { keys, options, run } = ctx;
  return {
    async acceptOffer(input, journal) {
      const { requestId, offerId, advisorId, now, presenceTtlMs, language } = input;
      const outcome = await run(
        "acceptOffer",
        [keys.request(requestId), keys.advisor(advisorId), keys.deadlines, keys.queue, keys.journal],
        [
          offerId,
          advisorId,
          eligibilityContext({ language }, now, presenceTtlMs),
          String(RESPONSIVENESS_ALPHA),
          keys.prefix,
          options.journal && journal ? JSON.stringify(journal) : "",
        ],
      );
      if (!outcome.ok) {
        if (outcome.reason === "UNKNOWN_ADVISOR") return { ok: false, reason: outcome.reason, detail: `advisor ${advisorId} is not registered` };
        if (outcome.reason === "PRESENCE")
          return { ok: false, reason: "PRESENCE", detail: String(outcome.payload[0]), unheardSinceRestore: Number(outcome.payload[1]) === 1 };
        if (CAPACITY_REASONS.has(outcome.reason))
          return { ok: false, reason: outcome.reason as Exclude<typeof outcome.reason, "UNKNOWN_ADVISOR">, detail: String(outcome.payload[0]) } as AcceptResult;
        return { ok: false, reason: outcome.reason } as AcceptResult;
      }
      const [requestRaw, offerRaw, third, fourth, , sixth] = outcome.payload;
      const request = must(decodeRequest(requestRaw), "request");
      const offer = decodeOffer(JSON.parse(String(offerRaw)));
      if (outcome.duplicate) {
        return { ok: true, request, offer, superseded: [], advisor: must(decodeAdvisor(third), "advisor"), duplicate: true, journalId: null };
      }
      const after = decodeAdvisor(fourth);
      return {
        ok: true,
        request,
        offer,
        superseded: decodeOffers(third),
        advisor: must(after, "advisor"),
        duplicate: false,
        journalId: typeof sixth === "string" ? sixth : null,
      };
    },
  };
}

/** Closing an offer (decline, timeout, withdrawal), one script. */
export function resolveSteps(ctx: StoreContext): Pick<MatchingStore, "resolveOffer"> {
  const { keys, options, run } = ctx;
  return {
    async resolveOffer(input, journal) {
      const { requestId, offerId, outcome: closeAs, now } = input;
      const outcome = await run(
        "resolveOffer",
        [keys.request(requestId), keys.deadlines, keys.journal],
        [
          offerId,
          closeAs,
          String(now),
          JSON.stringify(input.advisorId ?? null),
          String(RESPONSIVENESS_ALPHA),
          keys.prefix,
          input.deadline === undefined ? "" : String(input.deadline),
          options.journal && journal ? JSON.stringify(journal) : "",
        ],
      );
      if (!outcome.ok) {
        if (outcome.reason === "ALREADY_CLOSED" || outcome.reason === "NOT_DUE") {
          return { ok: false, reason: outcome.reason, offer: decodeOffer(JSON.parse(String(outcome.payload[0]))) };
        }
        return { ok: false, reason: outcome.reason };
      }
      const [requestRaw, offerRaw, journalId] = outcome.payload;
      // offered -> pending at most: still live, queue score unchanged; holds and answers leave the index as it is.
      return {
        ok: true,
        request: must(decodeRequest(requestRaw), "request"),
        offer: decodeOffer(JSON.parse(String(offerRaw))),
        journalId: typeof journalId === "string" ? journalId : null,
      };
    },
  };
}

/** Moving a request through the funnel. */
export function stageSteps(ctx: StoreContext): Pick<MatchingStore, "advanceStage" | "finishRequest"> {
  const { keys, options, run } = ctx;
  return {
    async advanceStage(requestId, move, journal) {
      const outcome = await run(
        "advanceStage",
        [keys.request(requestId), keys.queue, keys.journal],
        [
          String(move.fromStageIndex),
          String(move.toStageIndex),
          String(move.now),
          JSON.stringify(move.queueScore),
          options.journal && journal ? JSON.stringify(journal) : "",
        ],
      );
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      const [raw, journalId] = outcome.payload;
      // The queue set moved in the script; still live, so the live set stays.
      return { ok: true, request: must(decodeRequest(raw), "request"), journalId: typeof journalId === "string" ? journalId : null };
    },
    async finishRequest(requestId, end) {
      const outcome = await run(
        "finishRequest",
        [keys.request(requestId)],
        [end.to, String(end.now), JSON.stringify(end.callbackRequested ?? null), String(TERMINAL_RETENTION_SECONDS)],
      );
      if (!outcome.ok) {
        if (outcome.reason === "INVALID_STATE") return { ok: false, reason: outcome.reason, status: String(outcome.payload[0]) as RequestStatus };
        return { ok: false, reason: outcome.reason };
      }
      const doc = decodeRequest(outcome.payload[0]);
      return { ok: true, request: must(doc, "request"), withdrawn: decodeOffers(outcome.payload[1]), duplicate: outcome.duplicate };
    },
  };
}

/** Ending and reopening a request. */
export function endSteps(ctx: StoreContext): Pick<MatchingStore, "endRequest" | "reopenRequest"> {
  const { keys, options, run } = ctx;
  return {
    async endRequest(input, journal) {
      const { requestId, to, now } = input;
      const outcome = await run(
        "endRequest",
        [keys.request(requestId), keys.deadlines, keys.queue, keys.live, keys.journal],
        [
          to,
          String(now),
          JSON.stringify(input.callbackRequested ?? null),
          String(TERMINAL_RETENTION_SECONDS),
          keys.prefix,
          input.assignee ?? "",
          options.journal && journal ? JSON.stringify(journal) : "",
        ],
      );
      if (!outcome.ok) {
        if (outcome.reason === "INVALID_STATE") return { ok: false, reason: outcome.reason, status: String(outcome.payload[0]) as RequestStatus };
        return { ok: false, reason: outcome.reason };
      }
      const request = must(decodeRequest(outcome.payload[0]), "request");
      if (outcome.duplicate) return { ok: true, request, withdrawn: [], freed: [], duplicate: true, journalId: null };
      const [, withdrawnRaw, journalId, , assigneeNew, ...holders] = outcome.payload;
      const freed: AdvisorState[] = [];
      if (assigneeNew) freed.push(must(decodeAdvisor(assigneeNew), "advisor"));
      for (const raw of holders) freed.push(must(decodeAdvisor(raw), "advisor"));
      return { ok: true, request, withdrawn: decodeOffers(withdrawnRaw), freed, duplicate: false, journalId: typeof journalId === "string" ? journalId : null };
    },
    async reopenRequest(requestId, change, journal) {
      const outcome = await run(
        "reopenRequest",
        [keys.request(requestId), keys.deadlines, keys.queue, keys.journal],
        [
          change.advisorId,
          String(change.now),
          change.deadline === undefined ? "" : String(change.deadline),
          keys.prefix,
          options.journal && journal ? JSON.stringify(journal) : "",
        ],
      );
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      const [raw, journalId, , advisorNew] = outcome.payload;
      const advisor = advisorNew ? must(decodeAdvisor(advisorNew), "advisor") : null;
      return { ok: true, request: must(decodeRequest(raw), "request"), advisor, journalId: typeof journalId === "string" ? journalId : null };
    },
  };
}
