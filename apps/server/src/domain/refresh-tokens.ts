import {
  batchedStatement,
  positionsOf,
  sentTimestamp,
  spaceSeparated,
  unnest,
} from "../db/batched-statement.ts";
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

const selectRefreshes = preparedQuery<{
  positions: number[];
  clientIds: string[];
  tokenHashes: string[];
  successorRefreshHashes: string[];
  successorAccessHashes: string[];
}>()((db, param) =>
  db
    .with("input", (qc) =>
      qc.selectNoFrom([
        unnest(param("positions"), "integer").as("position"),
        unnest(param("clientIds"), "bigint").as("client_id"),
        unnest(param("tokenHashes"), "text").as("token_hash"),
        unnest(param("successorRefreshHashes"), "text").as("successor_refresh_hash"),
        unnest(param("successorAccessHashes"), "text").as("successor_access_hash"),
      ]),
    )
    .selectFrom("input")
    .leftJoin("applications as app", "app.id", "input.client_id")
    .leftJoin("refresh_tokens as token", "token.token_hash", "input.token_hash")
    .leftJoin("token_families as family", "family.id", "token.family_id")
    // The successor pair is looked up by primary key alone; that it is of the same family is checked
    // on the row (readRefresh). Joined on the family too, PostgreSQL's generic plan read the family's
    // whole history through the family index instead, thousands of rows for a long chain.
    .leftJoin("refresh_tokens as next", "next.token_hash", "input.successor_refresh_hash")
    .leftJoin("access_tokens as next_access", "next_access.token_hash", "input.successor_access_hash")
    .select([
      "input.position",
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
      "next.family_id as next_family_id",
      "next.used_at as next_used_at",
      "next_access.family_id as next_access_family_id",
      "next_access.scopes as next_access_scopes",
      "next_access.expires_at as next_access_expires_at",
    ]),
);

interface RefreshLookup {
  clientId: string;
  tokenHash: string;
  successorHashes: { access: string; refresh: string };
}

/** Concurrent refresh reads go out together (db/batched-statement.ts). */
const selectRefresh = batchedStatement({
  run: (db, items: RefreshLookup[]) =>
    selectRefreshes(db, {
      positions: positionsOf(items),
      clientIds: items.map((item) => item.clientId),
      tokenHashes: items.map((item) => item.tokenHash),
      successorRefreshHashes: items.map((item) => item.successorHashes.refresh),
      successorAccessHashes: items.map((item) => item.successorHashes.access),
    }),
});

export async function readRefresh(db: Db, input: RefreshLookup): Promise<RefreshState> {
  const row = await selectRefresh(db, input);
  if (!row || row.client_secret_hash === null)
    return { storedSecretHash: null, publicClient: false, token: null, successor: null };
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
    token === null ||
    row.next_family_id !== token.familyId ||
    row.next_access_family_id !== token.familyId ||
    row.next_access_scopes === null ||
    row.next_access_expires_at === null
      ? null
      : {
          usedAt: row.next_used_at === null ? null : new Date(row.next_used_at),
          accessScopes: row.next_access_scopes,
          accessExpiresAt: new Date(row.next_access_expires_at),
        };
  return {
    storedSecretHash: row.client_secret_hash,
    publicClient: row.public_client ?? false,
    token,
    successor,
  };
}

export interface Rotation {
  tokenHash: string;
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
  /** The SHA-256 of the two new tokens, as the grant's read already computed them. */
  successorHashes: { access: string; refresh: string };
}

const consumeAndRotateAll = preparedQuery<{
  positions: number[];
  tokenHashes: string[];
  nextGenerations: number[];
  /** Each item's scopes, space-separated (a scope token has no spaces: RFC 6749 §3.3). */
  refreshScopes: string[];
  accessScopes: string[];
  nows: string[];
  expiresAts: string[];
  accessTokenHashes: string[];
  refreshTokenHashes: string[];
}>()((db, param) =>
  db
    .with("input", (qc) =>
      qc.selectNoFrom([
        unnest(param("positions"), "integer").as("position"),
        unnest(param("tokenHashes"), "text").as("token_hash"),
        unnest(param("nextGenerations"), "integer").as("next_generation"),
        unnest(param("refreshScopes"), "text").as("refresh_scopes"),
        unnest(param("accessScopes"), "text").as("access_scopes"),
        unnest(param("nows"), "timestamptz").as("now"),
        unnest(param("expiresAts"), "timestamptz").as("expires_at"),
        unnest(param("accessTokenHashes"), "text").as("access_token_hash"),
        unnest(param("refreshTokenHashes"), "text").as("refresh_token_hash"),
      ]),
    )
    .with("consumed", (qc) =>
      qc
        .updateTable("refresh_tokens")
        .from("input")
        .set((eb) => ({ used_at: eb.ref("input.now") }))
        .whereRef("refresh_tokens.token_hash", "=", "input.token_hash")
        .where("refresh_tokens.used_at", "is", null)
        .returning(["input.position", "refresh_tokens.family_id"]),
    )
    .with("family", (qc) =>
      qc
        .selectFrom("token_families")
        .innerJoin("consumed", "consumed.family_id", "token_families.id")
        .innerJoin("input", "input.position", "consumed.position")
        .select([
          "input.position",
          "token_families.id",
          "token_families.application_id",
          "token_families.user_id",
        ])
        .where("token_families.revoked_at", "is", null)
        .forShare("token_families"),
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
            .innerJoin("input", "input.position", "family.position")
            .select([
              "input.access_token_hash",
              "family.id",
              "family.application_id",
              "family.user_id",
              spaceSeparated("input.access_scopes").as("scopes"),
              "input.now",
              "input.expires_at",
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
            .innerJoin("input", "input.position", "family.position")
            .select([
              "input.refresh_token_hash",
              "family.id",
              "input.next_generation",
              spaceSeparated("input.refresh_scopes").as("scopes"),
              "input.now",
            ]),
        ),
    )
    .selectFrom("family")
    .select("family.position"),
);

/**
 * Concurrent rotations go out together (db/batched-statement.ts); two presentations of one token never
 * share a statement, so the compare-and-swap below lets exactly one of them win.
 */
const consumeAndRotate = batchedStatement({
  conflictKey: (rotation: Rotation) => rotation.tokenHash,
  run: (db, items: Rotation[]) =>
    consumeAndRotateAll(db, {
      positions: positionsOf(items),
      tokenHashes: items.map((item) => item.tokenHash),
      nextGenerations: items.map((item) => item.generation + 1),
      refreshScopes: items.map((item) => item.refreshScopes.join(" ")),
      accessScopes: items.map((item) => item.accessScopes.join(" ")),
      nows: items.map((item) => sentTimestamp(item.now)),
      expiresAts: items.map((item) => sentTimestamp(accessTokenExpiry(item.now, item.accessTokenTtlSeconds))),
      accessTokenHashes: items.map((item) => item.successorHashes.access),
      refreshTokenHashes: items.map((item) => item.successorHashes.refresh),
    }),
});

/**
 * The refresh grant's rotation, one statement: consume the presented token — compare-and-swap on
 * exactly what the decision read (`used_at is null`, the family's `revoked_at is null`) — and insert
 * the successor pair. The family row is locked (`for share`) so a revocation racing this statement
 * either commits first (nothing is inserted) or waits and then revokes the new pair with the family.
 * Null when the swap failed: the caller reads again and decides again. The token's family and the
 * family's application never change, so the decision's check of them (`client`) stands.
 */
export async function rotateRefreshToken(
  db: Db,
  _client: ConfirmedClient,
  rotation: Rotation,
): Promise<IssuedTokens | null> {
  const rows = await orNoneOnDeletedParent(async () => {
    const row = await consumeAndRotate(db, rotation);
    return row ? [row] : [];
  });
  if (rows.length === 0) return null;
  return {
    accessToken: rotation.accessToken,
    refreshToken: rotation.refreshToken,
    expiresAt: accessTokenExpiry(rotation.now, rotation.accessTokenTtlSeconds),
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
