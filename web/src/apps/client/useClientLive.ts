/**
 * The client's socket: `request.updated` (every status and stage change of their requests) and
 * `message` (the conversation) go straight into the query cache the screens read; `session.revoked`
 * signs out. After every (re)connect the client's cached reads are refetched, since whatever was
 * sent while the socket was down is lost.
 */
import { useQueryClient } from "@tanstack/react-query";
import type { ChatMessage } from "../../api/types.ts";
import { useSession } from "../../auth/session.tsx";
import { useSignOut } from "../../auth/useSignOut.ts";
import { type SocketStatus, useSocket } from "../../live/useSocket.ts";
import { addMessage, keys, newerView } from "./queries.ts";
import type { RequestView } from "./types.ts";

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;

export function useClientLive(): SocketStatus {
  const { token } = useSession();
  const signOut = useSignOut();
  const queryClient = useQueryClient();
  return useSocket(token, {
    onMessage(message) {
      if (message.type === "request.updated" && isObject(message.request) && typeof message.request.id === "string") {
        const view = message.request as unknown as RequestView;
        queryClient.setQueryData<RequestView>(keys.request(view.id), (old) => newerView(old, view));
        void queryClient.invalidateQueries({ queryKey: keys.history });
      } else if (message.type === "message" && isObject(message.message) && typeof message.message.requestId === "string") {
        addMessage(queryClient, message.message as unknown as ChatMessage);
      } else if (message.type === "session.revoked") {
        signOut();
      }
    },
    onOpen() {
      void queryClient.invalidateQueries({ queryKey: ["client"] });
    },
  });
}
