/**
 * The client app's frame: a header with who is signed in and whether live updates are arriving, and
 * the current screen. Routes are hashes (web/src/router.ts): #/ home, #/talk the request form,
 * #/requests/{id} one request from waiting to rating, so a reload or a shared link keeps the place.
 */
import { useSession } from "../../auth/session.tsx";
import { useSignOut } from "../../auth/useSignOut.ts";
import { SkipLink } from "../../components/SkipLink.tsx";
import type { SocketStatus } from "../../live/useSocket.ts";
import { navigate, useRoute } from "../../router.ts";
import { SignIn } from "../../screens/SignIn.tsx";
import { Home } from "./Home.tsx";
import { RequestScreen } from "./RequestScreen.tsx";
import { TalkForm } from "./TalkForm.tsx";
import { useClientLive } from "./useClientLive.ts";

const CONNECTION_WORDS: Record<SocketStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline: updates resume when you are back online",
};

function Header({ connection }: { connection: SocketStatus | null }) {
  const { principal } = useSession();
  const signOut = useSignOut();
  return (
    <header className="app-header client-header">
      <p className="app-title">
        <a href="#/">Advisor line</a>
      </p>
      {principal && (
        <div className="client-who">
          <p>
            <span className="visually-hidden">Signed in as </span>
            <span data-testid="signed-in-as">{principal.sub}</span>
          </p>
          {connection && (
            <p data-testid="connection" className={`client-connection client-connection-${connection}`}>
              {CONNECTION_WORDS[connection]}
            </p>
          )}
          <button
            type="button"
            onClick={() => {
              signOut();
              navigate("/");
            }}
          >
            Sign out
          </button>
        </div>
      )}
    </header>
  );
}

function Screen() {
  const route = useRoute();
  const request = /^\/requests\/([\w-]+)$/.exec(route);
  if (request) return <RequestScreen key={request[1]} id={request[1]!} />;
  if (route === "/talk") return <TalkForm />;
  return <Home />;
}

function SignedIn() {
  const connection = useClientLive();
  return (
    <>
      <Header connection={connection} />
      <main id="main" tabIndex={-1} className="client-main">
        <Screen />
      </main>
    </>
  );
}

export function ClientApp() {
  const { principal } = useSession();
  return (
    <>
      <SkipLink />
      {principal ? (
        <SignedIn />
      ) : (
        <>
          <Header connection={null} />
          <main id="main" tabIndex={-1} className="client-main">
            <SignIn roles={CLIENT_ROLES} />
          </main>
        </>
      )}
    </>
  );
}

const CLIENT_ROLES: readonly string[] = ["client"];
