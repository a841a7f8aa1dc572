import type { Deps } from "../deps.ts";
import type { AuthenticatedClient } from "../domain/client-authentication.ts";
import { findRedirectUris, isPublicClientOrigin } from "../domain/client-origins.ts";
import { isRedirectOrigin } from "../domain/redirect-uris.ts";
import { invalidClient, invalidRequest } from "../oauth/errors.ts";

/**
 * CORS at the token and revocation endpoints (SPEC §7.2), for browser apps that are public clients.
 * - A preflight carries no client id: it is answered for the origins any public client registered.
 * - The request itself is held to the calling client's redirect origins *before* anything is written:
 *   a form POST needs no preflight, so a foreign page could otherwise spend a code it got hold of.
 *   Refused: 400 invalid_request without CORS headers (the page reads nothing).
 * - Without `Origin` (servers, native apps) nothing changes.
 * Credentials are never allowed: public clients have none, and cookies play no part here.
 */

const PREFLIGHT_MAX_AGE_SECONDS = 600;

export async function tokenEndpointPreflight(deps: Deps, request: Request): Promise<Response> {
  const headers = new Headers({
    Allow: "POST, OPTIONS",
    Vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
  });
  const origin = request.headers.get("origin");
  const method = request.headers.get("access-control-request-method");
  if (origin !== null && method === "POST" && (await isPublicClientOrigin(deps.db, origin))) {
    headers.set("Access-Control-Allow-Origin", origin);
    headers.set("Access-Control-Allow-Methods", "POST");
    headers.set("Access-Control-Allow-Headers", "Content-Type");
    headers.set("Access-Control-Max-Age", String(PREFLIGHT_MAX_AGE_SECONDS));
  }
  return new Response(null, { status: 204, headers });
}

/**
 * The CORS headers of a request from `client`: none without `Origin`; otherwise the origin must be
 * one of the client's redirect origins, or the request ends here (one read, only for browsers).
 */
export async function tokenEndpointCorsHeaders(
  deps: Deps,
  client: AuthenticatedClient,
  request: Request,
): Promise<Record<string, string>> {
  const origin = request.headers.get("origin");
  if (origin === null) return {};
  const redirectUris = await findRedirectUris(deps.db, client.id);
  if (redirectUris === null) throw invalidClient();
  if (!isRedirectOrigin(redirectUris, origin))
    throw invalidRequest("This origin is not one of the client's redirect URI origins");
  return { "Access-Control-Allow-Origin": origin, Vary: "Origin" };
}
