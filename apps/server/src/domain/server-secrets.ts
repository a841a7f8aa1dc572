import { type RawBuilder, sql } from "kysely";
import type { Db } from "../db/database.ts";
import {
  decryptSecret,
  encryptionKeyIdOf,
  encryptSecret,
  isEncrypted,
  SecretKeyError,
  type ServerKeys,
} from "../secret-key.ts";
import { reencryptSigningKeys } from "./signing-keys.ts";

/**
 * Stored key material under the server's secret key (SPEC §16). The database holds private keys only
 * as ciphertext, plus one `secret_key_check` value (a constant encrypted with the key), so a server
 * started with another key refuses at once instead of failing later on some row.
 */

const KEY_CHECK = "secret_key_check";
const KEY_CHECK_PLAINTEXT = "fluxer secret key check";
/** Earlier versions kept the refresh-successor HMAC key here in plain text; it is derived now. */
const LEGACY_SUCCESSOR_KEY = "refresh_successor_hmac";
const BATCH_SIZE = 200;

export function signingKeyContext(applicationId: string): string {
  return `applications.signing_key:${applicationId}`;
}

async function verifyKeyCheck(db: Db, keys: ServerKeys): Promise<string> {
  await db
    .insertInto("server_secrets")
    .values({ name: KEY_CHECK, value: await encryptSecret(keys, KEY_CHECK_PLAINTEXT, KEY_CHECK) })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
  const stored = await db
    .selectFrom("server_secrets")
    .select("value")
    .where("name", "=", KEY_CHECK)
    .executeTakeFirstOrThrow();
  try {
    await decryptSecret(keys, stored.value, KEY_CHECK);
  } catch (error) {
    if (!(error instanceof SecretKeyError)) throw error;
    throw new SecretKeyError(
      `SECRET_KEY does not match this database: its data is encrypted with key ${encryptionKeyIdOf(stored.value)}, this SECRET_KEY is key ${keys.encryption[0]?.id}. Start with the key the database was set up with; to rotate, list the old key in SECRET_KEY_PREVIOUS and run \`bun run admin secrets:reencrypt\`.`,
    );
  }
  return stored.value;
}

/** Re-encrypts, batch by batch, every signing key that `needsWork` selects; returns how many changed. */
async function rewriteSigningKeys(
  db: Db,
  keys: ServerKeys,
  needsWork: (value: string) => boolean,
  filter: RawBuilder<boolean>,
): Promise<number> {
  let changed = 0;
  let after = "0";
  for (;;) {
    const rows = await db
      .selectFrom("applications")
      .select(["id", "signing_key"])
      .where(filter)
      .where("id", ">", after)
      .orderBy("id")
      .limit(BATCH_SIZE)
      .execute();
    for (const row of rows) {
      if (!needsWork(row.signing_key)) continue;
      const context = signingKeyContext(row.id);
      const plaintext = isEncrypted(row.signing_key)
        ? await decryptSecret(keys, row.signing_key, context)
        : row.signing_key;
      // Conditional on the value read: a concurrent writer (another process starting) wins cleanly.
      const updated = await db
        .updateTable("applications")
        .set({ signing_key: await encryptSecret(keys, plaintext, context) })
        .where("id", "=", row.id)
        .where("signing_key", "=", row.signing_key)
        .executeTakeFirst();
      changed += Number(updated.numUpdatedRows);
    }
    if (rows.length < BATCH_SIZE) return changed;
    after = rows.at(-1)?.id ?? after;
  }
}

/**
 * At start: refuse a key that does not match the database, forget the legacy plaintext HMAC key and
 * encrypt the signing keys that earlier versions stored in plain text. Idempotent; safe when several
 * processes start at once.
 */
export async function prepareStoredKeys(db: Db, keys: ServerKeys): Promise<{ encrypted: number }> {
  await verifyKeyCheck(db, keys);
  await db.deleteFrom("server_secrets").where("name", "=", LEGACY_SUCCESSOR_KEY).execute();
  const encrypted = await rewriteSigningKeys(
    db,
    keys,
    (value) => !isEncrypted(value),
    sql<boolean>`signing_key not like ${"aes256gcm.v1.%"}`,
  );
  return { encrypted };
}

/**
 * `bun run admin secrets:reencrypt`: everything encrypted under a previous key (or not at all) is
 * encrypted under the current SECRET_KEY; afterwards SECRET_KEY_PREVIOUS can be dropped.
 */
export async function reencryptStoredKeys(db: Db, keys: ServerKeys): Promise<{ reencrypted: number }> {
  const check = await verifyKeyCheck(db, keys);
  const current = keys.encryption[0]?.id;
  const reencrypted = await rewriteSigningKeys(
    db,
    keys,
    (value) => encryptionKeyIdOf(value) !== current,
    sql<boolean>`signing_key not like ${`aes256gcm.v1.${current}.%`}`,
  );
  // The OpenID Connect ID token signing keys too (signing-keys.ts).
  const idTokenKeys = await reencryptSigningKeys(db, keys);
  if (encryptionKeyIdOf(check) !== current)
    await db
      .updateTable("server_secrets")
      .set({ value: await encryptSecret(keys, KEY_CHECK_PLAINTEXT, KEY_CHECK) })
      .where("name", "=", KEY_CHECK)
      .where("value", "=", check)
      .execute();
  await db.deleteFrom("server_secrets").where("name", "=", LEGACY_SUCCESSOR_KEY).execute();
  return { reencrypted: reencrypted + idTokenKeys };
}
