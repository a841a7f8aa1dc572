/**
 * Token introspection (RFC 7662). Active only for a live token of the calling client; anything else
 * is exactly {"active": false}, so the response never tells whose a token is.
 *
 * Database round trips (client authentication included): 2 for a token found by the first lookup
 * (access tokens, or refresh tokens first when hinted), 3 otherwise.
 */
import { hashToken } from "../crypto.ts";
import type { ApplicationRow } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { hasTokenShape } from "../domain/access-tokens.ts";
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

export async function introspectToken(
  deps: Deps,
  client: ApplicationRow,
  params: Params,
): Promise<IntrospectionResponse> {
  const token = params.get("token");
  if (token === undefined) throw invalidRequest("Missing token");
  if (!hasTokenShape(token)) return { active: false };
  const tokenHash = hashToken(token);
  const now = deps.clock.now();
  const issuer = deps.config.issuer;
  const idle = deps.config.refreshTokenIdleSeconds;

  const findAccess = async (): Promise<IntrospectionResponse | null> => {
    const row = await deps.db
      .selectFrom("access_tokens")
      .innerJoin("token_families", "token_families.id", "access_tokens.family_id")
      .select([
        "access_tokens.scopes",
        "access_tokens.user_id",
        "access_tokens.created_at",
        "access_tokens.expires_at",
      ])
      .where("access_tokens.token_hash", "=", tokenHash)
      .where("access_tokens.application_id", "=", client.id)
      .where("access_tokens.expires_at", ">", now)
      .where("token_families.revoked_at", "is", null)
      .executeTakeFirst();
    if (!row) return null;
    return {
      active: true,
      scope: formatScope(row.scopes),
      client_id: client.id,
      token_type: "Bearer",
      exp: seconds(row.expires_at),
      iat: seconds(row.created_at),
      sub: row.user_id,
      iss: issuer,
    };
  };

  const findRefresh = async (): Promise<IntrospectionResponse | null> => {
    let query = deps.db
      .selectFrom("refresh_tokens")
      .innerJoin("token_families", "token_families.id", "refresh_tokens.family_id")
      .select(["refresh_tokens.scopes", "token_families.user_id", "refresh_tokens.created_at"])
      .where("refresh_tokens.token_hash", "=", tokenHash)
      .where("refresh_tokens.used_at", "is", null)
      .where("token_families.application_id", "=", client.id)
      .where("token_families.revoked_at", "is", null);
    if (idle !== null)
      query = query.where("refresh_tokens.created_at", ">", new Date(now.getTime() - idle * 1000));
    const row = await query.executeTakeFirst();
    if (!row) return null;
    return {
      active: true,
      scope: formatScope(row.scopes),
      client_id: client.id,
      token_type: "refresh_token",
      iat: seconds(row.created_at),
      sub: row.user_id,
      iss: issuer,
    };
  };

  const order =
    params.get("token_type_hint") === "refresh_token" ? [findRefresh, findAccess] : [findAccess, findRefresh];
  for (const find of order) {
    const found = await find();
    if (found) return found;
  }
  return { active: false };
}
