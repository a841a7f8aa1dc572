import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { findApplicationWithOwner, toPublicApplication } from "../domain/applications.ts";
import { toUserView } from "../domain/users.ts";
import { normalizeScopes } from "../oauth/scope.ts";
import { authenticateBearer, invalidTokenResponse } from "./bearer.ts";
import { limitByIp } from "./rate-limit.ts";

/** Personal data: never cached by intermediaries. */
const PRIVATE = { "Cache-Control": "no-store", Pragma: "no-cache" };

/** Bearer resources of SPEC §8: userinfo, users/@me, oauth2/@me. */
export function resourceRoutes(deps: Deps) {
  const limit = { beforeHandle: limitByIp(deps, "oauth:introspect") };
  return new Elysia({ name: "resources" })
    .get(
      "/v1/oauth2/userinfo",
      async ({ request }) => {
        const auth = await authenticateBearer(deps, request, { requiredScope: "identify" });
        if (!auth.ok) return auth.response;
        const withEmail = auth.token.scopes.includes("email");
        return Response.json(
          { sub: auth.user.id, ...toUserView(auth.user, { withEmail }) },
          { headers: PRIVATE },
        );
      },
      limit,
    )
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
