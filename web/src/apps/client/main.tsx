/** The client app's entry point: one query client, the session (kept for the tab), the app. */
import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createQueryClient } from "../../api/queryClient.ts";
import { SessionProvider, type SessionStorageOptions } from "../../auth/session.tsx";
import { ClientApp } from "./ClientApp.tsx";
import "../../styles.css";
import "./client.css";

/** Its own key: signing in here does not sign anyone in to the console or the advisor app. */
const STORAGE: SessionStorageOptions = { storageKey: "adx.client.token", keep: "tab" };

const queryClient = createQueryClient();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider storage={STORAGE}>
        <ClientApp />
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
