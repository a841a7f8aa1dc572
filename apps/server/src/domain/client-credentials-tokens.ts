import { hashToken } from "../crypto.ts";
import type { Db } from "../db/database.ts";
import { preparedQuery } from "../db/prepared-query.ts";
import type { AuthenticatedClient } from "./client-authentication.ts";
import { accessTokenExpiry, type IssuedTokens, orNoneOnDeletedParent } from "./issued-tokens.ts";

export interface ClientCredentialsIssue {
  familyId: string;
  scopes: string[];
  now: Date;
  accessTokenTtlSeconds: number;
  accessToken: string;
}

const insertBotFamily = preparedQuery<{
  familyId: string;
  clientId: string;
  secretHash: string | null;
  scopes: string[];
  now: Date;
  expiresAt: Date;
  accessTokenHash: string;
}>()((db, param) =>
  db
    .with("family", (qc) =>
      qc
        .insertInto("token_families")
        .columns(["id", "application_id", "user_id", "grant_type", "scopes", "code_hash", "created_at"])
        .expression((eb) =>
          eb
            .selectFrom("applications")
            .select([
              eb.val(param("familyId")).as("id"),
              "applications.id as application_id",
              "applications.bot_user_id",
              eb.val("client_credentials").as("grant_type"),
              eb.val(param("scopes")).as("scopes"),
              eb.lit(null).as("code_hash"),
              eb.val(param("now")).as("created_at"),
            ])
            .where("applications.id", "=", param("clientId"))
            .where("applications.client_secret_hash", "=", param("secretHash"))
            .where("applications.public_client", "=", eb.lit(false))
            .where("applications.bot_user_id", "is not", null),
        )
        .returning(["id", "application_id", "user_id", "scopes", "created_at"]),
    )
    // The access token repeats the family's application, scopes and time from its RETURNING row, so
    // each value is sent (and serialised) once.
    .insertInto("access_tokens")
    .columns(["token_hash", "family_id", "application_id", "user_id", "scopes", "created_at", "expires_at"])
    .expression((eb) =>
      eb
        .selectFrom("family")
        .select([
          eb.val(param("accessTokenHash")).as("token_hash"),
          "family.id",
          "family.application_id",
          "family.user_id",
          "family.scopes",
          "family.created_at",
          eb.val(param("expiresAt")).as("expires_at"),
        ]),
    )
    .returning("family_id"),
);

/**
 * client_credentials' only write, one statement: a family for the application's bot user and its
 * access token. It takes a client that may be unconfirmed because the statement confirms it itself:
 * it writes only if the application's stored secret hash is still the presented one and the application
 * is confidential (RFC 6749 §4.4). Null when it wrote nothing (stale client, public client, no bot
 * user, or the application deleted meanwhile).
 */
export async function issueClientCredentialsToken(
  db: Db,
  client: AuthenticatedClient,
  issue: ClientCredentialsIssue,
): Promise<IssuedTokens | null> {
  const expiresAt = accessTokenExpiry(issue.now, issue.accessTokenTtlSeconds);
  const rows = await orNoneOnDeletedParent(() =>
    insertBotFamily(db, {
      familyId: issue.familyId,
      clientId: client.id,
      secretHash: client.secretHash,
      scopes: issue.scopes,
      now: issue.now,
      expiresAt,
      accessTokenHash: hashToken(issue.accessToken),
    }),
  );
  if (rows.length === 0) return null;
  return {
    accessToken: issue.accessToken,
    refreshToken: null,
    expiresAt,
    scopes: issue.scopes,
    authentication: null,
  };
}

/** Why nothing was written: the application's current secret hash (null: deleted), type and bot user. */
export async function readClientCredentialsRefusal(
  db: Db,
  clientId: string,
): Promise<{ storedSecretHash: string | null; publicClient: boolean; hasBotUser: boolean }> {
  const row = await db
    .selectFrom("applications")
    .select(["client_secret_hash", "public_client", "bot_user_id"])
    .where("id", "=", clientId)
    .executeTakeFirst();
  return {
    storedSecretHash: row?.client_secret_hash ?? null,
    publicClient: row?.public_client ?? false,
    hasBotUser: (row?.bot_user_id ?? null) !== null,
  };
}
