/**
 * grant_type=client_credentials (RFC 6749 §4.4): the application acts as its own bot user; no refresh
 * token (§4.4.3).
 *
 * Database round trips (client authentication included): 1 — one statement confirms the client
 * against its row, reads its bot user and inserts family and access token (+1 SELECT application on
 * this process's first request for the client or after a secret change). When it writes nothing, one
 * read says why: stale client (401) or no bot user (400 unauthorized_client).
 */
import { generateToken } from "../crypto.ts";
import type { Deps } from "../deps.ts";
import { type AuthenticatedClient, confirmAgainst } from "../domain/client-authentication.ts";
import {
  issueClientCredentialsToken,
  readClientCredentialsRefusal,
} from "../domain/client-credentials-tokens.ts";
import type { IssuedTokens } from "../domain/issued-tokens.ts";
import { staleClient } from "./client.ts";
import { invalidScope, unauthorizedClient } from "./errors.ts";
import { CLIENT_CREDENTIALS_SCOPES } from "./metadata.ts";
import type { Params } from "./params.ts";
import { isSubset, parseRequestedScope } from "./scope.ts";

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
  const tokens = await issueClientCredentialsToken(deps.db, client, {
    familyId: deps.nextId(),
    scopes,
    now: deps.clock.now(),
    accessTokenTtlSeconds: deps.config.accessTokenTtlSeconds,
    accessToken: generateToken(),
  });
  if (tokens) return tokens;
  const refusal = await readClientCredentialsRefusal(deps.db, client.id);
  if (!confirmAgainst(client, refusal.storedSecretHash)) throw staleClient(deps, client);
  // RFC 6749 §4.4: confidential clients only; a public client's secret may sit in an app anyone has.
  if (refusal.publicClient) throw unauthorizedClient("A public client cannot use client_credentials");
  if (!refusal.hasBotUser) throw unauthorizedClient("This application has no bot user");
  throw new Error("client_credentials wrote nothing for a current client with a bot user");
}
