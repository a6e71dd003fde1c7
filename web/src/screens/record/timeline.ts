/**
 * A decision record as one timeline, oldest first: creation, stages entered, matching decisions,
 * offers (with the eligibility that justified each) and their answers, the assignment, connections,
 * the end (completed, cancelled or expired) and the rating. Entries at the same instant keep the
 * order they are listed in here, which is the order they happen in.
 */
import type { DecisionRecord, EligibilitySnapshot } from "./types.ts";
import { when } from "./when.ts";

export type EntryKind = "created" | "stage" | "decision" | "offer" | "answer" | "assigned" | "connection" | "end" | "rating";

export interface TimelineEntry {
  at: string;
  kind: EntryKind;
  title: string;
  /** Lines of detail, each "label: value". */
  details: Array<[string, string]>;
  eligibility?: EligibilitySnapshot;
}

const OUTCOME_WORDS: Record<string, string> = {
  accepted: "accepted",
  declined: "declined",
  timed_out: "let the offer time out",
  withdrawn: "lost the offer: withdrawn",
  lost_race: "lost the offer: someone else accepted first",
};

function requestEntries(r: DecisionRecord["request"]): TimelineEntry[] {
  const out: TimelineEntry[] = [
    {
      at: r.createdAt,
      kind: "created",
      title: `Request created by ${r.clientId}`,
      details: [
        ["Topic", r.topic],
        ["Licence needed", r.requiredLicence],
        ["Channel and mode", `${r.channel}, ${r.mode}`],
        ["Priority", String(r.priority)],
        ["Client risk level", String(r.riskLevel)],
        ["Language", r.language ?? "any"],
      ],
    },
  ];
  if (r.completedAt) out.push({ at: r.completedAt, kind: "end", title: "Completed", details: [] });
  if (r.cancelledAt) out.push({ at: r.cancelledAt, kind: "end", title: "Cancelled", details: [] });
  if (r.expiredAt) out.push({ at: r.expiredAt, kind: "end", title: `Expired${r.callbackRequested ? ", callback promised" : ""}`, details: [] });
  return out;
}

function offerEntries(record: DecisionRecord): TimelineEntry[] {
  return record.offers.flatMap((o) => {
    const sent: TimelineEntry = {
      at: o.sentAt,
      kind: "offer",
      title: `Offer ${o.id} (${o.kind}) to ${o.advisor.name} (${o.advisor.id}) in the ${o.stage} stage`,
      details: [["Open until", when(o.expiresAt)]],
      eligibility: o.eligibility,
    };
    if (!o.outcome) return [sent];
    const at = o.respondedAt ?? o.expiresAt;
    return [sent, { at, kind: "answer" as const, title: `${o.advisor.name} ${OUTCOME_WORDS[o.outcome] ?? o.outcome}`, details: [["Offer", o.id]] }];
  });
}

function decisionEntries(record: DecisionRecord): TimelineEntry[] {
  return record.decisions.map((d) => {
    const excluded = Object.entries(d.excluded).filter(([, ids]) => ids.length > 0);
    return {
      at: d.at,
      kind: "decision" as const,
      title: `Matching in the ${d.stage} stage: ${d.offered.length ? `offered to ${d.offered.join(", ")}` : "no one to offer to"}`,
      details: excluded.map(([reason, ids]): [string, string] => [`Refused (${reason.toLowerCase()})`, ids.join(", ")]),
    };
  });
}

function laterEntries(record: DecisionRecord): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const a = record.assignment;
  const assignedAt = a?.assignedAt ?? record.request.assignedAt;
  if (a && assignedAt)
    out.push({
      at: assignedAt,
      kind: "assigned",
      title: `Assigned to ${a.advisor.name} (${a.advisor.id})`,
      details: a.offerId ? [["By offer", a.offerId]] : [],
    });
  for (const c of record.connections) {
    out.push({ at: c.openedAt, kind: "connection", title: `Connection ${c.id} opened with ${c.advisorId}`, details: [] });
    if (c.closedAt)
      out.push({ at: c.closedAt, kind: "connection", title: `Connection ${c.id} closed`, details: c.closeReason ? [["Reason", c.closeReason]] : [] });
  }
  if (record.rating) {
    const r = record.rating;
    out.push({ at: r.ratedAt, kind: "rating", title: `Rated ${r.stars} of 5`, details: r.comment ? [["Comment", r.comment]] : [] });
  }
  return out;
}

export function timelineOf(record: DecisionRecord): TimelineEntry[] {
  const stages: TimelineEntry[] = record.stages.map((s) => ({
    at: s.startedAt,
    kind: "stage",
    title: `Stage ${s.stageIndex + 1}: ${s.pool}`,
    details: [["Read from", s.source.replace("_", " ")]],
  }));
  const [created, ...ends] = requestEntries(record.request);
  const entries = [created!, ...stages, ...decisionEntries(record), ...offerEntries(record), ...laterEntries(record), ...ends];
  // Array#sort is stable: equal instants keep the order above.
  return entries.sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
}
