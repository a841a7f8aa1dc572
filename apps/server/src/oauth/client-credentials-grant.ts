/**
 * grant_type=client_credentials (RFC 6749 §4.4): the application acts as its own bot user.
 *
 * Database round trips (client authentication included): 5 — SELECT application (client auth,
 * which already carries bot_user_id), BEGIN, INSERT family, INSERT access token, COMMIT.
 * No refresh token (RFC 6749 §4.4.3).
 */
import type { ApplicationRow } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { createTokenFamily, type IssuedTokens } from "../domain/token-families.ts";
import { invalidScope, unauthorizedClient } from "./errors.ts";
import { CLIENT_CREDENTIALS_SCOPES } from "./metadata.ts";
import { isSubset, parseScope } from "./scope.ts";
import type { Params } from "./token.ts";

export async function issueClientCredentials(
  deps: Deps,
  client: ApplicationRow,
  params: Params,
): Promise<IssuedTokens> {
  // Omitted scope → the whole client-credentials registry (today just `identify`).
  const scopes = params.has("scope") ? parseScope(params.get("scope")) : [...CLIENT_CREDENTIALS_SCOPES];
  if (!isSubset(scopes, CLIENT_CREDENTIALS_SCOPES))
    throw invalidScope(`client_credentials tokens may only carry: ${CLIENT_CREDENTIALS_SCOPES.join(" ")}`);
  if (client.bot_user_id === null) throw unauthorizedClient("This application has no bot user");
  const botUserId = client.bot_user_id;
  const now = deps.clock.now();
  return deps.db.transaction().execute((trx) =>
    createTokenFamily(trx, {
      familyId: deps.nextId(),
      applicationId: client.id,
      userId: botUserId,
      grantType: "client_credentials",
      scopes,
      codeHash: null,
      now,
      accessTokenTtlSeconds: deps.config.accessTokenTtlSeconds,
      withRefreshToken: false,
    }),
  );
}
