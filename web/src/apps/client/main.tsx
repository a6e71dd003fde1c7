/** The client app's entry point: one query client, the session (kept for the tab), the app. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApiError } from "../../api/client.ts";
import { SessionProvider, type SessionStorageOptions } from "../../auth/session.tsx";
import { ClientApp } from "./ClientApp.tsx";
import "../../styles.css";
import "./client.css";

/** Its own key: signing in here does not sign anyone in to the console or the advisor app. */
const STORAGE: SessionStorageOptions = { storageKey: "adx.client.token", keep: "tab" };

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will answer the same again; only faults (network, 5xx) are worth a retry.
      retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    },
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider storage={STORAGE}>
        <ClientApp />
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
