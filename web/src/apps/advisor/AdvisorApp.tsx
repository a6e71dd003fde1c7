/**
 * The advisor app's frame: skip link, a header with who is signed in, presence and the connection,
 * and the main landmark with the current screen (#/ the desk, #/requests/:id a conversation).
 * Signed out, it is the sign-in screen with the demo advisors.
 */
import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { useSession } from "../../auth/session.tsx";
import { useSignOut } from "../../auth/useSignOut.ts";
import { SkipLink } from "../../components/SkipLink.tsx";
import { useRoute } from "../../router.ts";
import { SignIn } from "../../screens/SignIn.tsx";
import { Conversation } from "./components/Conversation.tsx";
import { ConnectionStatus } from "./components/ConnectionStatus.tsx";
import { Desk } from "./components/Desk.tsx";
import { PresenceToggle } from "./components/PresenceToggle.tsx";
import { LiveProvider, useLive } from "./live.tsx";
import { usePresence } from "./presence.ts";
import { advisorKeys, readMe } from "./queries.ts";

const ADVISOR_ROLES = ["advisor"] as const;

function Screen() {
  const route = useRoute();
  const conversation = route.match(/^\/requests\/([^/]+)$/);
  return conversation ? <Conversation key={conversation[1]} requestId={decodeURIComponent(conversation[1]!)} /> : <Desk />;
}

/**
 * Back to the sign-in screen when the token expires: an installed app stays open for days, and an
 * expired token would only meet refusals (and a socket refused on every retry).
 */
function useSignOutAtExpiry(exp: number | undefined, leave: () => void) {
  useEffect(() => {
    if (exp === undefined) return;
    const timer = setTimeout(leave, Math.max(0, exp * 1000 - Date.now()));
    return () => clearTimeout(timer);
  }, [exp, leave]);
}

function SignedIn() {
  const { principal } = useSession();
  const signOut = useSignOut();
  useSignOutAtExpiry(principal?.exp, signOut);
  const live = useLive();
  const presence = usePresence(live.status);
  const me = useQuery({ queryKey: advisorKeys.me, queryFn: readMe });
  const leave = async () => {
    // Offline at once rather than available until the presence TTL runs out with nobody there.
    await presence.goOffline();
    signOut();
  };
  return (
    <>
      <header className="app-header advisor-header">
        <div className="advisor-who">
          <p className="app-title">Advisor</p>
          <p>
            <span data-testid="signed-in-as" data-sub={principal?.sub}>
              {me.data?.name ?? principal?.sub}
            </span>{" "}
            <button type="button" onClick={() => void leave()}>
              Sign out
            </button>
          </p>
        </div>
        <PresenceToggle presence={presence} />
        <ConnectionStatus status={live.status} />
      </header>
      <p className="visually-hidden" aria-live="polite">
        {live.announcement}
      </p>
      <main id="main" tabIndex={-1} className="advisor-main">
        <Screen />
      </main>
    </>
  );
}

export function AdvisorApp() {
  const { principal } = useSession();
  if (principal && principal.role !== "advisor") {
    // A token of another role: this app has nothing for it.
    return <WrongRole role={principal.role} />;
  }
  return (
    <>
      <SkipLink />
      {principal ? (
        <LiveProvider key={principal.sub}>
          <SignedIn />
        </LiveProvider>
      ) : (
        <>
          <header className="app-header advisor-header">
            <p className="app-title">advisor-dispatch: Advisor</p>
          </header>
          <main id="main" tabIndex={-1} className="advisor-main">
            <SignIn roles={ADVISOR_ROLES} />
          </main>
        </>
      )}
    </>
  );
}

function WrongRole({ role }: { role: string }) {
  const { signOut } = useSession();
  return (
    <main id="main" className="advisor-main">
      <h1>This app is for advisors</h1>
      <p>You are signed in as a {role}.</p>
      <button type="button" onClick={signOut}>
        Sign out
      </button>
    </main>
  );
}
