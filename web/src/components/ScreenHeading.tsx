/**
 * A screen's h1. Once the user has moved between screens (a nav link, signing in or out), each new
 * screen's title takes focus, so a keyboard or screen-reader user lands on it rather than on a link
 * that is gone. Not on page load: there the skip link must stay first in the tab order.
 */
import { type ReactNode, useEffect, useRef } from "react";

let moveFocus = false;

/** From now on, a screen that opens puts focus on its title. */
export function focusScreensFromNowOn(): void {
  moveFocus = true;
}

window.addEventListener("hashchange", focusScreensFromNowOn);

export function ScreenHeading({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (moveFocus) ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} id="screen-title" tabIndex={-1} className="screen-heading">
      {children}
    </h1>
  );
}
