import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { rememberFreshCredentials } from "../application/fresh-credentials.ts";
import { fieldErrorsOf, messageOf } from "../errors.ts";
import { Link, navigate } from "../router.tsx";
import { useTRPC } from "../trpc.ts";
import { AppIcon } from "../ui/app-icon.tsx";
import { Field } from "../ui/field.tsx";

function NewApplicationForm({ onCancel }: { onCancel: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  // The form opened because the user asked for it: typing the name is the next step.
  const nameInput = useRef<HTMLInputElement>(null);
  useEffect(() => nameInput.current?.focus(), []);
  const create = useMutation(
    trpc.applications.create.mutationOptions({
      onSuccess: async (created) => {
        rememberFreshCredentials(created.id, {
          clientSecret: created.client_secret,
          botToken: created.bot_token,
        });
        await queryClient.invalidateQueries({ queryKey: trpc.applications.list.queryKey() });
        navigate(`/developers/applications/${created.id}`);
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name });
  };
  const fieldErrors = fieldErrorsOf(create.error);
  return (
    <form className="card" onSubmit={submit}>
      <h2>New application</h2>
      <Field label="Name" error={fieldErrors.name}>
        <input
          type="text"
          required
          maxLength={100}
          ref={nameInput}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </Field>
      {create.error && !fieldErrors.name ? (
        <p className="form-error" role="alert">
          {messageOf(create.error)}
        </p>
      ) : null}
      <div className="row">
        <button type="submit" disabled={create.isPending}>
          Create
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function ApplicationsPage() {
  const trpc = useTRPC();
  const applications = useQuery(trpc.applications.list.queryOptions());
  const [creating, setCreating] = useState(false);
  return (
    <>
      <div className="page-title">
        <h1>Applications</h1>
        {creating ? null : (
          <button type="button" onClick={() => setCreating(true)}>
            New application
          </button>
        )}
      </div>
      <p className="muted">Applications sign users in with Fluxer (OAuth2) and run bots.</p>
      {creating ? <NewApplicationForm onCancel={() => setCreating(false)} /> : null}
      {applications.isPending ? <p className="muted">Loading…</p> : null}
      {applications.error ? (
        <p className="form-error" role="alert">
          {messageOf(applications.error)}
        </p>
      ) : null}
      {applications.data?.length === 0 ? <p>You have no applications yet.</p> : null}
      {applications.data && applications.data.length > 0 ? (
        <ul className="app-list" aria-label="Your applications">
          {applications.data.map((application) => (
            <li key={application.id}>
              <Link to={`/developers/applications/${application.id}`}>
                <AppIcon application={application} />
                <span>{application.name}</span>
              </Link>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
