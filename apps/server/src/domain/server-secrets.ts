import { generateToken } from "../crypto.ts";
import type { Db } from "../db/database.ts";

/**
 * Process-wide secrets shared by every server process through the database (e.g. the HMAC key that
 * derives refresh successors, so any process can recompute the same pair during the grace window).
 * The first process to need a secret inserts it; `on conflict do nothing` + re-read makes every racing
 * process converge on the one stored value. Cached per database handle after the first read.
 */
const cache = new WeakMap<Db, Map<string, Promise<string>>>();

async function loadOrCreate(db: Db, name: string): Promise<string> {
  const existing = await db
    .selectFrom("server_secrets")
    .select("value")
    .where("name", "=", name)
    .executeTakeFirst();
  if (existing) return existing.value;
  await db
    .insertInto("server_secrets")
    .values({ name, value: generateToken() })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
  const stored = await db
    .selectFrom("server_secrets")
    .select("value")
    .where("name", "=", name)
    .executeTakeFirstOrThrow();
  return stored.value;
}

export function getServerSecret(db: Db, name: string): Promise<string> {
  let secrets = cache.get(db);
  if (!secrets) {
    secrets = new Map();
    cache.set(db, secrets);
  }
  let secret = secrets.get(name);
  if (!secret) {
    secret = loadOrCreate(db, name);
    secrets.set(name, secret);
    // A failed load (database down) is not cached: the next request tries again.
    secret.catch(() => secrets?.delete(name));
  }
  return secret;
}
