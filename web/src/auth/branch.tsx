/**
 * Which branch the console shows: a manager's own (from the token), or for an admin, one picked from
 * GET /v1/branches (a typed id when that list is not available). A compliance officer may not list
 * branches, so they type an id without the console first asking for a list it would be refused.
 */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../api/client.ts";
import type { Branch, Page } from "../api/types.ts";
import { useSession } from "./session.tsx";

const STORAGE_KEY = "adx.console.branch";

export function useBranchId(): [string | null, (id: string) => void] {
  const { principal } = useSession();
  const [picked, setPicked] = useState<string | null>(() => sessionStorage.getItem(STORAGE_KEY));
  const pick = (id: string) => {
    sessionStorage.setItem(STORAGE_KEY, id);
    setPicked(id);
  };
  return [principal?.branchId ?? picked, pick];
}

/** The branch chooser in the header, shown only to callers whose token names no branch. */
export function BranchPicker({ branchId, onPick }: { branchId: string | null; onPick(id: string): void }) {
  const { principal } = useSession();
  const branches = useQuery({
    queryKey: ["branches"],
    queryFn: () => get<Page<Branch>>("/v1/branches?limit=200"),
    retry: false,
    enabled: principal?.role === "admin",
  });
  if (branches.data) {
    return (
      <label className="branch-picker">
        Branch{" "}
        <select value={branchId ?? ""} onChange={(e) => onPick(e.target.value)}>
          <option value="">Choose a branch</option>
          {branches.data.items.map((b) => (
            <option key={b.id} value={b.id}>
              {b.name} ({b.id})
            </option>
          ))}
        </select>
      </label>
    );
  }
  return (
    <form
      className="branch-picker"
      onSubmit={(e) => {
        e.preventDefault();
        const value = new FormData(e.currentTarget).get("branchId");
        if (typeof value === "string" && value.trim()) onPick(value.trim());
      }}
    >
      <label>
        Branch id <input name="branchId" defaultValue={branchId ?? ""} size={18} />
      </label>{" "}
      <button type="submit">Show</button>
    </form>
  );
}
