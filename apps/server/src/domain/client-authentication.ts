import { type Expression, type SqlBool, sql } from "kysely";
import { constantTimeEqual, hashToken } from "../crypto.ts";
import type { Db } from "../db/database.ts";
import type { ApplicationRow } from "../db/schema.ts";
import { isSnowflake } from "../snowflake.ts";

/**
 * The application `clientId` names and whether `presented` (the SHA-256 of a secret) is its stored
 * client secret hash; null for unknown (and malformed) ids. The comparison is constant-time.
 */
async function findClient(
  db: Db,
  clientId: string,
  presented: string,
): Promise<{ application: ApplicationRow; matches: boolean } | null> {
  if (!isSnowflake(clientId)) return null;
  const application = await db
    .selectFrom("applications")
    .selectAll()
    .where("id", "=", clientId)
    .executeTakeFirst();
  if (!application) return null;
  return { application, matches: constantTimeEqual(presented, application.client_secret_hash) };
}

/**
 * Client authentication for the token, revocation and introspection endpoints: the application whose
 * id is `clientId` if `secret` hashes to its stored client secret hash, else null.
 * The hash comparison is constant-time; an unknown client costs the same hashing as a known one.
 */
export async function authenticateClient(
  db: Db,
  clientId: string,
  secret: string,
): Promise<ApplicationRow | null> {
  const found = await findClient(db, clientId, hashToken(secret));
  return found?.matches ? found.application : null;
}

/**
 * A client that presented the right secret. `current` says whether this request has read the
 * application row from the database; when false it matched only this process's cache, and everything
 * done on its behalf must re-check it in the same statement (`isCurrentClient`) or first call
 * `confirmClient`, so a secret reset or a deletion in any process takes effect at once.
 */
export interface AuthenticatedClient {
  readonly id: string;
  /** SHA-256 of the presented secret, which equals the stored hash when the client is current. */
  readonly secretHash: string;
  readonly current: boolean;
}

/**
 * id → secret hash, per database handle. Not a TTL cache: an entry only lets a request skip the lookup
 * *before* its statement; the statement itself still checks the hash against the row.
 */
const secretHashes = new WeakMap<Db, Map<string, string>>();
const MAX_CACHED_CLIENTS = 10_000;

function cacheOf(db: Db): Map<string, string> {
  let cache = secretHashes.get(db);
  if (!cache) {
    cache = new Map();
    secretHashes.set(db, cache);
  }
  return cache;
}

export function forgetClient(db: Db, clientId: string): void {
  secretHashes.get(db)?.delete(clientId);
}

/**
 * Like `authenticateClient`, but a client whose secret matches the cached hash costs no query. On a
 * cache miss or mismatch (say, the secret was reset in another process) the row is read again.
 */
export async function authenticateClientCached(
  db: Db,
  clientId: string,
  secret: string,
): Promise<AuthenticatedClient | null> {
  const presented = hashToken(secret);
  if (!isSnowflake(clientId)) return null;
  const cache = cacheOf(db);
  const cached = cache.get(clientId);
  if (cached !== undefined && constantTimeEqual(presented, cached))
    return { id: clientId, secretHash: presented, current: false };
  const found = await findClient(db, clientId, presented);
  if (!found) {
    cache.delete(clientId);
    return null;
  }
  if (cache.size >= MAX_CACHED_CLIENTS) cache.clear();
  cache.set(clientId, found.application.client_secret_hash);
  return found.matches ? { id: clientId, secretHash: presented, current: true } : null;
}

/** SQL: the client's application still exists with this secret hash (for a statement's WHERE). */
export function isCurrentClient(client: AuthenticatedClient): Expression<SqlBool> {
  return sql<SqlBool>`exists (select 1 from applications where id = ${client.id} and client_secret_hash = ${client.secretHash})`;
}

/** Cached clients this request has already confirmed: a second confirmation costs no SELECT. */
const confirmed = new WeakSet<AuthenticatedClient>();

/**
 * One SELECT unless this request already read the row or confirmed the client (a slow grant path
 * confirms it, then a grant error is confirmed again before it is reported); the caller drops a
 * stale cache entry (`forgetClient`).
 */
export async function confirmClient(db: Db, client: AuthenticatedClient): Promise<boolean> {
  if (client.current || confirmed.has(client)) return true;
  const row = await db
    .selectFrom("applications")
    .select("id")
    .where("id", "=", client.id)
    .where("client_secret_hash", "=", client.secretHash)
    .executeTakeFirst();
  if (row) confirmed.add(client);
  return row !== undefined;
}
