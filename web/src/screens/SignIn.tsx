/**
 * Signing in with the API's own JWTs. On a development server (DEV_AUTH) a demo user can be picked
 * from GET /v1/dev/users and a token minted with POST /v1/dev/token; anywhere, a token can be pasted.
 */
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, ApiError, get } from "../api/client.ts";
import type { DevUser } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { ScreenHeading } from "../components/ScreenHeading.tsx";

/** The console is for people who run branches; the other demo users sign in to their own apps. */
const CONSOLE_ROLES: readonly string[] = ["manager", "admin", "compliance"];

function DemoUsers({ roles }: { roles: readonly string[] }) {
  const { signIn } = useSession();
  const users = useQuery({ queryKey: ["dev-users"], queryFn: () => get<{ items: DevUser[] }>("/v1/dev/users"), retry: false });
  const mint = useMutation({
    mutationFn: (user: DevUser) =>
      api<{ token: string }>("POST", "/v1/dev/token", { sub: user.id, role: user.role, ...(user.branchId ? { branchId: user.branchId } : {}) }),
    onSuccess: ({ token }) => signIn(token),
  });
  // Without DEV_AUTH the route does not exist: say nothing, the paste form is the way in.
  if (users.error instanceof ApiError && users.error.status === 404) return null;
  if (users.error) return <ErrorNotice error={users.error} title="Demo users could not be listed" />;
  const people = (users.data?.items ?? []).filter((u) => roles.includes(u.role));
  return (
    <section aria-labelledby="demo-title" className="panel">
      <h2 id="demo-title">Demo users</h2>
      <p>This server runs with development sign-in. Pick someone to sign in as:</p>
      {users.isPending && <p>Loading…</p>}
      <ul className="demo-users">
        {people.map((u) => (
          <li key={u.id}>
            <button type="button" onClick={() => mint.mutate(u)} disabled={mint.isPending}>
              Sign in as {u.name}
            </button>{" "}
            <span className="muted">
              {u.role}
              {u.branchId ? ` · ${u.branchId}` : ""}
            </span>
          </li>
        ))}
      </ul>
      {mint.error && <ErrorNotice error={mint.error} title="Could not sign in" />}
    </section>
  );
}

function PasteToken() {
  const { signIn } = useSession();
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <section aria-labelledby="paste-title" className="panel">
      <h2 id="paste-title">Sign in with a token</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const token = new FormData(e.currentTarget).get("token");
          setProblem(signIn(typeof token === "string" ? token : ""));
        }}
      >
        <div className="field">
          <label htmlFor="token">Bearer token (JWT)</label>
          <textarea
            id="token"
            name="token"
            rows={3}
            required
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? "token-error" : undefined}
          />
          {problem && (
            <p id="token-error" className="field-error">
              {problem}
            </p>
          )}
        </div>
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </section>
  );
}

/** `roles`: whose demo users this app lists (the console's by default; the advisor app lists advisors). */
export function SignIn({ roles = CONSOLE_ROLES }: { roles?: readonly string[] }) {
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>Sign in</ScreenHeading>
      <DemoUsers roles={roles} />
      <PasteToken />
    </section>
  );
}
