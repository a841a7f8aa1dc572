import { sql } from "kysely";
import { hashToken } from "../crypto.ts";
import type { Db } from "../db/database.ts";
import type { AuthenticatedClient } from "./client-authentication.ts";
import { isCurrentClient } from "./client-authentication.ts";
import type { IssuedTokens } from "./token-families.ts";

/**
 * The successful case of each grant as ONE statement: data-modifying CTEs, sent without BEGIN/COMMIT
 * (a single statement is atomic on its own). Each also re-checks the client's secret hash against the
 * row, so a client authenticated from the process cache can act only if it is still current.
 *
 * Each function returns null when the statement changed nothing (unknown, expired, reused, revoked,
 * foreign or stale-client cases); the grant then takes its transactional slow path, which tells those
 * cases apart. Nothing here decides an error.
 */

/** Postgres' foreign-key violation: an application or user deleted between snapshot and FK check. */
function isForeignKeyViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23503";
}

async function orNullOnDeletedParent<T>(run: () => Promise<T>): Promise<T | null> {
  try {
    return await run();
  } catch (error) {
    if (isForeignKeyViolation(error)) return null;
    throw error;
  }
}

export interface TokenSettings {
  now: Date;
  accessTokenTtlSeconds: number;
  accessToken: string;
}

function expiry(settings: TokenSettings): Date {
  return new Date(settings.now.getTime() + settings.accessTokenTtlSeconds * 1000);
}

/** client_credentials: family + access token for the application's bot user, if it has one. */
export function issueClientCredentialsToken(
  db: Db,
  client: AuthenticatedClient,
  grant: { familyId: string; scopes: string[] },
  settings: TokenSettings,
): Promise<IssuedTokens | null> {
  const { familyId, scopes } = grant;
  const expiresAt = expiry(settings);
  return orNullOnDeletedParent(async () => {
    const { rows } = await sql<{ family_id: string }>`
      with app as (
        select id, bot_user_id from applications
        where id = ${client.id} and client_secret_hash = ${client.secretHash} and bot_user_id is not null
      ), family as (
        insert into token_families (id, application_id, user_id, grant_type, scopes, code_hash, created_at)
        select ${familyId}, id, bot_user_id, 'client_credentials', ${scopes}::text[], null, ${settings.now}
        from app
        returning id, user_id
      )
      insert into access_tokens (token_hash, family_id, application_id, user_id, scopes, created_at, expires_at)
      select ${hashToken(settings.accessToken)}, id, ${client.id}, user_id, ${scopes}::text[], ${settings.now}, ${expiresAt}
      from family
      returning family_id`.execute(db);
    if (rows.length === 0) return null;
    return { accessToken: settings.accessToken, refreshToken: null, expiresAt, scopes };
  });
}

export interface CodeExchange {
  familyId: string;
  codeHash: string;
  redirectUri: string;
  /** The presented verifier (null when absent) and its S256 challenge, computed in JS beforehand. */
  verifier: string | null;
  s256Challenge: string | null;
}

/**
 * authorization_code: consume the code (single use: `consumed_at is null`) only if every check passes
 * — client, expiry, redirect_uri, PKCE — and create the family with its first pair. The challenge is
 * compared in SQL: it is no secret (it travelled in the authorization request's URL).
 */
export function exchangeCodeInOneStatement(
  db: Db,
  client: AuthenticatedClient,
  exchange: CodeExchange,
  settings: TokenSettings & { refreshToken: string },
): Promise<IssuedTokens | null> {
  const expiresAt = expiry(settings);
  const pkce =
    exchange.verifier === null
      ? sql`code_challenge is null`
      : sql`(coalesce(code_challenge_method, 'plain') = 'S256' and code_challenge = ${exchange.s256Challenge}
          or coalesce(code_challenge_method, 'plain') = 'plain' and code_challenge = ${exchange.verifier})`;
  return orNullOnDeletedParent(async () => {
    const { rows } = await sql<{ scopes: string[] }>`
      with consumed as (
        update authorization_codes set consumed_at = ${settings.now}
        where code_hash = ${exchange.codeHash} and consumed_at is null
          and application_id = ${client.id} and ${isCurrentClient(client)}
          and expires_at > ${settings.now} and redirect_uri = ${exchange.redirectUri} and ${pkce}
        returning user_id, scopes
      ), family as (
        insert into token_families (id, application_id, user_id, grant_type, scopes, code_hash, created_at)
        select ${exchange.familyId}, ${client.id}, user_id, 'authorization_code', scopes, ${exchange.codeHash}, ${settings.now}
        from consumed
        returning id, user_id, scopes
      ), access as (
        insert into access_tokens (token_hash, family_id, application_id, user_id, scopes, created_at, expires_at)
        select ${hashToken(settings.accessToken)}, id, ${client.id}, user_id, scopes, ${settings.now}, ${expiresAt}
        from family
      ), refresh as (
        insert into refresh_tokens (token_hash, family_id, generation, scopes, created_at)
        select ${hashToken(settings.refreshToken)}, id, 0, scopes, ${settings.now}
        from family
      )
      select scopes from family`.execute(db);
    const row = rows[0];
    if (!row) return null;
    return {
      accessToken: settings.accessToken,
      refreshToken: settings.refreshToken,
      expiresAt,
      scopes: row.scopes,
    };
  });
}

export interface Rotation {
  tokenHash: string;
  /** Narrowed scopes (must be a subset of the family's), or null to keep the presented token's. */
  requestedScopes: string[] | null;
  /** Refresh tokens created before this instant are expired (REFRESH_TOKEN_IDLE_SECONDS), or null. */
  createdAfter: Date | null;
}

/**
 * refresh_token: consume the presented token (`used_at is null`: of N racing rotations exactly one
 * wins) if its family belongs to the client, is live and covers the requested scope; then lock the
 * family and insert the successor pair. The lock order (token row, then family row) is the slow path's,
 * so the two never deadlock. A revocation that commits while we wait for the family lock leaves the
 * token consumed and no successor: `revoked` is returned and the grant reports it.
 */
export function rotateInOneStatement(
  db: Db,
  client: AuthenticatedClient,
  rotation: Rotation,
  settings: TokenSettings & { refreshToken: string },
): Promise<IssuedTokens | "revoked" | null> {
  const expiresAt = expiry(settings);
  const requested = rotation.requestedScopes;
  return orNullOnDeletedParent(async () => {
    const { rows } = await sql<{ scopes: string[]; live: boolean }>`
    with consumed as (
      update refresh_tokens r set used_at = ${settings.now}
      where r.token_hash = ${rotation.tokenHash} and r.used_at is null
        and (${rotation.createdAfter}::timestamptz is null or r.created_at > ${rotation.createdAfter}::timestamptz)
        and exists (
          select 1 from token_families f
          where f.id = r.family_id and f.application_id = ${client.id} and f.revoked_at is null
            and (${requested}::text[] is null or ${requested}::text[] <@ f.scopes)
        )
        and ${isCurrentClient(client)}
      returning r.family_id, r.generation, coalesce(${requested}::text[], r.scopes) as scopes
    ), family as (
      select f.id, f.user_id from token_families f
      where f.id = (select family_id from consumed) and f.revoked_at is null
      for update
    ), access as (
      insert into access_tokens (token_hash, family_id, application_id, user_id, scopes, created_at, expires_at)
      select ${hashToken(settings.accessToken)}, c.family_id, ${client.id}, f.user_id, c.scopes, ${settings.now}, ${expiresAt}
      from consumed c join family f on f.id = c.family_id
    ), refresh as (
      insert into refresh_tokens (token_hash, family_id, generation, scopes, created_at)
      select ${hashToken(settings.refreshToken)}, c.family_id, c.generation + 1, c.scopes, ${settings.now}
      from consumed c join family f on f.id = c.family_id
    )
    select c.scopes, exists (select 1 from family) as live from consumed c`.execute(db);
    const row = rows[0];
    if (!row) return null;
    if (!row.live) return "revoked";
    return {
      accessToken: settings.accessToken,
      refreshToken: settings.refreshToken,
      expiresAt,
      scopes: row.scopes,
    };
  });
}
