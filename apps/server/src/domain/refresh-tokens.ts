import { hashToken } from "../crypto.ts";
import type { Db } from "../db/database.ts";
import { preparedQuery } from "../db/prepared-query.ts";
import { recordAuditEvent } from "./audit.ts";
import type { ConfirmedClient } from "./client-authentication.ts";
import { accessTokenExpiry, type IssuedTokens, orNoneOnDeletedParent } from "./issued-tokens.ts";
import { revokeTokenFamily } from "./token-families.ts";

/**
 * What the refresh grant decides on, in one indexed read: the calling application's stored secret
 * hash (null: the application is gone), the presented token with its family, and the pair that
 * rotating it produced (found by the hashes of the derived successor; absent unless it was rotated).
 */
export interface RefreshState {
  storedSecretHash: string | null;
  /** The application's `public_client`: it may refresh without its secret. */
  publicClient: boolean;
  token: {
    familyId: string;
    generation: number;
    scopes: string[];
    createdAt: Date;
    usedAt: Date | null;
    applicationId: string;
    userId: string;
    familyRevokedAt: Date | null;
    /** When the user signed in for the family's code (OpenID Connect auth_time). */
    authTime: Date | null;
  } | null;
  successor: { usedAt: Date | null; accessScopes: string[]; accessExpiresAt: Date } | null;
}

const selectRefresh = preparedQuery<{
  clientId: string;
  tokenHash: string;
  successorRefreshHash: string;
  successorAccessHash: string;
}>()((db, param) =>
  db
    .selectFrom("applications as app")
    .leftJoin("refresh_tokens as token", (join) => join.on("token.token_hash", "=", param("tokenHash")))
    .leftJoin("token_families as family", "family.id", "token.family_id")
    .leftJoin("refresh_tokens as next", (join) =>
      join
        .on("next.token_hash", "=", param("successorRefreshHash"))
        .onRef("next.family_id", "=", "token.family_id"),
    )
    .leftJoin("access_tokens as next_access", (join) =>
      join
        .on("next_access.token_hash", "=", param("successorAccessHash"))
        .onRef("next_access.family_id", "=", "token.family_id"),
    )
    .select([
      "app.client_secret_hash",
      "app.public_client",
      "token.family_id",
      "token.generation",
      "token.scopes",
      "token.created_at",
      "token.used_at",
      "family.application_id",
      "family.user_id",
      "family.revoked_at",
      "family.auth_time",
      "next.token_hash as next_hash",
      "next.used_at as next_used_at",
      "next_access.scopes as next_access_scopes",
      "next_access.expires_at as next_access_expires_at",
    ])
    .where("app.id", "=", param("clientId")),
);

export async function readRefresh(
  db: Db,
  input: { clientId: string; tokenHash: string; successorHashes: { access: string; refresh: string } },
): Promise<RefreshState> {
  const [row] = await selectRefresh(db, {
    clientId: input.clientId,
    tokenHash: input.tokenHash,
    successorRefreshHash: input.successorHashes.refresh,
    successorAccessHash: input.successorHashes.access,
  });
  if (!row) return { storedSecretHash: null, publicClient: false, token: null, successor: null };
  const token =
    row.family_id === null ||
    row.generation === null ||
    row.scopes === null ||
    row.created_at === null ||
    row.application_id === null ||
    row.user_id === null
      ? null
      : {
          familyId: row.family_id,
          generation: row.generation,
          scopes: row.scopes,
          createdAt: new Date(row.created_at),
          usedAt: row.used_at === null ? null : new Date(row.used_at),
          applicationId: row.application_id,
          userId: row.user_id,
          familyRevokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
          authTime: row.auth_time === null ? null : new Date(row.auth_time),
        };
  const successor =
    row.next_hash === null || row.next_access_scopes === null || row.next_access_expires_at === null
      ? null
      : {
          usedAt: row.next_used_at === null ? null : new Date(row.next_used_at),
          accessScopes: row.next_access_scopes,
          accessExpiresAt: new Date(row.next_access_expires_at),
        };
  return { storedSecretHash: row.client_secret_hash, publicClient: row.public_client, token, successor };
}

export interface Rotation {
  tokenHash: string;
  familyId: string;
  userId: string;
  generation: number;
  /** The new refresh token keeps exactly the presented one's scope (RFC 6749 §6). */
  refreshScopes: string[];
  /** The new access token's scope: the request's `scope`, else the refresh token's. */
  accessScopes: string[];
  authTime: Date | null;
  now: Date;
  accessTokenTtlSeconds: number;
  accessToken: string;
  refreshToken: string;
}

const consumeAndRotate = preparedQuery<{
  tokenHash: string;
  familyId: string;
  clientId: string;
  nextGeneration: number;
  refreshScopes: string[];
  accessScopes: string[];
  now: Date;
  expiresAt: Date;
  accessTokenHash: string;
  refreshTokenHash: string;
}>()((db, param) =>
  db
    .with("consumed", (qc) =>
      qc
        .updateTable("refresh_tokens")
        .set({ used_at: param("now") })
        .where("token_hash", "=", param("tokenHash"))
        .where("family_id", "=", param("familyId"))
        .where("used_at", "is", null)
        .returning("family_id"),
    )
    .with("family", (qc) =>
      qc
        .selectFrom("token_families")
        .select(["id", "application_id", "user_id"])
        .where("id", "in", (eb) => eb.selectFrom("consumed").select("consumed.family_id"))
        .where("application_id", "=", param("clientId"))
        .where("revoked_at", "is", null)
        .forShare(),
    )
    .with("access", (qc) =>
      qc
        .insertInto("access_tokens")
        .columns([
          "token_hash",
          "family_id",
          "application_id",
          "user_id",
          "scopes",
          "created_at",
          "expires_at",
        ])
        .expression((eb) =>
          eb
            .selectFrom("family")
            .select([
              eb.val(param("accessTokenHash")).as("token_hash"),
              "family.id",
              "family.application_id",
              "family.user_id",
              eb.val(param("accessScopes")).as("scopes"),
              eb.val(param("now")).as("created_at"),
              eb.val(param("expiresAt")).as("expires_at"),
            ]),
        ),
    )
    .with("refresh", (qc) =>
      qc
        .insertInto("refresh_tokens")
        .columns(["token_hash", "family_id", "generation", "scopes", "created_at"])
        .expression((eb) =>
          eb
            .selectFrom("family")
            .select([
              eb.val(param("refreshTokenHash")).as("token_hash"),
              "family.id",
              eb.val(param("nextGeneration")).as("generation"),
              eb.val(param("refreshScopes")).as("scopes"),
              eb.val(param("now")).as("created_at"),
            ]),
        ),
    )
    .selectFrom("family")
    .select("family.id"),
);

/**
 * The refresh grant's rotation, one statement: consume the presented token — compare-and-swap on
 * exactly what the decision read (`used_at is null`, the family's `revoked_at is null`) — and insert
 * the successor pair. The family row is locked (`for share`) so a revocation racing this statement
 * either commits first (nothing is inserted) or waits and then revokes the new pair with the family.
 * Null when the swap failed: the caller reads again and decides again.
 */
export async function rotateRefreshToken(
  db: Db,
  client: ConfirmedClient,
  rotation: Rotation,
): Promise<IssuedTokens | null> {
  const expiresAt = accessTokenExpiry(rotation.now, rotation.accessTokenTtlSeconds);
  const rows = await orNoneOnDeletedParent(() =>
    consumeAndRotate(db, {
      tokenHash: rotation.tokenHash,
      familyId: rotation.familyId,
      clientId: client.id,
      nextGeneration: rotation.generation + 1,
      refreshScopes: rotation.refreshScopes,
      accessScopes: rotation.accessScopes,
      now: rotation.now,
      expiresAt,
      accessTokenHash: hashToken(rotation.accessToken),
      refreshTokenHash: hashToken(rotation.refreshToken),
    }),
  );
  if (rows.length === 0) return null;
  return {
    accessToken: rotation.accessToken,
    refreshToken: rotation.refreshToken,
    expiresAt,
    scopes: rotation.accessScopes,
    authentication: { userId: rotation.userId, authTime: rotation.authTime, nonce: null },
  };
}

/**
 * A rotated refresh token presented again: assume theft, revoke the whole family and record it, in
 * one transaction. Returns whether this call revoked the family (a racing one may have already).
 */
export async function revokeFamilyOnReuse(
  db: Db,
  client: ConfirmedClient,
  reuse: {
    familyId: string;
    userId: string;
    generation: number;
    usedAt: Date;
    now: Date;
    nextId: () => string;
  },
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const revoked = await revokeTokenFamily(trx, reuse.familyId, {
      reason: "refresh_reuse",
      now: reuse.now,
      nextId: reuse.nextId,
    });
    await recordAuditEvent(trx, {
      id: reuse.nextId(),
      type: "refresh_token.reuse_detected",
      at: reuse.now,
      userId: reuse.userId,
      applicationId: client.id,
      familyId: reuse.familyId,
      data: { family_id: reuse.familyId, generation: reuse.generation, used_at: reuse.usedAt.toISOString() },
    });
    return revoked;
  });
}
