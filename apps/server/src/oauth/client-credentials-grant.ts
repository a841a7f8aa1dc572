/**
 * grant_type=client_credentials (RFC 6749 §4.4): the application acts as its own bot user.
 *
 * Database round trips (client authentication included): 1 (+1 SELECT application on this process's
 * first request for the client or after a secret change) — one statement re-checks the client, reads
 * its bot user and inserts family and access token (was 5: client auth, BEGIN, 2 INSERTs, COMMIT).
 * When it inserts nothing: SELECT application, then 400 unauthorized_client (no bot user) or 401.
 * No refresh token (RFC 6749 §4.4.3).
 */
import { generateToken } from "../crypto.ts";
import type { Deps } from "../deps.ts";
import type { AuthenticatedClient } from "../domain/client-authentication.ts";
import { issueClientCredentialsToken } from "../domain/one-statement-grants.ts";
import type { IssuedTokens } from "../domain/token-families.ts";
import { staleClient } from "./client.ts";
import { invalidScope, unauthorizedClient } from "./errors.ts";
import { CLIENT_CREDENTIALS_SCOPES } from "./metadata.ts";
import { isSubset, parseRequestedScope } from "./scope.ts";
import type { Params } from "./token.ts";

export async function issueClientCredentials(
  deps: Deps,
  client: AuthenticatedClient,
  params: Params,
): Promise<IssuedTokens> {
  // Omitted scope → the whole client-credentials registry (today just `identify`).
  const scopes = params.has("scope")
    ? parseRequestedScope(params.get("scope"))
    : [...CLIENT_CREDENTIALS_SCOPES];
  if (!isSubset(scopes, CLIENT_CREDENTIALS_SCOPES))
    throw invalidScope(`client_credentials tokens may only carry: ${CLIENT_CREDENTIALS_SCOPES.join(" ")}`);
  const tokens = await issueClientCredentialsToken(
    deps.db,
    client,
    { familyId: deps.nextId(), scopes },
    {
      now: deps.clock.now(),
      accessTokenTtlSeconds: deps.config.accessTokenTtlSeconds,
      accessToken: generateToken(),
    },
  );
  if (tokens) return tokens;
  // Nothing inserted: either the application has no bot user, or the client is no longer current.
  const application = await deps.db
    .selectFrom("applications")
    .select("bot_user_id")
    .where("id", "=", client.id)
    .where("client_secret_hash", "=", client.secretHash)
    .executeTakeFirst();
  if (!application) throw staleClient(deps, client);
  if (application.bot_user_id === null) throw unauthorizedClient("This application has no bot user");
  throw new Error("client_credentials statement inserted nothing for a current client with a bot user");
}
