/**
 * Token introspection (RFC 7662). Active only for a live token of the calling client; anything else
 * is exactly {"active": false}, so the response never tells whose a token is.
 *
 * Database round trips (client authentication included): 1 — one read confirms the client against
 * its row and finds the token among access and refresh tokens. It runs even for a token that cannot
 * be one of ours, so a client whose secret was reset is refused at once, whatever it asks.
 */
import { hashToken, hasTokenShape } from "../crypto.ts";
import type { Deps } from "../deps.ts";
import { type AuthenticatedClient, confirmAgainst } from "../domain/client-authentication.ts";
import { readIntrospection } from "../domain/introspection.ts";
import { staleClient } from "./client.ts";
import { invalidClient, invalidRequest } from "./errors.ts";
import type { Params } from "./params.ts";
import { isIdleExpired } from "./refresh-token-grant.ts";
import { formatScope } from "./scope.ts";

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      token_type: "Bearer" | "refresh_token";
      exp?: number;
      iat: number;
      sub: string;
      iss: string;
    };

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** Not a SHA-256 hex digest: a token of the wrong shape is looked up as this and never found. */
const NO_TOKEN_HASH = "-";

export async function introspectToken(
  deps: Deps,
  client: AuthenticatedClient,
  params: Params,
): Promise<IntrospectionResponse> {
  const token = params.get("token");
  if (token === undefined) throw invalidRequest("Missing token");
  const now = deps.clock.now();
  const found = await readIntrospection(deps.db, {
    clientId: client.id,
    tokenHash: hasTokenShape(token) ? hashToken(token) : NO_TOKEN_HASH,
    now,
  });
  if (!confirmAgainst(client, found.storedSecretHash)) throw staleClient(deps, client);
  // Introspection is for resource servers and confidential clients (SPEC §7.2): a public client's
  // secret proves nothing, so it is not an authenticated client here.
  if (found.publicClient) throw invalidClient("A public client cannot introspect tokens");
  const refresh =
    found.refresh && !isIdleExpired(found.refresh.createdAt, now, deps.config.refreshTokenIdleSeconds)
      ? found.refresh
      : null;
  const live = found.access ?? refresh;
  if (!live) return { active: false };
  const response: IntrospectionResponse = {
    active: true,
    scope: formatScope(live.scopes),
    client_id: client.id,
    token_type: found.access ? "Bearer" : "refresh_token",
    iat: seconds(live.createdAt),
    sub: live.userId,
    iss: deps.config.issuer,
  };
  if (found.access) response.exp = seconds(found.access.expiresAt);
  return response;
}
