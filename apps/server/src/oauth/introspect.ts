/**
 * Token introspection (RFC 7662). Active only for a live token of the calling client; anything else
 * is exactly {"active": false}, so the response never tells whose a token is.
 *
 * Database round trips (client authentication included): 1 — one statement re-checks the client and
 * looks up access and refresh tokens together (+1 SELECT application on this process's first request
 * for the client or after a secret change). Was 2 (access token found) or 3 (refresh token).
 */
import { sql } from "kysely";
import { hashToken, hasTokenShape } from "../crypto.ts";
import type { Deps } from "../deps.ts";
import { type AuthenticatedClient, isCurrentClient } from "../domain/client-authentication.ts";
import { refreshIdleCutoff } from "../domain/token-families.ts";
import { staleClient } from "./client.ts";
import { invalidRequest } from "./errors.ts";
import { formatScope } from "./scope.ts";
import type { Params } from "./token.ts";

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

const seconds = (date: Date | string) => Math.floor(new Date(date).getTime() / 1000);

interface FoundToken {
  client_ok: boolean;
  token_type: "Bearer" | "refresh_token" | null;
  scopes: string[];
  user_id: string;
  created_at: Date | string;
  expires_at: Date | string | null;
}

/**
 * One statement: whether the client is still current, and the live token of that client (access or
 * refresh; the hinted kind first, as RFC 7662 §2.1 suggests). A hash is 256 bits: at most one matches.
 */
async function findToken(
  deps: Deps,
  client: AuthenticatedClient,
  tokenHash: string,
  preferred: "Bearer" | "refresh_token",
): Promise<FoundToken> {
  const now = deps.clock.now();
  const createdAfter = refreshIdleCutoff(deps.config, now);
  const { rows } = await sql<FoundToken>`
    select c.ok as client_ok, t.token_type, t.scopes, t.user_id, t.created_at, t.expires_at
    from (select ${isCurrentClient(client)} as ok) c
    left join lateral (
      select * from (
        select 'Bearer' as token_type, a.scopes, a.user_id, a.created_at, a.expires_at
        from access_tokens a join token_families f on f.id = a.family_id
        where a.token_hash = ${tokenHash} and a.application_id = ${client.id}
          and a.expires_at > ${now} and f.revoked_at is null
        union all
        select 'refresh_token', r.scopes, f.user_id, r.created_at, null::timestamptz
        from refresh_tokens r join token_families f on f.id = r.family_id
        where r.token_hash = ${tokenHash} and r.used_at is null
          and f.application_id = ${client.id} and f.revoked_at is null
          and (${createdAfter}::timestamptz is null or r.created_at > ${createdAfter}::timestamptz)
      ) u
      order by u.token_type = ${preferred} desc
      limit 1
    ) t on c.ok`.execute(deps.db);
  const row = rows[0];
  if (!row) throw new Error("introspection query returned no row");
  return row;
}

export async function introspectToken(
  deps: Deps,
  client: AuthenticatedClient,
  params: Params,
): Promise<IntrospectionResponse> {
  const token = params.get("token");
  if (token === undefined) throw invalidRequest("Missing token");
  if (!hasTokenShape(token)) return { active: false };
  const preferred = params.get("token_type_hint") === "refresh_token" ? "refresh_token" : "Bearer";
  const found = await findToken(deps, client, hashToken(token), preferred);
  if (!found.client_ok) throw staleClient(deps, client);
  if (found.token_type === null) return { active: false };
  const response: IntrospectionResponse = {
    active: true,
    scope: formatScope(found.scopes),
    client_id: client.id,
    token_type: found.token_type,
    iat: seconds(found.created_at),
    sub: found.user_id,
    iss: deps.config.issuer,
  };
  if (found.expires_at !== null) response.exp = seconds(found.expires_at);
  return response;
}
