/**
 * Every screen of the console, in nav order. To add one: write screens/<Name>.tsx exporting a
 * component that takes ScreenProps, and add a line here; the nav and the router read this list.
 */
import type { ComponentType } from "react";
import { AdvisorDirectory } from "./AdvisorDirectory.tsx";
import { IncentiveRules } from "./IncentiveRules.tsx";
import { KpiDashboard } from "./KpiDashboard.tsx";
import { LiveBoard } from "./LiveBoard.tsx";
import { PolicyEditor } from "./PolicyEditor.tsx";
import { RequestRecord } from "./RequestRecord.tsx";
import { Settlements } from "./Settlements.tsx";
import { Staffing } from "./Staffing.tsx";
import type { ScreenProps } from "./types.ts";

export interface ScreenEntry {
  /** The hash route: #/board. */
  path: string;
  /** The nav link's text. */
  title: string;
  component: ComponentType<ScreenProps>;
}

export const SCREENS: readonly ScreenEntry[] = [
  { path: "/board", title: "Live board", component: LiveBoard },
  { path: "/policy", title: "Dispatch policy", component: PolicyEditor },
  { path: "/kpis", title: "KPIs", component: KpiDashboard },
  { path: "/staffing", title: "Staffing", component: Staffing },
  { path: "/incentives", title: "Incentive rules", component: IncentiveRules },
  { path: "/settlements", title: "Leaderboard and settlements", component: Settlements },
  { path: "/advisors", title: "Advisor directory", component: AdvisorDirectory },
  { path: "/record", title: "Request record", component: RequestRecord },
];

/** The screen for a path; the first screen for an unknown or empty one. */
export const screenFor = (path: string): ScreenEntry => SCREENS.find((s) => s.path === path) ?? SCREENS[0]!;
