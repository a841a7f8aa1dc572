import { hashToken, hasTokenShape } from "../crypto.ts";
import { batchedStatement, positionsOf, sentTimestamp, unnest } from "../db/batched-statement.ts";
import type { Db } from "../db/database.ts";
import { preparedQuery } from "../db/prepared-query.ts";
import { PROFILE_COLUMNS, type UserProfileRow } from "./users.ts";

export interface AccessToken {
  familyId: string;
  applicationId: string;
  userId: string;
  grantType: "authorization_code" | "client_credentials";
  scopes: string[];
  createdAt: Date;
  expiresAt: Date;
}

const selectAccessTokens = preparedQuery<{ positions: number[]; tokenHashes: string[]; nows: string[] }>()(
  (db, param) =>
    db
      .with("input", (qc) =>
        qc.selectNoFrom([
          unnest(param("positions"), "integer").as("position"),
          unnest(param("tokenHashes"), "text").as("token_hash"),
          unnest(param("nows"), "timestamptz").as("now"),
        ]),
      )
      .selectFrom("input")
      .innerJoin("access_tokens", "access_tokens.token_hash", "input.token_hash")
      .innerJoin("token_families", "token_families.id", "access_tokens.family_id")
      .innerJoin("users", "users.id", "access_tokens.user_id")
      .select(PROFILE_COLUMNS.map((column) => `users.${column}` as const))
      .select([
        "input.position",
        "access_tokens.family_id as at_family_id",
        "access_tokens.application_id as at_application_id",
        "access_tokens.scopes as at_scopes",
        "access_tokens.created_at as at_created_at",
        "access_tokens.expires_at as at_expires_at",
        "token_families.grant_type as at_grant_type",
      ])
      .whereRef("access_tokens.expires_at", ">", "input.now")
      .where("token_families.revoked_at", "is", null),
);

/** Concurrent bearer checks go out together (db/batched-statement.ts). */
const selectAccessToken = batchedStatement({
  run: (db, items: { tokenHash: string; now: Date }[]) =>
    selectAccessTokens(db, {
      positions: positionsOf(items),
      tokenHashes: items.map((item) => item.tokenHash),
      nows: items.map((item) => sentTimestamp(item.now)),
    }),
});

/**
 * Hash, look up, check, in ONE indexed query (primary key of access_tokens) that joins the family and
 * the user: a revoked family, an expired token, a deleted application (cascade) or user is dead at once.
 */
export async function validateAccessToken(
  db: Db,
  token: string,
  now: Date,
): Promise<{ token: AccessToken; user: UserProfileRow } | null> {
  if (!hasTokenShape(token)) return null;
  const row = await selectAccessToken(db, { tokenHash: hashToken(token), now });
  if (!row) return null;
  const { at_family_id, at_application_id, at_scopes, at_created_at, at_expires_at, at_grant_type, ...user } =
    row;
  return {
    token: {
      familyId: at_family_id,
      applicationId: at_application_id,
      userId: user.id,
      grantType: at_grant_type,
      scopes: at_scopes,
      createdAt: new Date(at_created_at),
      expiresAt: new Date(at_expires_at),
    },
    user,
  };
}
