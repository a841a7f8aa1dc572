import type { UserRow } from "../db/schema.ts";
import type { AuthorizationRequest } from "../oauth/authorization-request.ts";
import { REQUIRED_SCOPES } from "../oauth/authorization-response.ts";
import type { Scope } from "../oauth/scope.ts";
import { html, renderPage } from "./html.ts";

const SCOPE_LABELS: Record<Scope, string> = {
  openid: "Sign you in with your Fluxer account",
  identify: "Know your username, avatar and user id",
  email: "Know your email address",
  guilds: "Know which communities you are in",
  connections: "Know your linked accounts",
  bot: "Add a bot to a community you manage",
};

/** Only http(s) links are rendered as links (a `javascript:` URL must never become clickable). */
function isWebUrl(value: string | null): value is string {
  return value !== null && /^https?:\/\//i.test(value) && URL.canParse(value);
}

/**
 * The consent form re-submits the original request as hidden fields; the POST validates it again
 * from scratch, so nothing the page carries is trusted. Controls come in reading order (switch
 * account, scopes, links, Cancel, Authorize), so Tab follows what the eye sees; the primary action
 * is last, as on every other page. "Switch account" is a POST (signing out changes state, so no
 * link a third party could trigger) that ends on the sign-in page and then back here.
 */
export function renderConsentPage(options: {
  request: AuthorizationRequest;
  user: UserRow;
  csrfToken: string;
  /** This authorization request as a same-origin path, to come back to after switching account. */
  returnTo: string | null;
}): string {
  const { request, user, csrfToken, returnTo } = options;
  const { client } = request;
  const hidden: [string, string | null][] = [
    ["client_id", client.id],
    ["redirect_uri", request.redirectUri],
    ["response_type", "code"],
    ["scope", request.scopes.join(" ")],
    ["state", request.state],
    ["code_challenge", request.codeChallenge],
    ["code_challenge_method", request.codeChallengeMethod],
    ["nonce", request.nonce],
  ];
  const icon = client.iconHash
    ? html`<img src="/icons/${client.id}/${client.iconHash}" alt="" width="64" height="64">`
    : html`<div class="placeholder" aria-hidden="true"></div>`;
  const links = [
    isWebUrl(client.termsOfServiceUrl)
      ? html`<a href="${client.termsOfServiceUrl}" rel="noopener noreferrer" target="_blank">Terms of Service</a>`
      : null,
    isWebUrl(client.privacyPolicyUrl)
      ? html`<a href="${client.privacyPolicyUrl}" rel="noopener noreferrer" target="_blank">Privacy Policy</a>`
      : null,
  ].filter((link) => link !== null);
  const scopes = request.scopes.map((scope) =>
    REQUIRED_SCOPES.includes(scope)
      ? // A disabled checkbox is not submitted; required scopes are forced server-side when requested.
        html`<li><label><input type="checkbox" checked disabled> ${SCOPE_LABELS[scope]}
          <span class="required">required</span></label>
          <input type="hidden" name="grant" value="${scope}"></li>`
      : html`<li><label><input type="checkbox" name="grant" value="${scope}" checked> ${SCOPE_LABELS[scope]}</label></li>`,
  );
  const body = html`
<div class="app">${icon}<div><h1>${client.name}</h1>
  <div class="muted">wants to access your account${client.ownerUsername ? html` · by ${client.ownerUsername}` : ""}</div></div></div>
${client.description ? html`<p>${client.description}</p>` : ""}
<div class="muted">Signed in as <strong>${user.username}</strong>. Not you?
  <form class="inline" method="post" action="/logout">
    <input type="hidden" name="csrf_token" value="${csrfToken}">
    ${returnTo ? html`<input type="hidden" name="return_to" value="${returnTo}">` : ""}
    <button type="submit" class="link">Switch account</button>
  </form></div>
<form method="post" action="/v1/oauth2/authorize">
  <input type="hidden" name="csrf_token" value="${csrfToken}">
  ${hidden.map(([name, value]) => (value === null ? "" : html`<input type="hidden" name="${name}" value="${value}">`))}
  <p>This will allow the application to:</p>
  <ul class="scopes">${scopes}</ul>
  ${links.length > 0 ? html`<p class="muted">${links.map((link, i) => (i === 0 ? link : html` · ${link}`))}</p>` : ""}
  <p class="muted">You will be sent to ${new URL(request.redirectUri).origin}</p>
  <div class="actions">
    <button type="submit" name="action" value="deny" class="secondary">Cancel</button>
    <button type="submit" name="action" value="approve">Authorize</button>
  </div>
</form>`;
  return renderPage({ title: `Authorize ${client.name}`, body });
}
