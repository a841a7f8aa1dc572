import { useState } from "react";
import { CopyField } from "../ui/copy-field.tsx";
import { Field } from "../ui/field.tsx";
import { Section } from "../ui/section.tsx";
import type { Application } from "./use-application-update.ts";

/** The scopes a user can grant at the authorization endpoint, in canonical order (SPEC §6). */
const SCOPES = [
  { name: "openid", about: "OpenID Connect sign-in (an ID token)" },
  { name: "identify", about: "username, avatar and id" },
  { name: "email", about: "email address (with identify)" },
  { name: "guilds", about: "the user's communities" },
  { name: "connections", about: "linked accounts" },
  { name: "bot", about: "adds the application's bot" },
] as const;

/** An authorization URL for this application: what a "Sign in with Fluxer" link opens. */
export function authorizeUrl(options: { clientId: string; redirectUri: string; scopes: string[] }): string {
  const query = new URLSearchParams({
    client_id: options.clientId,
    response_type: "code",
    redirect_uri: options.redirectUri,
    scope: options.scopes.join(" "),
  });
  return `${window.location.origin}/v1/oauth2/authorize?${query.toString().replaceAll("+", "%20")}`;
}

export function UrlGenerator({ application }: { application: Application }) {
  const [scopes, setScopes] = useState<string[]>(["identify"]);
  const [redirectUri, setRedirectUri] = useState(application.redirect_uris[0] ?? "");
  const chosenRedirect = application.redirect_uris.includes(redirectUri)
    ? redirectUri
    : application.redirect_uris[0];

  const toggle = (scope: string, on: boolean) =>
    setScopes((current) => SCOPES.map((s) => s.name).filter((s) => (s === scope ? on : current.includes(s))));

  return (
    <Section title="URL generator">
      <fieldset>
        <legend>Scopes</legend>
        <ul className="scope-list">
          {SCOPES.map((scope) => (
            <li key={scope.name}>
              <label>
                <input
                  type="checkbox"
                  checked={scopes.includes(scope.name)}
                  onChange={(event) => toggle(scope.name, event.target.checked)}
                />{" "}
                {scope.name}
              </label>{" "}
              <span className="muted">{scope.about}</span>
            </li>
          ))}
        </ul>
      </fieldset>
      {chosenRedirect ? (
        <>
          <Field label="Redirect URL">
            <select value={chosenRedirect} onChange={(event) => setRedirectUri(event.target.value)}>
              {application.redirect_uris.map((uri) => (
                <option key={uri} value={uri}>
                  {uri}
                </option>
              ))}
            </select>
          </Field>
          {scopes.length > 0 ? (
            <>
              <CopyField
                label="Generated URL"
                value={authorizeUrl({ clientId: application.id, redirectUri: chosenRedirect, scopes })}
              />
              {application.public_client ? (
                <p className="hint">
                  A public client adds its own code_challenge (PKCE, S256) to this URL; without one the
                  request is refused.
                </p>
              ) : null}
            </>
          ) : (
            <p className="hint">Choose at least one scope.</p>
          )}
        </>
      ) : (
        <p className="hint">Add a redirect in the OAuth2 section first: the URL needs one.</p>
      )}
    </Section>
  );
}
