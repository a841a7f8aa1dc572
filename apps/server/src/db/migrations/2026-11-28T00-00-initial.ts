import { type Kysely, sql } from "kysely";

// Migrations take Kysely<any> and never import application code: they must keep working as the app changes.
// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic by design
export async function up(db: Kysely<any>): Promise<void> {
  const now = sql`now()`;
  await db.schema
    .createTable("users")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("username", "text", (c) => c.notNull())
    .addColumn("discriminator", "text", (c) => c.notNull())
    .addColumn("global_name", "text")
    .addColumn("avatar", "text")
    .addColumn("email", "text")
    .addColumn("verified", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("flags", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("bot", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("system", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("password_hash", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
  // Human usernames and emails are unique case-insensitively; bot users are named after their apps.
  await sql`create unique index users_username_key on users (lower(username)) where not bot`.execute(db);
  await sql`create unique index users_email_key on users (lower(email)) where email is not null`.execute(db);

  await db.schema
    .createTable("sessions")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("user_id", "bigint", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("sessions_user_id_idx").on("sessions").column("user_id").execute();

  await db.schema
    .createTable("applications")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("owner_id", "bigint", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text")
    .addColumn("icon_hash", "text")
    .addColumn("bot_user_id", "bigint", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("bot_public", "boolean", (c) => c.notNull().defaultTo(true))
    .addColumn("bot_require_code_grant", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("terms_of_service_url", "text")
    .addColumn("privacy_policy_url", "text")
    .addColumn("redirect_uris", sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn("client_secret_hash", "text", (c) => c.notNull())
    .addColumn("bot_token_hash", "text")
    .addColumn("verify_key", "text", (c) => c.notNull())
    .addColumn("signing_key", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex("applications_owner_id_idx").on("applications").column("owner_id").execute();

  await db.schema
    .createTable("application_icons")
    .addColumn("application_id", "bigint", (c) =>
      c.notNull().references("applications.id").onDelete("cascade"),
    )
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("content_type", "text", (c) => c.notNull())
    .addColumn("data", "bytea", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint("application_icons_pkey", ["application_id", "hash"])
    .execute();

  await db.schema
    .createTable("authorization_codes")
    .addColumn("code_hash", "text", (c) => c.primaryKey())
    .addColumn("application_id", "bigint", (c) =>
      c.notNull().references("applications.id").onDelete("cascade"),
    )
    .addColumn("user_id", "bigint", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("redirect_uri", "text", (c) => c.notNull())
    .addColumn("scopes", sql`text[]`, (c) => c.notNull())
    .addColumn("code_challenge", "text")
    .addColumn("code_challenge_method", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("consumed_at", "timestamptz")
    .execute();
  await db.schema
    .createIndex("authorization_codes_expires_at_idx")
    .on("authorization_codes")
    .column("expires_at")
    .execute();

  await db.schema
    .createTable("token_families")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("application_id", "bigint", (c) =>
      c.notNull().references("applications.id").onDelete("cascade"),
    )
    .addColumn("user_id", "bigint", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("grant_type", "text", (c) => c.notNull())
    .addColumn("scopes", sql`text[]`, (c) => c.notNull())
    .addColumn("code_hash", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("revoked_at", "timestamptz")
    .addColumn("revoked_reason", "text")
    .execute();
  await db.schema
    .createIndex("token_families_user_app_idx")
    .on("token_families")
    .columns(["user_id", "application_id"])
    .execute();
  await db.schema
    .createIndex("token_families_application_idx")
    .on("token_families")
    .column("application_id")
    .execute();
  await sql`create index token_families_code_hash_idx on token_families (code_hash) where code_hash is not null`.execute(
    db,
  );

  await db.schema
    .createTable("refresh_tokens")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("family_id", "bigint", (c) => c.notNull().references("token_families.id").onDelete("cascade"))
    .addColumn("generation", "integer", (c) => c.notNull())
    .addColumn("scopes", sql`text[]`, (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("used_at", "timestamptz")
    .execute();
  await db.schema.createIndex("refresh_tokens_family_idx").on("refresh_tokens").column("family_id").execute();

  await db.schema
    .createTable("access_tokens")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("family_id", "bigint", (c) => c.notNull().references("token_families.id").onDelete("cascade"))
    .addColumn("application_id", "bigint", (c) =>
      c.notNull().references("applications.id").onDelete("cascade"),
    )
    .addColumn("user_id", "bigint", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("scopes", sql`text[]`, (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("access_tokens_family_idx").on("access_tokens").column("family_id").execute();
  await db.schema
    .createIndex("access_tokens_expires_at_idx")
    .on("access_tokens")
    .column("expires_at")
    .execute();

  await db.schema
    .createTable("authorizations")
    .addColumn("user_id", "bigint", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("application_id", "bigint", (c) =>
      c.notNull().references("applications.id").onDelete("cascade"),
    )
    .addColumn("scopes", sql`text[]`, (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint("authorizations_pkey", ["user_id", "application_id"])
    .execute();

  await db.schema
    .createTable("audit_events")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("user_id", "bigint")
    .addColumn("application_id", "bigint")
    .addColumn("family_id", "bigint")
    .addColumn("data", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createIndex("audit_events_type_idx")
    .on("audit_events")
    .columns(["type", "created_at"])
    .execute();

  await db.schema
    .createTable("server_secrets")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable("rate_limits")
    .addColumn("bucket", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("window_start", "timestamptz", (c) => c.notNull())
    .addColumn("count", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("rate_limits_pkey", ["bucket", "key"])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    "rate_limits",
    "server_secrets",
    "audit_events",
    "authorizations",
    "access_tokens",
    "refresh_tokens",
    "token_families",
    "authorization_codes",
    "application_icons",
    "applications",
    "sessions",
    "users",
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
