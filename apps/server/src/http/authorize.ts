import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { validateSessionToken } from "../domain/sessions.ts";
import {
  AUTHORIZE_PARAMS,
  type AuthorizeValidation,
  errorTargetOf,
  validateAuthorizationRequest,
} from "../oauth/authorization-request.ts";
import {
  authorizeSilently,
  denyAuthorization,
  errorRedirectUrl,
  type GrantContext,
  grantAuthorization,
  narrowScopes,
  signInTooOld,
} from "../oauth/authorization-response.ts";
import { accessDenied, loginRequired, type OAuthError } from "../oauth/errors.ts";
import {
  BodyAbortedError,
  BodyTooLargeError,
  InvalidEncodingError,
  mediaType,
  readBodyText,
} from "./body.ts";
import { renderConsentPage } from "./consent-page.ts";
import { isSameOriginRequest, sessionCsrfToken, verifySessionCsrfToken } from "./csrf.ts";
import { readForm, singleField } from "./form.ts";
import { crossOriginRefusalPage, errorPage, htmlResponse, refusalPage } from "./html.ts";
import { readPageSession, safeReturnTo } from "./page-session.ts";
import { limitByIp } from "./rate-limit.ts";
import { apiErrorResponse, redirectResponse, SECURITY_HEADERS } from "./responses.ts";
import { sessionTokenFromHeader } from "./session-token.ts";

/**
 * Browsers apply the submitting page's `form-action` to the redirects that follow a form POST, so
 * the global `form-action 'self'` would block the 303 to the client. The consent page widens it to
 * exactly the origin of the (already validated) redirect URI and keeps every other directive.
 */
function consentPageCsp(redirectUri: string): string {
  const global = SECURITY_HEADERS["Content-Security-Policy"] ?? "";
  const origin = new URL(redirectUri).origin;
  return global.replace("form-action 'self'", `form-action 'self' ${origin}`);
}

function wantsJson(request: Request): boolean {
  const accept = request.headers.get("accept") ?? "";
  return accept.includes("application/json") && !accept.includes("text/html");
}

/** A fatal error for an API caller: never redirected, never cached. */
function fatalErrorJson(error: OAuthError): Response {
  return Response.json(error.toJSON(), { status: 400, headers: { "Cache-Control": "no-store" } });
}

/** What a person is told when the link that brought them here cannot be trusted (SPEC §7.1 step 1). */
function fatalErrorMessage(error: OAuthError): string {
  const what =
    error.code === "invalid_client"
      ? "Fluxer does not know the app that sent you here. It may have been deleted, or the link may be mistyped."
      : "The app that sent you here made a link that is incomplete, or that would send you back to an address the app never registered.";
  return `${what} Nothing was shared with the app. Go back to the app and try again, or ask its developer to fix the link.`;
}

/** Fatal errors are shown, never redirected: the client or its redirect URI could not be trusted. */
function authorizeFailure(
  request: Request,
  failure: Extract<AuthorizeValidation, { ok: false }>,
  issuer: string,
  status: 302 | 303,
): Response {
  if (failure.target)
    return redirectResponse(errorRedirectUrl(failure.target, failure.error, issuer), status);
  if (wantsJson(request)) return fatalErrorJson(failure.error);
  return errorPage({
    status: 400,
    title: "This link to sign in with an app is broken or out of date",
    message: fatalErrorMessage(failure.error),
    detail: `${failure.error.code}: ${failure.error.description}`,
  });
}

/**
 * Where a user goes to sign in for this request: `/login`, then back to the same request without
 * `prompt=login` and `max_age`, which the sign-in just made satisfies (keeping them would send the
 * user round in circles: by the time it is checked, no sign-in is 0 seconds old).
 */
function signInRedirect(url: URL): Response {
  const back = new URL(url);
  const prompts = (back.searchParams.get("prompt") ?? "").split(" ").filter((p) => p !== "" && p !== "login");
  if (prompts.length > 0) back.searchParams.set("prompt", prompts.join(" "));
  else back.searchParams.delete("prompt");
  back.searchParams.delete("max_age");
  return redirectResponse(`/login?return_to=${encodeURIComponent(back.pathname + back.search)}`, 302);
}

/** The authorize parameters of a form or JSON body, as the validator reads them from a query. */
function pickAuthorizeParams(source: (name: string) => string[]): URLSearchParams {
  const params = new URLSearchParams();
  for (const name of AUTHORIZE_PARAMS) for (const value of source(name)) params.append(name, value);
  return params;
}

/**
 * `POST /v1/oauth2/authorize/consent` body: the authorization request parameters as strings, where
 * `scope` is the (possibly narrowed) set the user approved, as Fluxer's own UI sends it; plus our
 * optional `approve` (default true; false answers the access_denied redirect). Unknown keys (Fluxer's
 * guild_id, permissions) are ignored.
 */
export const consentBody = z.object({
  client_id: z.string().max(64).optional(),
  redirect_uri: z.string().max(2048).optional(),
  response_type: z.string().max(64).optional(),
  scope: z.string().max(1024).optional(),
  state: z.string().max(2048).optional(),
  prompt: z.string().max(64).optional(),
  code_challenge: z.string().max(256).optional(),
  code_challenge_method: z.string().max(16).optional(),
  nonce: z.string().max(2048).optional(),
  max_age: z.string().max(16).optional(),
  approve: z.boolean().optional(),
});

export function authorizeRoutes(deps: Deps) {
  const issuer = deps.config.issuer;
  const grantContext = (): GrantContext => ({
    db: deps.db,
    now: deps.clock.now(),
    issuer,
    codeTtlSeconds: deps.config.authorizationCodeTtlSeconds,
  });

  const limit = limitByIp(deps, "oauth:authorize");
  return new Elysia({ name: "authorize" })
    .get(
      "/v1/oauth2/authorize",
      async ({ request }) => {
        const url = new URL(request.url);
        const result = await validateAuthorizationRequest(deps.db, url.searchParams);
        if (!result.ok) return authorizeFailure(request, result, issuer, 302);
        const page = await readPageSession(deps, request);
        if (result.request.prompt === "none")
          return redirectResponse(
            await authorizeSilently(grantContext(), {
              request: result.request,
              user: page ? { id: page.user.id, authenticatedAt: page.session.authenticatedAt } : null,
            }),
            302,
          );
        // OpenID Connect: prompt=login and a sign-in older than max_age both ask for a fresh sign-in.
        if (
          !page ||
          result.request.prompt === "login" ||
          signInTooOld(result.request, page.session.authenticatedAt, deps.clock.now())
        )
          return signInRedirect(url);
        return htmlResponse(
          renderConsentPage({
            request: result.request,
            user: page.user,
            csrfToken: sessionCsrfToken(page.token),
            returnTo: safeReturnTo(url.pathname + url.search),
          }),
          { headers: { "Content-Security-Policy": consentPageCsp(result.request.redirectUri) } },
        );
      },
      { beforeHandle: limit },
    )
    .post(
      "/v1/oauth2/authorize",
      async ({ request }) => {
        // Refuse before reading anything: a cross-site POST changes nothing, whatever it carries.
        if (!isSameOriginRequest(request, issuer)) return crossOriginRefusalPage();
        const read = await readForm(request);
        if (!read.ok) return errorPage({ status: read.status, title: "Bad request", message: read.message });
        const { form } = read;
        const page = await readPageSession(deps, request);
        if (!page)
          return errorPage({
            status: 401,
            title: "You were signed out",
            message: "Your session ended before you answered. Go back to the app and start again.",
          });
        if (!verifySessionCsrfToken(page.token, singleField(form, "csrf_token")))
          return refusalPage("Invalid or missing CSRF token.");
        const action = singleField(form, "action");
        if (action !== "approve" && action !== "deny")
          return errorPage({ status: 400, title: "Bad request", message: "Choose Authorize or Cancel." });

        const result = await validateAuthorizationRequest(
          deps.db,
          pickAuthorizeParams((name) => form.getAll(name)),
        );
        if (!result.ok) return authorizeFailure(request, result, issuer, 303);
        const authorization = result.request;
        if (action === "deny") return redirectResponse(denyAuthorization(authorization, issuer), 303);
        const scopes = narrowScopes(authorization.scopes, form.getAll("grant"));
        if (scopes.length === 0)
          return redirectResponse(
            errorRedirectUrl(errorTargetOf(authorization), accessDenied("No scope was approved"), issuer),
            303,
          );
        const location = await grantAuthorization(grantContext(), {
          request: authorization,
          userId: page.user.id,
          authenticatedAt: page.session.authenticatedAt,
          scopes,
          remember: true,
        });
        return redirectResponse(location, 303);
      },
      { parse: "none", beforeHandle: limit },
    )
    .post(
      "/v1/oauth2/authorize/consent",
      async ({ request, set }) => {
        // The answer carries an authorization code: never cached, like every redirect that carries one.
        set.headers["Cache-Control"] = "no-store";
        const token = sessionTokenFromHeader(request);
        const found = token ? await validateSessionToken(deps.db, token, deps.clock.now()) : null;
        if (!found) return apiErrorResponse("UNAUTHORIZED", "A valid session token is required");
        if (mediaType(request) !== "application/json")
          return apiErrorResponse("UNSUPPORTED_MEDIA_TYPE", "Expected application/json");
        let json: unknown;
        try {
          json = JSON.parse(await readBodyText(request));
        } catch (error) {
          if (error instanceof BodyTooLargeError)
            return apiErrorResponse("PAYLOAD_TOO_LARGE", "Request body too large");
          if (error instanceof SyntaxError || error instanceof InvalidEncodingError)
            return apiErrorResponse("INVALID_FORM_BODY", "Malformed JSON body");
          if (error instanceof BodyAbortedError)
            return apiErrorResponse("INVALID_FORM_BODY", "The body arrived incomplete");
          throw error;
        }
        const body = consentBody.safeParse(json);
        if (!body.success)
          return apiErrorResponse("INVALID_FORM_BODY", "Invalid consent body", {
            errors: body.error.issues.map((issue) => ({
              path: issue.path.join("."),
              code: issue.code.toUpperCase(),
              message: issue.message,
            })),
          });
        const { approve = true, ...fields } = body.data;
        const values = fields as Record<string, string | undefined>;
        const result = await validateAuthorizationRequest(
          deps.db,
          pickAuthorizeParams((name) => (values[name] === undefined ? [] : [values[name] as string])),
        );
        if (!result.ok) {
          if (result.target) return { redirect_to: errorRedirectUrl(result.target, result.error, issuer) };
          return fatalErrorJson(result.error);
        }
        if (!approve) return { redirect_to: denyAuthorization(result.request, issuer) };
        // A first-party frontend signs the user in itself; a session older than max_age cannot
        // approve (OIDC Core §3.1.2.1), so the frontend signs in again first.
        if (signInTooOld(result.request, found.session.authenticatedAt, deps.clock.now()))
          return {
            redirect_to: errorRedirectUrl(
              errorTargetOf(result.request),
              loginRequired("The user signed in longer ago than max_age"),
              issuer,
            ),
          };
        const redirectTo = await grantAuthorization(grantContext(), {
          request: result.request,
          userId: found.user.id,
          authenticatedAt: found.session.authenticatedAt,
          scopes: result.request.scopes,
          remember: true,
        });
        return { redirect_to: redirectTo };
      },
      { parse: "none", beforeHandle: limit },
    );
}
