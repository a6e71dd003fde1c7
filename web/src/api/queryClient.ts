/** The one query client setup of the console and both apps. */
import { QueryClient } from "@tanstack/react-query";
import { ApiError } from "./client.ts";

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // A 4xx will answer the same again; only faults (network, 5xx) are worth a retry.
        retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      },
    },
  });
}
