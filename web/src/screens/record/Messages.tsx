/**
 * The request's conversation, with its hash chain checked in the browser (verifyChain.ts); for
 * admins and compliance, a button to verify every audit chain on the server (GET /v1/audit/verify).
 */
import { useMutation, useQuery } from "@tanstack/react-query";
import { get } from "../../api/client.ts";
import { useSession } from "../../auth/session.tsx";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import type { RecordMessage } from "./types.ts";
import { type ChainState, verifyMessageChain } from "./verifyChain.ts";
import { when } from "./when.ts";

function chainText(chain: ChainState | undefined): string {
  if (!chain) return "Checking the conversation's hash chain…";
  if (chain.state === "verified") return `Conversation hash chain verified: ${chain.messages} message${chain.messages === 1 ? "" : "s"}, every link intact.`;
  if (chain.state === "broken") return `Conversation hash chain BROKEN at message ${chain.seq}: its ${chain.field} does not match.`;
  return `Conversation hash chain not checked: ${chain.reason}.`;
}

interface VerifyResult {
  ok: boolean;
  checked: { events: number; streams: number; seals: number; messages: number };
  firstBroken?: { table: string; seq: number | string; id: string; field: string };
}

function AuditCheck() {
  const verify = useMutation({ mutationFn: () => get<VerifyResult>("/v1/audit/verify") });
  const r = verify.data;
  return (
    <div className="audit-check">
      <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending}>
        {verify.isPending ? "Verifying…" : "Verify every audit chain"}
      </button>
      <p aria-live="polite" data-testid="audit-verify">
        {r?.ok &&
          `Every chain verified: ${r.checked.events} audit entries in ${r.checked.streams} streams, ${r.checked.seals} seals, ${r.checked.messages} messages.`}
        {r && !r.ok && r.firstBroken && `BROKEN: ${r.firstBroken.table} ${r.firstBroken.id} (seq ${r.firstBroken.seq}), field ${r.firstBroken.field}.`}
      </p>
      {verify.error && <ErrorNotice error={verify.error} title="The audit could not be verified" />}
    </div>
  );
}

export function Messages({ requestId, messages }: { requestId: string; messages: RecordMessage[] }) {
  const { principal } = useSession();
  const chain = useQuery({
    queryKey: ["record", requestId, "chain", messages.length],
    queryFn: () => verifyMessageChain(messages),
    enabled: messages.length > 0,
  });
  return (
    <section aria-labelledby="messages-title">
      <h3 id="messages-title">Messages ({messages.length})</h3>
      {messages.length === 0 ? (
        <p>No messages were exchanged.</p>
      ) : (
        <>
          <p data-testid="chain-state" data-state={chain.data?.state ?? "checking"} className={chain.data?.state === "broken" ? "chain-broken" : undefined}>
            {chainText(chain.data)}
          </p>
          <ol className="messages" data-testid="record-messages">
            {messages.map((m) => (
              <li key={m.id}>
                <time dateTime={m.sentAt}>{when(m.sentAt)}</time>{" "}
                <strong>
                  {m.senderId} ({m.senderRole})
                </strong>
                : {m.body}
              </li>
            ))}
          </ol>
        </>
      )}
      {(principal?.role === "admin" || principal?.role === "compliance") && <AuditCheck />}
    </section>
  );
}
