/**
 * Signing out on this device: the session ends and every cached answer is dropped, so the next
 * person here does not see the last one's data, even for a moment. Stable across renders.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { useSession } from "./session.tsx";

export function useSignOut(): () => void {
  const { signOut } = useSession();
  const queryClient = useQueryClient();
  return useCallback(() => {
    signOut();
    queryClient.clear();
  }, [signOut, queryClient]);
}
