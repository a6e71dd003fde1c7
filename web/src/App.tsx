/** The console's frame: skip link, header, nav and main landmark around the current screen. */
import { BranchPicker, useBranchId } from "./auth/branch.tsx";
import { useSession } from "./auth/session.tsx";
import { useSignOut } from "./auth/useSignOut.ts";
import { SkipLink } from "./components/SkipLink.tsx";
import { hrefOf, useRoute } from "./router.ts";
import { SCREENS, screenFor } from "./screens/registry.ts";
import { SignIn } from "./screens/SignIn.tsx";

function Header() {
  const { principal } = useSession();
  const signOut = useSignOut();
  return (
    <header className="app-header">
      <p className="app-title">advisor-dispatch console</p>
      {principal && (
        <p className="who">
          Signed in as <strong data-testid="signed-in-as">{principal.sub}</strong> ({principal.role}
          {principal.branchId ? `, ${principal.branchId}` : ""}){" "}
          <button type="button" onClick={signOut}>
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
