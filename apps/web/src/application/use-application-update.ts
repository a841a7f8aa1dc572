import type { RouterOutputs } from "@fluxer/client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../trpc.ts";

export type Application = RouterOutputs["applications"]["get"];

/**
 * Saves a section's changes against the version this tab last saw. The server refuses a stale
 * version (VERSION_CONFLICT), so a save never overwrites someone else's change unseen; a successful
 * save becomes this tab's new view of the application.
 */
export function useApplicationUpdate() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return useMutation(
    trpc.applications.update.mutationOptions({
      onSuccess: async (updated) => {
        queryClient.setQueryData(trpc.applications.get.queryKey({ id: updated.id }), updated);
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.applications.list.queryKey() }),
          // A redirect change is a security event.
          queryClient.invalidateQueries({ queryKey: trpc.applications.events.pathKey() }),
        ]);
      },
    }),
  );
}

/** After a reset: the new secret is shown by the caller; the version moved on and an event was recorded. */
export function useApplicationRefresh() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return (updated: Application) => {
    queryClient.setQueryData(trpc.applications.get.queryKey({ id: updated.id }), updated);
    void queryClient.invalidateQueries({ queryKey: trpc.applications.events.pathKey() });
  };
}
