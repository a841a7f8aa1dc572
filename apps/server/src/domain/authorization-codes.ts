import { generateToken, hashToken } from "../crypto.ts";
import {
  batchedStatement,
  positionsOf,
  sentTimestamp,
  spaceSeparated,
  unnest,
} from "../db/batched-statement.ts";
import type { Db } from "../db/database.ts";
import { preparedQuery } from "../db/prepared-query.ts";
import type { CodeChallengeMethod } from "../oauth/pkce.ts";
import { recordAuditEvent } from "./audit.ts";
import type { ConfirmedClient } from "./client-authentication.ts";
import { accessTokenExpiry, type IssuedTokens, orNoneOnDeletedParent } from "./issued-tokens.ts";
import { revokeTokenFamiliesWhere } from "./token-families.ts";

export interface NewAuthorizationCode {
  applicationId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string | null;
  codeChallengeMethod: CodeChallengeMethod | null;
  /** OpenID Connect: the request's nonce and the user's sign-in time, for the ID token. */
  nonce: string | null;
  authTime: Date | null;
  now: Date;
  ttlSeconds: number;
}

/** 32 random bytes; only the SHA-256 is stored, the plaintext goes out once in the redirect. */
export async function createAuthorizationCode(db: Db, input: NewAuthorizationCode): Promise<string> {
  const code = generateToken();
  await db
    .insertInto("authorization_codes")
    .values({
      code_hash: hashToken(code),
      application_id: input.applicationId,
      user_id: input.userId,
      redirect_uri: input.redirectUri,
      scopes: input.scopes,
      code_challenge: input.codeChallenge,
      code_challenge_method: input.codeChallengeMethod,
      nonce: input.nonce,
      auth_time: input.authTime,
      created_at: input.now,
      expires_at: new Date(input.now.getTime() + input.ttlSeconds * 1000),
    })
    .execute();
  return code;
}

/**
 * What the code grant decides on, in one indexed read: the calling application's stored secret hash
 * (null: the application is gone), the code row (present only while the code is unused: an exchange
 * deletes it), and the family a code of this client produced (a used code's row is gone, but its
 * family still names it: a replay).
 */
export interface CodeExchangeState {
  storedSecretHash: string | null;
  /** The application's `public_client`: it may exchange its codes without its secret. */
  publicClient: boolean;
  code: {
    applicationId: string;
    userId: string;
    redirectUri: string;
    scopes: string[];
    codeChallenge: string | null;
    codeChallengeMethod: CodeChallengeMethod | null;
    nonce: string | null;
    authTime: Date | null;
    expiresAt: Date;
  } | null;
  issuedFamily: { userId: string } | null;
}

const selectCodeExchanges = preparedQuery<{
  positions: number[];
  clientIds: string[];
  codeHashes: string[];
}>()((db, param) =>
  db
    .with("input", (qc) =>
      qc.selectNoFrom([
        unnest(param("positions"), "integer").as("position"),
        unnest(param("clientIds"), "bigint").as("client_id"),
        unnest(param("codeHashes"), "text").as("code_hash"),
      ]),
    )
    .selectFrom("input")
    .leftJoin("applications as app", "app.id", "input.client_id")
    .leftJoin("authorization_codes as code", "code.code_hash", "input.code_hash")
    .leftJoin("token_families as family", (join) =>
      join.onRef("family.code_hash", "=", "input.code_hash").onRef("family.application_id", "=", "app.id"),
    )
    .select([
      "input.position",
      "app.client_secret_hash",
      "app.public_client",
      "code.application_id as code_application_id",
      "code.user_id as code_user_id",
      "code.redirect_uri",
      "code.scopes",
      "code.code_challenge",
      "code.code_challenge_method",
      "code.nonce",
      "code.auth_time",
      "code.expires_at",
      "family.user_id as family_user_id",
    ]),
);

interface CodeLookup {
  clientId: string;
  codeHash: string;
}

/** Concurrent code-exchange reads go out together (db/batched-statement.ts). */
const selectCodeExchange = batchedStatement({
  run: (db, items: CodeLookup[]) =>
    selectCodeExchanges(db, {
      positions: positionsOf(items),
      clientIds: items.map((item) => item.clientId),
      codeHashes: items.map((item) => item.codeHash),
    }),
});

export async function readCodeExchange(db: Db, input: CodeLookup): Promise<CodeExchangeState> {
  const row = await selectCodeExchange(db, input);
  if (!row || row.client_secret_hash === null)
    return { storedSecretHash: null, publicClient: false, code: null, issuedFamily: null };
  const code =
    row.code_application_id === null ||
    row.code_user_id === null ||
    row.redirect_uri === null ||
    row.scopes === null ||
    row.expires_at === null
      ? null
      : {
          applicationId: row.code_application_id,
          userId: row.code_user_id,
          redirectUri: row.redirect_uri,
          scopes: row.scopes,
          codeChallenge: row.code_challenge,
          codeChallengeMethod: row.code_challenge_method,
          nonce: row.nonce,
          authTime: row.auth_time === null ? null : new Date(row.auth_time),
          expiresAt: new Date(row.expires_at),
        };
  return {
    storedSecretHash: row.client_secret_hash,
    publicClient: row.public_client ?? false,
    code,
    issuedFamily: row.family_user_id === null ? null : { userId: row.family_user_id },
  };
}

export interface CodeFamily {
  codeHash: string;
  familyId: string;
  userId: string;
  scopes: string[];
  /** What the code recorded of the sign-in; the family keeps auth_time for refreshed ID tokens. */
  authTime: Date | null;
  nonce: string | null;
  now: Date;
  accessTokenTtlSeconds: number;
  accessToken: string;
  refreshToken: string;
}

const insertCodeFamilies = preparedQuery<{
  positions: number[];
  codeHashes: string[];
  clientIds: string[];
  familyIds: string[];
  userIds: string[];
  /** Each item's scopes, space-separated (a scope token has no spaces: RFC 6749 §3.3). */
  scopes: string[];
  authTimes: (string | null)[];
  nows: string[];
  expiresAts: string[];
  accessTokenHashes: string[];
  refreshTokenHashes: string[];
}>()((db, param) =>
  db
    .with("input", (qc) =>
      qc.selectNoFrom([
        unnest(param("positions"), "integer").as("position"),
        unnest(param("codeHashes"), "text").as("code_hash"),
        unnest(param("clientIds"), "bigint").as("client_id"),
        unnest(param("familyIds"), "bigint").as("family_id"),
        unnest(param("userIds"), "bigint").as("user_id"),
        unnest(param("scopes"), "text").as("scopes"),
        unnest(param("authTimes"), "timestamptz null").as("auth_time"),
        unnest(param("nows"), "timestamptz").as("now"),
        unnest(param("expiresAts"), "timestamptz").as("expires_at"),
        unnest(param("accessTokenHashes"), "text").as("access_token_hash"),
        unnest(param("refreshTokenHashes"), "text").as("refresh_token_hash"),
      ]),
    )
    .with("consumed", (qc) =>
      qc
        .deleteFrom("authorization_codes")
        .using("input")
        .whereRef("authorization_codes.code_hash", "=", "input.code_hash")
        .whereRef("authorization_codes.application_id", "=", "input.client_id")
        .returning("input.position"),
    )
    .with("family", (qc) =>
      qc
        .insertInto("token_families")
        .columns([
          "id",
          "application_id",
          "user_id",
          "grant_type",
          "scopes",
          "code_hash",
          "auth_time",
          "created_at",
        ])
        .expression((eb) =>
          eb
            .selectFrom("consumed")
            .innerJoin("input", "input.position", "consumed.position")
            .select([
              "input.family_id",
              "input.client_id",
              "input.user_id",
              eb.val("authorization_code").as("grant_type"),
              spaceSeparated("input.scopes").as("scopes"),
              "input.code_hash",
              "input.auth_time",
              "input.now",
            ]),
        )
        .returning(["id", "application_id", "user_id", "scopes", "created_at"]),
    )
    // The tokens repeat the family's application, user, scopes and time from its RETURNING row, so
    // each value is sent (and serialised) once.
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
            .innerJoin("input", "input.family_id", "family.id")
            .select([
              "input.access_token_hash",
              "family.id",
              "family.application_id",
              "family.user_id",
              "family.scopes",
              "family.created_at",
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
            .innerJoin("input", "input.family_id", "family.id")
            .select([
              "input.refresh_token_hash",
              "family.id",
              eb.lit(0).as("generation"),
              "family.scopes",
              "family.created_at",
            ]),
        ),
    )
    .selectFrom("family")
    .innerJoin("input", "input.family_id", "family.id")
    .select("input.position"),
);

type CodeFamilyWrite = CodeFamily & { clientId: string; expiresAt: Date };

/**
 * Concurrent exchanges go out together (db/batched-statement.ts); two exchanges of one code never
 * share a statement, so the compare-and-swap below lets exactly one of them win.
 */
const insertCodeFamily = batchedStatement({
  conflictKey: (family: CodeFamilyWrite) => family.codeHash,
  run: (db, items: CodeFamilyWrite[]) =>
    insertCodeFamilies(db, {
      positions: positionsOf(items),
      codeHashes: items.map((item) => item.codeHash),
      clientIds: items.map((item) => item.clientId),
      familyIds: items.map((item) => item.familyId),
      userIds: items.map((item) => item.userId),
      scopes: items.map((item) => item.scopes.join(" ")),
      authTimes: items.map((item) => (item.authTime === null ? null : sentTimestamp(item.authTime))),
      nows: items.map((item) => sentTimestamp(item.now)),
      expiresAts: items.map((item) => sentTimestamp(item.expiresAt)),
      accessTokenHashes: items.map((item) => hashToken(item.accessToken)),
      refreshTokenHashes: items.map((item) => hashToken(item.refreshToken)),
    }),
});

/**
 * The code grant's only write, one statement: consume the code — delete it, a compare-and-swap on
 * exactly what the decision read (the row is there) — and create the family with its first access and
 * refresh token; the family keeps the code's hash, which is how a later replay is recognised. A
 * DELETE writes no new row version and no index entries, where marking the row used wrote both. Null
 * when the swap failed (another exchange consumed the code first, or the application was deleted
 * meanwhile): the caller reads again and decides again.
 */
export async function consumeCodeIntoFamily(
  db: Db,
  client: ConfirmedClient,
  family: CodeFamily,
): Promise<IssuedTokens | null> {
  const expiresAt = accessTokenExpiry(family.now, family.accessTokenTtlSeconds);
  const rows = await orNoneOnDeletedParent(async () => {
    const row = await insertCodeFamily(db, { ...family, clientId: client.id, expiresAt });
    return row ? [row] : [];
  });
  if (rows.length === 0) return null;
  return {
    accessToken: family.accessToken,
    refreshToken: family.refreshToken,
    expiresAt,
    scopes: family.scopes,
    authentication: { userId: family.userId, authTime: family.authTime, nonce: family.nonce },
  };
}

/**
 * A consumed code presented again (RFC 6749 §4.1.2): revoke what it produced and record the replay,
 * in one transaction. Returns the revoked families' ids.
 */
export async function revokeReplayedCode(
  db: Db,
  client: ConfirmedClient,
  replay: { codeHash: string; userId: string; now: Date; nextId: () => string },
): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const revocation = { reason: "code_replay" as const, now: replay.now, nextId: replay.nextId };
    const families = await revokeTokenFamiliesWhere(
      trx,
      { codeHash: replay.codeHash, applicationId: client.id },
      revocation,
    );
    await recordAuditEvent(trx, {
      id: replay.nextId(),
      type: "authorization_code.replayed",
      at: replay.now,
      userId: replay.userId,
      applicationId: client.id,
      familyId: families[0] ?? null,
      data: { revoked_families: families },
    });
    return families;
  });
}
