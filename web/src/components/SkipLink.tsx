/** The first thing on every page of the console and both apps: a link past the header into the main landmark. */
export function SkipLink() {
  return (
    // #main is not a route: the router keeps the current screen (router.ts).
    <a className="skip-link" href="#main">
      Skip to main content
    </a>
  );
}
