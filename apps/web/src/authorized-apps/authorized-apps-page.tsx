import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { messageOf } from "../errors.ts";
import { useTRPC } from "../trpc.ts";
import { AppIcon } from "../ui/app-icon.tsx";

const SCOPE_WORDS: Record<string, string> = {
  identify: "Know your username, avatar and id",
  email: "See your email address",
  guilds: "See your communities",
  connections: "See your linked accounts",
  bot: "Add its bot",
  openid: "Sign you in",
};

function formatDate(iso: string): string {
  return new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
}

export function AuthorizedAppsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const authorizations = useQuery(trpc.authorizations.list.queryOptions());
  const deauthorize = useMutation(
    trpc.authorizations.revoke.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.authorizations.list.queryKey() }),
    }),
  );

  return (
    <>
      <h1>Authorized apps</h1>
      <p className="muted">
        Apps you have allowed to use your Fluxer account. Deauthorizing signs the app out at once.
      </p>
      {authorizations.isPending ? <p className="muted">Loading…</p> : null}
      {authorizations.error || deauthorize.error ? (
        <p className="form-error" role="alert">
          {messageOf(authorizations.error ?? deauthorize.error)}
        </p>
      ) : null}
      {authorizations.data?.length === 0 ? <p>You have not authorized any apps.</p> : null}
      <ul className="authorized" aria-label="Authorized apps">
        {authorizations.data?.map(({ application, scopes, authorized_at }) => (
          <li key={application.id} className="card" aria-label={application.name}>
            <div className="authorized-head">
              <AppIcon application={application} />
              <div>
                <h2>{application.name}</h2>
                <p className="muted">Authorized on {formatDate(authorized_at)}</p>
              </div>
            </div>
            <ul className="scopes" aria-label={`Scopes of ${application.name}`}>
              {scopes.map((scope) => (
                <li key={scope}>
                  <code>{scope}</code> {SCOPE_WORDS[scope] ?? ""}
                </li>
              ))}
            </ul>
            <button
              type="button"
              className="danger"
              aria-label={`Deauthorize ${application.name}`}
              disabled={deauthorize.isPending && deauthorize.variables?.application_id === application.id}
              onClick={() => deauthorize.mutate({ application_id: application.id })}
            >
              Deauthorize
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
