import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { findApplicationWithOwner, toPublicApplication } from "../domain/applications.ts";
import { toUserView } from "../domain/users.ts";
import { userClaims } from "../oauth/id-token.ts";
import { normalizeScopes } from "../oauth/scope.ts";
import { authenticateBearer, insufficientScopeResponse, invalidTokenResponse } from "./bearer.ts";
import { limitByIp } from "./rate-limit.ts";

/** Personal data: never cached by intermediaries. */
const PRIVATE = { "Cache-Control": "no-store", Pragma: "no-cache" };

/**
 * Userinfo is read by browser apps on other origins (OIDC relying parties in SPAs). The token travels
 * in `Authorization` and cookies are never read here, so any origin may call it: `*`, no credentials.
 */
const USERINFO_CORS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers": "WWW-Authenticate, Retry-After, X-Request-Id",
};
const USERINFO_PREFLIGHT = {
  ...USERINFO_CORS,
  "Access-Control-Allow-Methods": "GET, POST",
  "Access-Control-Allow-Headers": "Authorization, Content-Type",
  "Access-Control-Max-Age": "600",
  Allow: "GET, POST, OPTIONS",
};

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

/** Bearer resources of SPEC §8: userinfo, users/@me, oauth2/@me. */
export function resourceRoutes(deps: Deps) {
  const limit = { beforeHandle: limitByIp(deps, "oauth:introspect") };
  /**
   * SPEC §8 and OIDC Core §5.3: `identify` gives the Fluxer user object, `openid` the OpenID Connect
   * claims of the token's scopes; a token with only `openid` gets `{sub}`.
   */
  const userinfo = async ({ request }: { request: Request }): Promise<Response> => {
    const auth = await authenticateBearer(deps, request, { requiredScope: null });
    if (!auth.ok) return withHeaders(auth.response, USERINFO_CORS);
    const { scopes } = auth.token;
    if (!scopes.includes("identify") && !scopes.includes("openid"))
      return withHeaders(insufficientScopeResponse("identify"), USERINFO_CORS);
    const body: Record<string, unknown> = { sub: auth.user.id };
    if (scopes.includes("identify"))
      Object.assign(body, toUserView(auth.user, { withEmail: scopes.includes("email") }));
    if (scopes.includes("openid")) Object.assign(body, userClaims(auth.user, scopes));
    return Response.json(body, { headers: { ...PRIVATE, ...USERINFO_CORS } });
  };
  return new Elysia({ name: "resources" })
    .get("/v1/oauth2/userinfo", userinfo, limit)
    .post("/v1/oauth2/userinfo", userinfo, { ...limit, parse: "none" })
    .options("/v1/oauth2/userinfo", () => new Response(null, { status: 204, headers: USERINFO_PREFLIGHT }))
    .get(
      "/v1/users/@me",
      async ({ request }) => {
        const auth = await authenticateBearer(deps, request, { requiredScope: "identify" });
        if (!auth.ok) return auth.response;
        const withEmail = auth.token.scopes.includes("email");
        return Response.json(toUserView(auth.user, { withEmail }), { headers: PRIVATE });
      },
      limit,
    )
    .get(
      "/v1/oauth2/@me",
      async ({ request }) => {
        const auth = await authenticateBearer(deps, request, { requiredScope: null });
        if (!auth.ok) return auth.response;
        const application = await findApplicationWithOwner(deps.db, auth.token.applicationId);
        if (!application) return invalidTokenResponse();
        const scopes = normalizeScopes(auth.token.scopes);
        const body: Record<string, unknown> = {
          application: toPublicApplication(application.row, application.owner),
          scopes,
          expires: auth.token.expiresAt.toISOString(),
        };
        if (scopes.includes("identify"))
          body.user = toUserView(auth.user, { withEmail: scopes.includes("email") });
        return Response.json(body, { headers: PRIVATE });
      },
      limit,
    );
}
