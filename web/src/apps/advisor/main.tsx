/** The advisor app's entry point: one query client, the session kept on the device, the app, its service worker. */
import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createQueryClient } from "../../api/queryClient.ts";
import { type SessionStorageOptions, SessionProvider } from "../../auth/session.tsx";
import { AdvisorApp } from "./AdvisorApp.tsx";
import { armAttention } from "./alerting.ts";
import { registerServiceWorker } from "./registerServiceWorker.ts";
import "../../styles.css";
import "./advisor.css";

/** On the device (localStorage): an installed app stays signed in until the token expires or the advisor signs out. */
const ADVISOR_STORAGE: SessionStorageOptions = { storageKey: "adx.advisor.token", keep: "device" };

const queryClient = createQueryClient();

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
