import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, type JWK } from "jose";
import type { Db } from "../db/database.ts";
import { uniqueViolation } from "../db/errors.ts";
import { decryptSecret, encryptionKeyIdOf, encryptSecret, type ServerKeys } from "../secret-key.ts";

/**
 * The keys that sign ID tokens (SPEC §13, §16). Rows hold the public JWK and the PKCS#8 private key
 * encrypted under SECRET_KEY; a copy of the database alone signs nothing.
 *
 * Rotation: a new key is published at once and signs from `activates_at` on, ACTIVATION_DELAY_SECONDS
 * later, so every process (each refreshes its cache within CACHE_SECONDS) and every JWKS copy cached
 * for JWKS_MAX_AGE_SECONDS knows it before the first token it signs. The old key is retired at that same
 * moment and stays published until the last ID token it signed has expired (retired + ID token TTL).
 */
export const ID_TOKEN_SIGNING_ALG = "RS256";
/** How long a process trusts its copy of the keys before reading them again. */
export const CACHE_SECONDS = 30;
/** `Cache-Control: max-age` of the JWKS document. */
export const JWKS_MAX_AGE_SECONDS = 60;
export const ACTIVATION_DELAY_SECONDS = CACHE_SECONDS + JWKS_MAX_AGE_SECONDS;

export interface SigningKey {
  kid: string;
  alg: typeof ID_TOKEN_SIGNING_ALG;
  privateKey: CryptoKey;
}

interface StoredKey {
  kid: string;
  publicJwk: JWK;
  /** The encrypted private key, opened when the key first signs in this process. */
  sealed: string;
  activatesAt: Date;
  retiredAt: Date | null;
}

interface Cache {
  keys: StoredKey[];
  loadedAt: number;
  opened: Map<string, Promise<CryptoKey>>;
}

/** Per database handle (a process may serve several in tests), like the client secret cache. */
const caches = new WeakMap<Db, Cache>();
const loading = new WeakMap<Db, Promise<Cache>>();

/** The one place a private key is (de)serialised: PKCS#8 PEM, AES-256-GCM under SECRET_KEY, bound to its row. */
function privateKeyContext(kid: string): string {
  return `signing_keys.private_key:${kid}`;
}

async function sealPrivateKey(keys: ServerKeys, kid: string, privateKey: CryptoKey): Promise<string> {
  return encryptSecret(keys, await exportPKCS8(privateKey), privateKeyContext(kid));
}

async function openPrivateKey(keys: ServerKeys, kid: string, sealed: string): Promise<CryptoKey> {
  return importPKCS8(await decryptSecret(keys, sealed, privateKeyContext(kid)), ID_TOKEN_SIGNING_ALG);
}

async function generateSigningKeyRow(keys: ServerKeys, activatesAt: Date) {
  const pair = await generateKeyPair(ID_TOKEN_SIGNING_ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const publicJwk: JWK = { ...jwk, kid, alg: ID_TOKEN_SIGNING_ALG, use: "sig" };
  return {
    kid,
    alg: ID_TOKEN_SIGNING_ALG,
    public_jwk: JSON.stringify(publicJwk),
    private_key: await sealPrivateKey(keys, kid, pair.privateKey),
    created_at: activatesAt,
    activates_at: activatesAt,
    retired_at: null,
  };
}

async function readKeys(db: Db): Promise<StoredKey[]> {
  const rows = await db.selectFrom("signing_keys").selectAll().orderBy("activates_at").execute();
  return rows.map((row) => ({
    kid: row.kid,
    publicJwk: JSON.parse(row.public_jwk) as JWK,
    sealed: row.private_key,
    activatesAt: new Date(row.activates_at),
    retiredAt: row.retired_at === null ? null : new Date(row.retired_at),
  }));
}

async function loadCache(db: Db, now: Date): Promise<Cache> {
  const cached = caches.get(db);
  if (cached && now.getTime() - cached.loadedAt < CACHE_SECONDS * 1000 && now.getTime() >= cached.loadedAt)
    return cached;
  const inFlight = loading.get(db);
  if (inFlight) return inFlight;
  const load = readKeys(db)
    .then((keys) => {
      // Private keys already opened stay open: a key's material never changes under its kid.
      const opened = new Map([...(cached?.opened ?? [])].filter(([kid]) => keys.some((k) => k.kid === kid)));
      const fresh = { keys, loadedAt: now.getTime(), opened };
      caches.set(db, fresh);
      return fresh;
    })
    .finally(() => loading.delete(db));
  loading.set(db, load);
  return load;
}

/** Drops this process's copy (after a rotation here; other processes reload within CACHE_SECONDS). */
export function forgetSigningKeys(db: Db): void {
  caches.delete(db);
}

function activeKey(keys: readonly StoredKey[], now: Date): StoredKey | null {
  let active: StoredKey | null = null;
  for (const key of keys) if (key.activatesAt.getTime() <= now.getTime()) active = key;
  return active;
}

/**
 * The first key of an empty table signs at once (nothing was ever published, so nothing needs to learn
 * it first). Two processes racing here: the partial unique index lets one insert win.
 */
async function createFirstKey(db: Db, keys: ServerKeys, now: Date): Promise<void> {
  const row = await generateSigningKeyRow(keys, now);
  try {
    await db.insertInto("signing_keys").values(row).execute();
  } catch (error) {
    if (uniqueViolation(error) === null) throw error;
  }
}

/** The key that signs ID tokens now, decrypted once per process. */
export async function currentSigningKey(input: { db: Db; keys: ServerKeys }, now: Date): Promise<SigningKey> {
  let cache = await loadCache(input.db, now);
  let key = activeKey(cache.keys, now);
  if (key === null) {
    if (cache.keys.length === 0) await createFirstKey(input.db, input.keys, now);
    forgetSigningKeys(input.db);
    cache = await loadCache(input.db, now);
    key = activeKey(cache.keys, now) ?? cache.keys[0] ?? null;
    if (key === null) throw new Error("no ID token signing key could be created");
  }
  const { kid, sealed } = key;
  let opened = cache.opened.get(kid);
  if (!opened) {
    opened = openPrivateKey(input.keys, kid, sealed);
    cache.opened.set(kid, opened);
    opened.catch(() => cache.opened.delete(kid));
  }
  return { kid, alg: ID_TOKEN_SIGNING_ALG, privateKey: await opened };
}

/**
 * The JWKS (RFC 7517): every key that signs now or will soon, and every retired key whose ID tokens may
 * still be alive (`idTokenTtlSeconds` after its retirement).
 */
export async function publishedKeys(
  db: Db,
  input: { now: Date; idTokenTtlSeconds: number },
): Promise<{ keys: JWK[] }> {
  const cache = await loadCache(db, input.now);
  const horizon = input.now.getTime() - input.idTokenTtlSeconds * 1000;
  return {
    keys: cache.keys
      .filter((key) => key.retiredAt === null || key.retiredAt.getTime() > horizon)
      .map((key) => key.publicJwk),
  };
}

export class SigningKeyRotationError extends Error {}

export interface Rotation {
  kid: string;
  /** When the new key starts signing (at once when it is the first key). */
  activatesAt: Date;
  /** The key it replaces, and until when that one stays published; null for the first key. */
  replaces: { kid: string; publishedUntil: Date } | null;
  /** Retired keys whose ID tokens had all expired: deleted. */
  deleted: number;
}

/**
 * `bun run admin keys:rotate`: a new key, published now, signing from `activates_at`; the current key
 * is retired at that moment and stays published until the last ID token it signed has expired. A
 * rotation already pending (a key not yet active) is refused rather than stacked. Retired keys no
 * longer published are deleted: nothing they signed is still valid.
 */
export async function rotateSigningKey(
  db: Db,
  keys: ServerKeys,
  input: { now: Date; idTokenTtlSeconds: number; activationDelaySeconds?: number },
): Promise<Rotation> {
  const activatesAt = new Date(
    input.now.getTime() + (input.activationDelaySeconds ?? ACTIVATION_DELAY_SECONDS) * 1000,
  );
  const row = await generateSigningKeyRow(keys, activatesAt);
  const result = await db.transaction().execute(async (trx) => {
    const pending = await trx
      .selectFrom("signing_keys")
      .select("kid")
      .where("activates_at", ">", input.now)
      .executeTakeFirst();
    if (pending)
      throw new SigningKeyRotationError(
        `key ${pending.kid} is already waiting to take over; rotate again once it signs`,
      );
    const deleted = await trx
      .deleteFrom("signing_keys")
      .where("retired_at", "<=", new Date(input.now.getTime() - input.idTokenTtlSeconds * 1000))
      .executeTakeFirst();
    const retired = await trx
      .updateTable("signing_keys")
      .set({ retired_at: activatesAt })
      .where("retired_at", "is", null)
      .returning("kid")
      .executeTakeFirst();
    // No key yet: the new one is the first and signs at once (nothing was ever published).
    const values = retired ? row : { ...row, created_at: input.now, activates_at: input.now };
    await trx.insertInto("signing_keys").values(values).execute();
    return {
      kid: row.kid,
      activatesAt: values.activates_at,
      replaces: retired
        ? {
            kid: retired.kid,
            publishedUntil: new Date(activatesAt.getTime() + input.idTokenTtlSeconds * 1000),
          }
        : null,
      deleted: Number(deleted.numDeletedRows),
    };
  });
  forgetSigningKeys(db);
  return result;
}

/** `secrets:reencrypt`: every private key not yet under the current SECRET_KEY; returns how many changed. */
export async function reencryptSigningKeys(db: Db, keys: ServerKeys): Promise<number> {
  const current = keys.encryption[0]?.id;
  let changed = 0;
  for (const row of await db.selectFrom("signing_keys").select(["kid", "private_key"]).execute()) {
    if (encryptionKeyIdOf(row.private_key) === current) continue;
    const plaintext = await decryptSecret(keys, row.private_key, privateKeyContext(row.kid));
    const updated = await db
      .updateTable("signing_keys")
      .set({ private_key: await encryptSecret(keys, plaintext, privateKeyContext(row.kid)) })
      .where("kid", "=", row.kid)
      .where("private_key", "=", row.private_key)
      .executeTakeFirst();
    changed += Number(updated.numUpdatedRows);
  }
  forgetSigningKeys(db);
  return changed;
}
