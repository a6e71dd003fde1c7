/** The advisor app's entry point: one query client, the session kept on the device, the app, its service worker. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApiError } from "../../api/client.ts";
import { type SessionStorageOptions, SessionProvider } from "../../auth/session.tsx";
import { AdvisorApp } from "./AdvisorApp.tsx";
import { armAttention } from "./alerting.ts";
import { registerServiceWorker } from "./registerServiceWorker.ts";
import "../../styles.css";
import "./advisor.css";

/** On the device (localStorage): an installed app stays signed in until the token expires or the advisor signs out. */
const ADVISOR_STORAGE: SessionStorageOptions = { storageKey: "adx.advisor.token", keep: "device" };

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // A 4xx will answer the same again; only faults (network, 5xx) are worth a retry.
      retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
    },
  },
});

armAttention();
registerServiceWorker();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider storage={ADVISOR_STORAGE}>
        <AdvisorApp />
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
