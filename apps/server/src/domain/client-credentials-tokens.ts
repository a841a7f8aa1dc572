import { hashToken } from "../crypto.ts";
import {
  batchedStatement,
  positioned,
  sentTimestamp,
  spaceSeparated,
  unnest,
} from "../db/batched-statement.ts";
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

const insertBotFamilies = preparedQuery<{
  familyIds: string[];
  clientIds: string[];
  secretHashes: (string | null)[];
  /** Each item's scopes, space-separated (a scope token has no spaces: RFC 6749 §3.3). */
  scopes: string[];
  nows: string[];
  expiresAts: string[];
  accessTokenHashes: string[];
}>()((db, param) =>
  db
    .with("input", (qc) =>
      qc.selectNoFrom([
        unnest(param("familyIds"), "bigint").as("family_id"),
        unnest(param("clientIds"), "bigint").as("client_id"),
        unnest(param("secretHashes"), "text null").as("secret_hash"),
        unnest(param("scopes"), "text").as("scopes"),
        unnest(param("nows"), "timestamptz").as("now"),
        unnest(param("expiresAts"), "timestamptz").as("expires_at"),
        unnest(param("accessTokenHashes"), "text").as("access_token_hash"),
      ]),
    )
    .with("family", (qc) =>
      qc
        .insertInto("token_families")
        .columns(["id", "application_id", "user_id", "grant_type", "scopes", "code_hash", "created_at"])
        .expression((eb) =>
          eb
            .selectFrom("input")
            .innerJoin("applications", "applications.id", "input.client_id")
            .select([
              "input.family_id as id",
              "applications.id as application_id",
              "applications.bot_user_id",
              eb.val("client_credentials").as("grant_type"),
              spaceSeparated("input.scopes").as("scopes"),
              eb.lit(null).as("code_hash"),
              "input.now as created_at",
            ])
            .whereRef("applications.client_secret_hash", "=", "input.secret_hash")
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
        .innerJoin("input", "input.family_id", "family.id")
        .select([
          "input.access_token_hash as token_hash",
          "family.id",
          "family.application_id",
          "family.user_id",
          "family.scopes",
          "family.created_at",
          "input.expires_at",
        ]),
    )
    .returning("family_id"),
);

interface BotFamily {
  familyId: string;
  clientId: string;
  secretHash: string | null;
  scopes: string[];
  now: Date;
  expiresAt: Date;
  accessTokenHash: string;
}

/** Concurrent client-credentials writes go out together (db/batched-statement.ts). */
const insertBotFamily = batchedStatement<BotFamily, { family_id: string }>({
  run: async (db, items) => {
    const rows = await insertBotFamilies(db, {
      familyIds: items.map((item) => item.familyId),
      clientIds: items.map((item) => item.clientId),
      secretHashes: items.map((item) => item.secretHash),
      scopes: items.map((item) => item.scopes.join(" ")),
      nows: items.map((item) => sentTimestamp(item.now)),
      expiresAts: items.map((item) => sentTimestamp(item.expiresAt)),
      accessTokenHashes: items.map((item) => item.accessTokenHash),
    });
    return positioned(
      items,
      (item) => item.familyId,
      rows,
      (row) => row.family_id,
    );
  },
});

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
  const item = {
    familyId: issue.familyId,
    clientId: client.id,
    secretHash: client.secretHash,
    scopes: issue.scopes,
    now: issue.now,
    expiresAt,
    accessTokenHash: hashToken(issue.accessToken),
  };
  const rows = await orNoneOnDeletedParent(async () => {
    const row = await insertBotFamily(db, item);
    return row ? [row] : [];
  });
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
