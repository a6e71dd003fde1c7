/** A screen that is planned but not built yet: its heading, and what it will show. */
import { ScreenHeading } from "./ScreenHeading.tsx";

export function Placeholder({ title, plan }: { title: string; plan: string }) {
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>{title}</ScreenHeading>
      <p>{plan}</p>
      <p className="muted">Not built yet.</p>
    </section>
  );
}
