import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";
import { fieldErrorsOf } from "../errors.ts";
import { useTRPC } from "../trpc.ts";
import { Section } from "../ui/section.tsx";
import { ResetCredential } from "./reset-credential.tsx";
import { SaveStatus } from "./save-status.tsx";
import { type Application, useApplicationRefresh, useApplicationUpdate } from "./use-application-update.ts";

const MAX_REDIRECTS = 10;

function Redirects({ application, onReload }: { application: Application; onReload: () => void }) {
  const update = useApplicationUpdate();
  const [redirects, setRedirects] = useState<string[]>(application.redirect_uris);
  const list = useRef<HTMLOListElement>(null);

  const add = () => {
    setRedirects((current) => [...current, ""]);
    // Focus the new, empty field once it is rendered.
    requestAnimationFrame(() =>
      list.current?.querySelector<HTMLInputElement>("li:last-child input")?.focus(),
    );
  };
  const change = (index: number, value: string) =>
    setRedirects((current) => current.map((uri, i) => (i === index ? value : uri)));
  const remove = (index: number) => setRedirects((current) => current.filter((_, i) => i !== index));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const uris = redirects.map((uri) => uri.trim()).filter(Boolean);
    update.mutate({ id: application.id, version: application.version, redirect_uris: uris });
  };

  const error = fieldErrorsOf(update.error).redirect_uris;
  return (
    <form onSubmit={submit} noValidate>
      <fieldset>
        <legend>Redirects</legend>
        <p className="hint">
          Where Fluxer may send users back after they authorize your app: exact URLs, https (http only for
          localhost).
        </p>
        <ol className="redirects" ref={list}>
          {redirects.map((uri, index) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in an editable list
            <li key={index}>
              <input
                type="url"
                aria-label={`Redirect ${index + 1}`}
                placeholder="https://example.com/callback"
                value={uri}
                aria-invalid={error ? true : undefined}
                onChange={(event) => change(index, event.target.value)}
              />
              <button
                type="button"
                className="secondary"
                aria-label={`Remove redirect ${index + 1}`}
                onClick={() => remove(index)}
              >
                Remove
              </button>
            </li>
          ))}
        </ol>
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="row">
          <button
            type="button"
            className="secondary"
            onClick={add}
            disabled={redirects.length >= MAX_REDIRECTS}
          >
            Add redirect
          </button>
          <button type="submit" disabled={update.isPending}>
            Save redirects
          </button>
          <SaveStatus
            error={update.error}
            saved={update.isSuccess}
            shownFieldErrors={Boolean(error)}
            onReload={onReload}
          />
        </div>
      </fieldset>
    </form>
  );
}

/**
 * Discord's "Public client" toggle (SPEC §5, §7.2): single-page and native apps, which cannot keep a
 * secret, exchange codes with PKCE S256 and their client id alone.
 */
function PublicClient({ application, onReload }: { application: Application; onReload: () => void }) {
  const update = useApplicationUpdate();
  // Shown switched at once; a refused save switches it back.
  const [on, setOn] = useState(application.public_client);
  const toggle = (value: boolean) => {
    setOn(value);
    update.mutate(
      { id: application.id, version: application.version, public_client: value },
      { onError: () => setOn(!value) },
    );
  };
  return (
    <div className="row">
      <label className="check">
        <input
          type="checkbox"
          role="switch"
          checked={on}
          aria-checked={on}
          disabled={update.isPending}
          onChange={(event) => toggle(event.target.checked)}
        />{" "}
        Public client
      </label>
      <SaveStatus error={update.error} saved={update.isSuccess} onReload={onReload} />
      <p className="hint">
        For single-page and native apps that cannot keep a secret: they sign users in with PKCE (S256) and
        their client ID alone, and cannot use client credentials or introspection.
      </p>
    </div>
  );
}

function ResetSecret({ application }: { application: Application }) {
  const trpc = useTRPC();
  const refresh = useApplicationRefresh();
  const reset = useMutation(trpc.applications.resetSecret.mutationOptions({ onSuccess: refresh }));
  return (
    <ResetCredential
      title="Client secret"
      credentialLabel="Client secret"
      resetLabel="Reset secret"
      hint="Resetting makes the current secret stop working at once."
      value={reset.data?.client_secret}
      pending={reset.isPending}
      error={reset.error}
      onReset={(password, done) => reset.mutate({ id: application.id, password }, { onSuccess: done })}
    />
  );
}

export function OAuth2Section({ application, onReload }: { application: Application; onReload: () => void }) {
  return (
    <Section title="OAuth2">
      <Redirects application={application} onReload={onReload} />
      <PublicClient application={application} onReload={onReload} />
      <ResetSecret application={application} />
    </Section>
  );
}
