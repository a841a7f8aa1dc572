import { type Kysely, sql } from "kysely";

/**
 * Retention (SPEC §4): cleanup deletes used refresh tokens some days after their use and audit events
 * after their retention, batch by batch; these indexes find those rows without scanning the tables.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic by design
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex("refresh_tokens_used_at_idx")
    .on("refresh_tokens")
    .column("used_at")
    .where(sql.ref("used_at"), "is not", null)
    .execute();
  await db.schema
    .createIndex("audit_events_created_at_idx")
    .on("audit_events")
    .column("created_at")
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("audit_events_created_at_idx").ifExists().execute();
  await db.schema.dropIndex("refresh_tokens_used_at_idx").ifExists().execute();
}
