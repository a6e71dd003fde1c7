/** The advisor's home: offers to answer, surge alerts, open conversations and their figures. */
import { ScreenHeading } from "../../../components/ScreenHeading.tsx";
import { Assignments } from "./Assignments.tsx";
import { DemandAlerts } from "./DemandAlerts.tsx";
import { Figures } from "./Figures.tsx";
import { OffersPanel } from "./OffersPanel.tsx";

export function Desk() {
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>Your desk</ScreenHeading>
      <OffersPanel />
      <DemandAlerts />
      <Assignments />
      <Figures />
    </section>
  );
}
