/**
 * The branch's leaderboard for the open period, and its settled periods: each with its report and
 * the payroll CSV, downloaded with the session's token.
 */
import { useState } from "react";
import { ScreenHeading } from "../components/ScreenHeading.tsx";
import "./incentives/incentives.css";
import { Leaderboard } from "./settlements/Leaderboard.tsx";
import { SettlementList } from "./settlements/SettlementList.tsx";
import { SettlementReport } from "./settlements/SettlementReport.tsx";
import type { ScreenProps } from "./types.ts";

function BranchSettlements({ branchId }: { branchId: string }) {
  const [open, setOpen] = useState<string | null>(null);
  return (
    <>
      <Leaderboard branchId={branchId} />
      <SettlementList branchId={branchId} selected={open} onOpen={setOpen} />
      {open && <SettlementReport key={open} branchId={branchId} settlementId={open} onClose={() => setOpen(null)} />}
    </>
  );
}

export function Settlements({ branchId }: ScreenProps) {
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>Leaderboard and settlements{branchId ? `: ${branchId}` : ""}</ScreenHeading>
      {branchId ? <BranchSettlements key={branchId} branchId={branchId} /> : <p>Choose a branch to see its leaderboard and settlements.</p>}
    </section>
  );
}
