import { type Kysely, sql } from "kysely";

/**
 * audit_events.data holds a JSON object. Rows written as a JSON *string* (a serialised object inside
 * jsonb, where `data->>'reason'` is NULL) become the object they spell. Family events also name their
 * family in `data`, as new rows do; a reuse event whose token generation was not recorded says null.
 * The index serves an application's events, newest first, page by page (`… and id < ? order by id desc`).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic by design
export async function up(db: Kysely<any>): Promise<void> {
  await sql`update audit_events set data = (data #>> '{}')::jsonb where jsonb_typeof(data) = 'string'`.execute(
    db,
  );
  await sql`
    update audit_events set data = data || jsonb_build_object('family_id', family_id::text)
    where type in ('token_family.revoked', 'refresh_token.reuse_detected')
      and family_id is not null and data -> 'family_id' is null`.execute(db);
  await sql`
    update audit_events set data = data || '{"generation": null}'::jsonb
    where type = 'refresh_token.reuse_detected' and data -> 'generation' is null`.execute(db);
  await db.schema
    .createIndex("audit_events_application_idx")
    .on("audit_events")
    .columns(["application_id", "id"])
    .execute();
}

// The data stays an object: a server of the previous version reads and writes those as well.
// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("audit_events_application_idx").ifExists().execute();
}
