import { type Kysely, sql } from "kysely";

/**
 * OpenID Connect and public clients (SPEC §5, §13):
 * - `signing_keys`: the keys that sign ID tokens. The private key is stored only encrypted under the
 *   server's secret key (the server writes it; a migration never sees keys). A key signs from
 *   `activates_at`; `retired_at` is when a newer key takes over, after which it stays published until
 *   the ID tokens it signed have expired.
 * - `applications.public_client`: the application may use the code grant without its secret.
 * - `authorization_codes.nonce` / `auth_time`: the request's nonce and the user's sign-in time, bound to
 *   the code for the ID token. `token_families.auth_time`: the same sign-in time, for the ID tokens of
 *   refreshes (OIDC Core §12.2: a refreshed ID token keeps the original auth_time).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic by design
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("signing_keys")
    .addColumn("kid", "text", (c) => c.primaryKey())
    .addColumn("alg", "text", (c) => c.notNull())
    .addColumn("public_jwk", "text", (c) => c.notNull())
    .addColumn("private_key", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("activates_at", "timestamptz", (c) => c.notNull())
    .addColumn("retired_at", "timestamptz")
    .execute();
  // At most one current key: two processes generating the first key at once cannot both win.
  await sql`create unique index signing_keys_current_key on signing_keys ((true)) where retired_at is null`.execute(
    db,
  );

  await db.schema
    .alterTable("applications")
    .addColumn("public_client", "boolean", (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .alterTable("authorization_codes")
    .addColumn("nonce", "text")
    .addColumn("auth_time", "timestamptz")
    .execute();
  await db.schema.alterTable("token_families").addColumn("auth_time", "timestamptz").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("token_families").dropColumn("auth_time").execute();
  await db.schema.alterTable("authorization_codes").dropColumn("nonce").dropColumn("auth_time").execute();
  await db.schema.alterTable("applications").dropColumn("public_client").execute();
  await db.schema.dropTable("signing_keys").ifExists().execute();
}
