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
 * A client that presented the right secret, in one of two states (a type, so no endpoint can forget
 * the difference):
 * - `UnconfirmedClient`: matched only this process's cache of secret hashes. The secret may have been
 *   reset, or the application deleted, in another process since. Nothing may be written for it.
 * - `ConfirmedClient`: this request has read the application row and its stored hash is the presented
 *   one. Every write on a client's behalf takes a `ConfirmedClient`; only this module makes one.
 */
export type AuthenticatedClient = UnconfirmedClient | ConfirmedClient;

interface ClientIdentity {
  readonly id: string;
  /**
   * SHA-256 of the presented secret, which equals the stored hash when the client is current; null
   * for a public client that presented only its id (`token_endpoint_auth_method=none`, SPEC §7.2).
   */
  readonly secretHash: string | null;
}

export interface UnconfirmedClient extends ClientIdentity {
  readonly confirmed: false;
}

declare const confirmedByThisModule: unique symbol;
export interface ConfirmedClient extends ClientIdentity {
  readonly confirmed: true;
  readonly [confirmedByThisModule]: true;
}

function confirmed(identity: ClientIdentity): ConfirmedClient {
  return { id: identity.id, secretHash: identity.secretHash, confirmed: true } as ConfirmedClient;
}

/** Requests' clients already confirmed once: reporting an error afterwards costs no second read. */
const confirmations = new WeakMap<UnconfirmedClient, ConfirmedClient>();

/**
 * The client confirmed by a row this request read: `storedSecretHash` is the application's current
 * hash (null when the application is gone), `stored.publicClient` its `public_client` flag. A client
 * that presented no secret is confirmed only by a row that says it is public; reads that do not pass
 * the flag (client credentials, introspection) never confirm one. Null when the client is not current;
 * the caller answers invalid_client and drops the cache entry (`forgetClient`).
 */
export function confirmAgainst(
  client: AuthenticatedClient,
  storedSecretHash: string | null,
  stored: { publicClient: boolean } = { publicClient: false },
): ConfirmedClient | null {
  if (client.confirmed) return client;
  if (storedSecretHash === null) return null;
  const current =
    client.secretHash === null ? stored.publicClient : constantTimeEqual(client.secretHash, storedSecretHash);
  if (!current) return null;
  const done = confirmed(client);
  confirmations.set(client, done);
  return done;
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
    return { id: clientId, secretHash: presented, confirmed: false };
  const found = await findClient(db, clientId, presented);
  if (!found) {
    cache.delete(clientId);
    return null;
  }
  if (cache.size >= MAX_CACHED_CLIENTS) cache.clear();
  cache.set(clientId, found.application.client_secret_hash);
  return found.matches ? confirmed({ id: clientId, secretHash: presented }) : null;
}

/**
 * One SELECT unless the client is already confirmed (its row was read by this request); for paths
 * whose own query does not read the application row.
 */
export async function confirmClient(db: Db, client: AuthenticatedClient): Promise<ConfirmedClient | null> {
  if (client.confirmed) return client;
  const earlier = confirmations.get(client);
  if (earlier) return earlier;
  const row = await db
    .selectFrom("applications")
    .select(["client_secret_hash", "public_client"])
    .where("id", "=", client.id)
    .executeTakeFirst();
  return confirmAgainst(client, row?.client_secret_hash ?? null, {
    publicClient: row?.public_client ?? false,
  });
}

/**
 * A public client's `token_endpoint_auth_method=none`: just its id, unconfirmed. The grant's read
 * confirms it (the row must say `public_client`), so this costs no query.
 */
export function clientWithoutSecret(clientId: string): UnconfirmedClient | null {
  return isSnowflake(clientId) ? { id: clientId, secretHash: null, confirmed: false } : null;
}
