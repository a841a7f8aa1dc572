import { Elysia } from "elysia";
import type { ApplicationRow, UserRow } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { findApplicationWithOwner, toApplication } from "../domain/applications.ts";
import { validateBotToken } from "../domain/bot-tokens.ts";
import { findUserById } from "../domain/users.ts";
import { authenticateBearer, bearerTokenFrom, malformedBearerResponse } from "./bearer.ts";
import { limitByIp } from "./rate-limit.ts";
import { apiErrorResponse } from "./responses.ts";

/** Both accepted schemes are offered (RFC 9110 §11.6.1); a rejected credential is flagged for Bearer clients. */
const MISSING_CHALLENGE = { "WWW-Authenticate": 'Bot, Bearer realm="fluxer"' };
const INVALID_CHALLENGE = { "WWW-Authenticate": 'Bot, Bearer realm="fluxer", error="invalid_token"' };

type ApplicationWithOwner = { row: ApplicationRow; owner: UserRow };

/** The application behind `Authorization: Bot <token>`; null when the header is absent or another scheme. */
async function applicationFromBotToken(deps: Deps, header: string): Promise<ApplicationWithOwner | null> {
  const match = /^Bot\s+(\S+)\s*$/i.exec(header);
  const row = match?.[1] ? await validateBotToken(deps.db, match[1]) : null;
  if (!row) return null;
  // validateBotToken already read the row; only its owner is missing.
  const owner = await findUserById(deps.db, row.owner_id);
  return owner ? { row, owner } : null;
}

/**
 * A client-credentials bearer token stands for the application itself (its subject is the bot user).
 * Returns the response to send when the token is a user's token (403: valid, but not an application).
 */
async function applicationFromBearer(
  deps: Deps,
  request: Request,
): Promise<{ application: ApplicationWithOwner | null } | { response: Response }> {
  const auth = await authenticateBearer(deps, request, { requiredScope: null });
  // An invalid bearer falls through to this endpoint's own INVALID_TOKEN answer.
  if (!auth.ok) return { application: null };
  if (auth.token.grantType !== "client_credentials")
    return {
      response: apiErrorResponse(
        "ACCESS_DENIED",
        "This endpoint needs a bot token or a client-credentials token",
      ),
    };
  return { application: await findApplicationWithOwner(deps.db, auth.token.applicationId) };
}

/** "Get Current Application" (SPEC §8): the application itself, never its secrets. */
export function currentApplicationRoutes(deps: Deps) {
  const handler = async ({ request }: { request: Request }) => {
    const header = request.headers.get("authorization");
    if (!header) return apiErrorResponse("UNAUTHORIZED", "Missing bot token", { headers: MISSING_CHALLENGE });
    let application: ApplicationWithOwner | null;
    const bearer = bearerTokenFrom(request);
    if (bearer === "malformed") return malformedBearerResponse();
    if (bearer !== null) {
      const found = await applicationFromBearer(deps, request);
      if ("response" in found) return found.response;
      application = found.application;
    } else {
      application = await applicationFromBotToken(deps, header);
    }
    if (!application)
      return apiErrorResponse("INVALID_TOKEN", "Invalid or revoked token", { headers: INVALID_CHALLENGE });
    return Response.json(toApplication(application.row, application.owner), {
      headers: { "Cache-Control": "no-store" },
    });
  };
  const limit = { beforeHandle: limitByIp(deps, "oauth:introspect") };
  return new Elysia({ name: "current-application" })
    .get("/v1/applications/@me", handler, limit)
    .get("/v1/oauth2/applications/@me", handler, limit);
}
