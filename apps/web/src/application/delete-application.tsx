import { useMutation, useQueryClient } from "@tanstack/react-query";
import { navigate } from "../router.tsx";
import { useTRPC } from "../trpc.ts";
import { Section } from "../ui/section.tsx";
import { SudoForm } from "../ui/sudo-form.tsx";
import type { Application } from "./use-application-update.ts";

export function DeleteApplication({ application }: { application: Application }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.applications.delete.mutationOptions({
      onSuccess: async () => {
        queryClient.removeQueries({ queryKey: trpc.applications.get.queryKey({ id: application.id }) });
        await queryClient.invalidateQueries({ queryKey: trpc.applications.list.queryKey() });
        navigate("/developers/applications");
      },
    }),
  );
  return (
    <Section title="Delete application">
      <p>
        Deleting <strong>{application.name}</strong> removes its bot and signs out every user who authorized
        it. This cannot be undone.
      </p>
      <SudoForm
        confirmLabel="Delete application"
        danger
        pending={remove.isPending}
        error={remove.error}
        onConfirm={(password) => remove.mutate({ id: application.id, password })}
      />
    </Section>
  );
}
