import { batchedStatement, positionsOf, sentTimestamp, unnest } from "../db/batched-statement.ts";
import type { Db } from "../db/database.ts";
import { preparedQuery } from "../db/prepared-query.ts";

interface LiveToken {
  scopes: string[];
  userId: string;
  createdAt: Date;
}

const selectIntrospections = preparedQuery<{
  positions: number[];
  clientIds: string[];
  tokenHashes: string[];
  nows: string[];
}>()((db, param) =>
  db
    .with("input", (qc) =>
      qc.selectNoFrom([
        unnest(param("positions"), "integer").as("position"),
        unnest(param("clientIds"), "bigint").as("client_id"),
        unnest(param("tokenHashes"), "text").as("token_hash"),
        unnest(param("nows"), "timestamptz").as("now"),
      ]),
    )
    .selectFrom("input")
    .leftJoin("applications as app", "app.id", "input.client_id")
    .leftJoin("access_tokens as a", (join) =>
      join
        .onRef("a.token_hash", "=", "input.token_hash")
        .onRef("a.application_id", "=", "app.id")
        .onRef("a.expires_at", ">", "input.now"),
    )
    .leftJoin("token_families as af", (join) =>
      join.onRef("af.id", "=", "a.family_id").on("af.revoked_at", "is", null),
    )
    .leftJoin("refresh_tokens as r", (join) =>
      join.onRef("r.token_hash", "=", "input.token_hash").on("r.used_at", "is", null),
    )
    .leftJoin("token_families as rf", (join) =>
      join
        .onRef("rf.id", "=", "r.family_id")
        .onRef("rf.application_id", "=", "app.id")
        .on("rf.revoked_at", "is", null),
    )
    .select([
      "input.position",
      "app.client_secret_hash",
      "app.public_client",
      "af.id as access_family_id",
      "a.scopes as access_scopes",
      "a.user_id as access_user_id",
      "a.created_at as access_created_at",
      "a.expires_at as access_expires_at",
      "rf.id as refresh_family_id",
      "rf.user_id as refresh_user_id",
      "r.scopes as refresh_scopes",
      "r.created_at as refresh_created_at",
    ]),
);

interface IntrospectionLookup {
  clientId: string;
  tokenHash: string;
  now: Date;
}

/** Concurrent introspections go out together (db/batched-statement.ts). */
const selectIntrospection = batchedStatement({
  run: (db, items: IntrospectionLookup[]) =>
    selectIntrospections(db, {
      positions: positionsOf(items),
      clientIds: items.map((item) => item.clientId),
      tokenHashes: items.map((item) => item.tokenHash),
      nows: items.map((item) => sentTimestamp(item.now)),
    }),
});

/**
 * Introspection's one read: the calling application's stored secret hash (null: gone), and its live
 * access or refresh token with this hash (a hash is 256 bits: at most one of them matches). Live means
 * of this application, in a family not revoked; an access token unexpired; a refresh token unused (its
 * idle expiry is the caller's rule).
 */
export async function readIntrospection(
  db: Db,
  input: IntrospectionLookup,
): Promise<{
  storedSecretHash: string | null;
  /** The application's `public_client`: public clients may not introspect (SPEC §7.2). */
  publicClient: boolean;
  access: (LiveToken & { expiresAt: Date }) | null;
  refresh: LiveToken | null;
}> {
  const row = await selectIntrospection(db, input);
  if (!row || row.client_secret_hash === null)
    return { storedSecretHash: null, publicClient: false, access: null, refresh: null };
  const access =
    row.access_family_id === null ||
    row.access_scopes === null ||
    row.access_user_id === null ||
    row.access_created_at === null ||
    row.access_expires_at === null
      ? null
      : {
          scopes: row.access_scopes,
          userId: row.access_user_id,
          createdAt: new Date(row.access_created_at),
          expiresAt: new Date(row.access_expires_at),
        };
  const refresh =
    row.refresh_family_id === null ||
    row.refresh_scopes === null ||
    row.refresh_user_id === null ||
    row.refresh_created_at === null
      ? null
      : {
          scopes: row.refresh_scopes,
          userId: row.refresh_user_id,
          createdAt: new Date(row.refresh_created_at),
        };
  return {
    storedSecretHash: row.client_secret_hash,
    publicClient: row.public_client ?? false,
    access,
    refresh,
  };
}
