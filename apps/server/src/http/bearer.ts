import type { Deps } from "../deps.ts";
import { type AccessToken, validateAccessToken } from "../domain/access-tokens.ts";
import type { UserProfileRow } from "../domain/users.ts";
import type { Scope } from "../oauth/scope.ts";
import { apiErrorResponse } from "./responses.ts";

const REALM = 'realm="fluxer"';

export type BearerResult =
  | { ok: true; token: AccessToken; user: UserProfileRow }
  | { ok: false; response: Response };

/**
 * The token of `Authorization: Bearer <token>` (RFC 6750 §2.1): null when there is no such header or it
 * names another scheme, "malformed" when it says Bearer but is not `Bearer <one b64token>`.
 */
export function bearerTokenFrom(request: Request): string | null | "malformed" {
  const header = request.headers.get("authorization");
  if (header === null || !/^bearer(\s|$)/i.test(header)) return null;
  const match = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1] ?? "malformed";
}

/** RFC 6750 §3.1: a malformed request is 400 invalid_request (REST envelope, SPEC §3). */
export function malformedBearerResponse(): Response {
  return apiErrorResponse("INVALID_REQUEST", "Malformed Authorization header: expected Bearer <token>", {
    headers: { "WWW-Authenticate": `Bearer ${REALM}, error="invalid_request"` },
  });
}

function missingTokenResponse(): Response {
  // RFC 6750 §3.1: a request without credentials gets the challenge but no error code.
  return apiErrorResponse("UNAUTHORIZED", "Missing bearer token", {
    headers: { "WWW-Authenticate": `Bearer ${REALM}` },
  });
}

export function invalidTokenResponse(): Response {
  return apiErrorResponse("INVALID_TOKEN", "Invalid, expired or revoked access token", {
    headers: {
      "WWW-Authenticate": `Bearer ${REALM}, error="invalid_token", error_description="The access token is invalid"`,
    },
  });
}

export function insufficientScopeResponse(scope: Scope): Response {
  return apiErrorResponse("MISSING_OAUTH_SCOPE", `This endpoint requires the ${scope} scope`, {
    extra: { required_scope: scope },
    headers: { "WWW-Authenticate": `Bearer ${REALM}, error="insufficient_scope", scope="${scope}"` },
  });
}

/**
 * RFC 6750 bearer authentication for resource endpoints: one indexed query (token + family + user), so
 * a revoked family, an expired token or a deleted application's token fails at once.
 */
export async function authenticateBearer(
  deps: Deps,
  request: Request,
  options: { requiredScope: Scope | null },
): Promise<BearerResult> {
  const presented = bearerTokenFrom(request);
  if (presented === null) return { ok: false, response: missingTokenResponse() };
  if (presented === "malformed") return { ok: false, response: malformedBearerResponse() };
  const found = await validateAccessToken(deps.db, presented, deps.clock.now());
  if (!found) return { ok: false, response: invalidTokenResponse() };
  if (options.requiredScope !== null && !found.token.scopes.includes(options.requiredScope))
    return { ok: false, response: insufficientScopeResponse(options.requiredScope) };
  return { ok: true, ...found };
}
