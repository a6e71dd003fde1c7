/** The console's frame: skip link, header, nav and main landmark around the current screen. */
import { useQueryClient } from "@tanstack/react-query";
import { BranchPicker, useBranchId } from "./auth/branch.tsx";
import { useSession } from "./auth/session.tsx";
import { hrefOf, useRoute } from "./router.ts";
import { SCREENS, screenFor } from "./screens/registry.ts";
import { SignIn } from "./screens/SignIn.tsx";

function SkipLink() {
  return (
    // #main is not a route: the router keeps the current screen (router.ts).
    <a className="skip-link" href="#main">
      Skip to main content
    </a>
  );
}

function Header() {
  const { principal, signOut } = useSession();
  const queryClient = useQueryClient();
  return (
    <header className="app-header">
      <p className="app-title">advisor-dispatch console</p>
      {principal && (
        <p className="who">
          Signed in as <strong data-testid="signed-in-as">{principal.sub}</strong> ({principal.role}
          {principal.branchId ? `, ${principal.branchId}` : ""}){" "}
          <button
            type="button"
            onClick={() => {
              signOut();
              // The next person must not see the last one's data, even for a moment.
              queryClient.clear();
            }}
          >
            Sign out
          </button>
        </p>
      )}
    </header>
  );
}

function Nav({ current }: { current: string }) {
  return (
    <nav aria-label="Screens" className="app-nav">
      <ul>
        {SCREENS.map((s) => (
          <li key={s.path}>
            <a href={hrefOf(s.path)} aria-current={s.path === current ? "page" : undefined}>
              {s.title}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function SignedIn() {
  const route = useRoute();
  const screen = screenFor(route);
  const { principal } = useSession();
  const [branchId, pickBranch] = useBranchId();
  const Screen = screen.component;
  return (
    <>
      <Nav current={screen.path} />
      <main id="main" tabIndex={-1}>
        {!principal?.branchId && <BranchPicker branchId={branchId} onPick={pickBranch} />}
        <Screen key={screen.path} branchId={branchId} />
      </main>
    </>
  );
}

export function App() {
  const { principal } = useSession();
  return (
    <>
      <SkipLink />
      <Header />
      {principal ? (
        <SignedIn />
      ) : (
        <main id="main" tabIndex={-1}>
          <SignIn />
        </main>
      )}
    </>
  );
}
