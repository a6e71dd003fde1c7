/**
 * One assigned request: what the client asked for, the recorded chat (GET, then new messages from
 * the socket), the composer and Complete while it is open, and where it ended once it has.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../../api/client.ts";
import { ChatComposer } from "../../../components/chat/ChatComposer.tsx";
import { ChatLog } from "../../../components/chat/ChatLog.tsx";
import { ErrorNotice } from "../../../components/ErrorNotice.tsx";
import { ScreenHeading } from "../../../components/ScreenHeading.tsx";
import { hrefOf } from "../../../router.ts";
import { addMessage, advisorKeys, readMessages, readRequest } from "../queries.ts";
import { licenceName } from "../types.ts";
import { OffersPanel } from "./OffersPanel.tsx";

function CompleteButton({ requestId }: { requestId: string }) {
  const queryClient = useQueryClient();
  const complete = useMutation({
    mutationFn: () => api("POST", `/v1/requests/${encodeURIComponent(requestId)}/complete`),
    onSettled: () => queryClient.invalidateQueries({ queryKey: advisorKeys.all }),
  });
  return (
    <div className="complete">
      <button type="button" className="primary" disabled={complete.isPending} onClick={() => complete.mutate()}>
        Complete
      </button>
      <p className="muted">Ends the conversation: the client can then rate it.</p>
      {complete.error && <ErrorNotice error={complete.error} title="The request could not be completed" />}
    </div>
  );
}

export function Conversation({ requestId }: { requestId: string }) {
  const queryClient = useQueryClient();
  const request = useQuery({ queryKey: advisorKeys.request(requestId), queryFn: () => readRequest(requestId) });
  const messages = useQuery({ queryKey: advisorKeys.messages(requestId), queryFn: () => readMessages(requestId) });
  const open = request.data?.status === "assigned";
  return (
    <section aria-labelledby="screen-title">
      <p className="back-link">
        <a href={hrefOf("/")}>Back to your desk</a>
      </p>
      <ScreenHeading>Conversation</ScreenHeading>
      {request.error && <ErrorNotice error={request.error} title="This request could not be read" />}
      {request.data && (
        <div className="request-facts">
          <p className="request-topic">{request.data.topic}</p>
          <p className="muted">
            {licenceName(request.data.requiredLicence)} · {request.data.channel} · <span data-testid="request-status">{request.data.status}</span>
          </p>
        </div>
      )}
      <OffersPanel onlyWhenAny />
      <section aria-labelledby="chat-title" className="panel chat">
        <h2 id="chat-title">Chat</h2>
        {messages.error && <ErrorNotice error={messages.error} title="The conversation could not be read" />}
        {messages.data && (
          <ChatLog
            messages={messages.data.messages}
            mine="advisor"
            theirName="Client"
            emptyText="No messages yet. Say hello to your client."
            name={{ "aria-label": "Messages" }}
          />
        )}
        {open && (
          <ChatComposer
            requestId={requestId}
            requestKey={advisorKeys.request(requestId)}
            onSent={(message) => addMessage(queryClient, message)}
            label="Message to your client"
            inputId="composer-body"
          />
        )}
      </section>
      {open && <CompleteButton requestId={requestId} />}
      {request.data && !open && (
        <p className="notice notice-ok" role="status" data-testid="conversation-ended">
          This conversation is {request.data.status}.
        </p>
      )}
    </section>
  );
}
