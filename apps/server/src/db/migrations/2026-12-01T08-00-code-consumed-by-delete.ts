import { type Kysely, sql } from "kysely";

/**
 * An exchange now consumes its code by deleting it (the family it creates keeps the code's hash, which
 * is how a replay is recognised), so `consumed_at` is never set any more. A code row that exists is
 * unconsumed. Marking the row used had written a new row version and two index entries per exchange.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic by design
export async function up(db: Kysely<any>): Promise<void> {
  // Codes consumed before this migration are deleted like an exchange does now; their families keep
  // their hashes, so replaying one is still recognised.
  await db.deleteFrom("authorization_codes").where("consumed_at", "is not", null).execute();
  await db.schema.alterTable("authorization_codes").dropColumn("consumed_at").execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("authorization_codes").addColumn("consumed_at", sql`timestamptz`).execute();
}
