/**
 * Advisor directory: the branch's advisors with live presence and load, rating, responsiveness,
 * languages, suitability and licences (GET /v1/branches/{id}/advisors), a screenful (8 rows, each
 * with its licences) at a time with "Load more", filtered by presence. Kept live by the branch
 * feed and a slow poll (presence changes do not all reach the feed).
 */
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../api/client.ts";
import type { Page } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { ScreenHeading } from "../components/ScreenHeading.tsx";
import { branchKey, useBranchFeed } from "../live/useBranchFeed.ts";
import { AdvisorTable } from "./advisors/AdvisorTable.tsx";
import { type ListedAdvisor, PRESENCES } from "./advisors/types.ts";
import type { ScreenProps } from "./types.ts";
import "./advisors/directory.css";

const PAGE_SIZE = 8;
const POLL_MS = 15_000;

function useAdvisorPages(branchId: string, presence: string) {
  return useInfiniteQuery({
    queryKey: [...branchKey(branchId), "directory", presence],
    queryFn: ({ pageParam }) => {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (presence) query.set("presence", presence);
      if (pageParam) query.set("cursor", pageParam);
      return get<Page<ListedAdvisor>>(`/v1/branches/${encodeURIComponent(branchId)}/advisors?${query}`);
    },
    initialPageParam: "",
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: POLL_MS,
  });
}

function Directory({ token, branchId }: { token: string; branchId: string }) {
  useBranchFeed(token, branchId);
  const [presence, setPresence] = useState("");
  const pages = useAdvisorPages(branchId, presence);
  const advisors = pages.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <div className="field">
        <label htmlFor="presence-filter">Presence</label>
        <select id="presence-filter" value={presence} onChange={(e) => setPresence(e.target.value)}>
          <option value="">Any</option>
          {PRESENCES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </div>
      {pages.error && <ErrorNotice error={pages.error} title="The advisors could not be loaded" />}
      {pages.isPending && <p>Loading…</p>}
      <p aria-live="polite" data-testid="directory-count">
        {pages.data ? `${advisors.length} advisor${advisors.length === 1 ? "" : "s"} shown${pages.hasNextPage ? ", more to load" : ""}.` : ""}
      </p>
      {advisors.length > 0 && <AdvisorTable advisors={advisors} />}
      {pages.hasNextPage && (
        <button type="button" onClick={() => void pages.fetchNextPage()} disabled={pages.isFetchingNextPage}>
          {pages.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
    </>
  );
}

export function AdvisorDirectory({ branchId }: ScreenProps) {
  const { token } = useSession();
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>Advisor directory{branchId ? `: ${branchId}` : ""}</ScreenHeading>
      {branchId && token ? <Directory key={branchId} token={token} branchId={branchId} /> : <p>Choose a branch to see its advisors.</p>}
    </section>
  );
}
