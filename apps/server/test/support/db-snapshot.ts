import { sql } from "kysely";
import type { Db } from "../../src/db/database.ts";

/** Tables whose content a rejected request must never change (rate-limit counters may move). */
const TABLES = [
  "users",
  "sessions",
  "applications",
  "application_icons",
  "authorization_codes",
  "token_families",
  "refresh_tokens",
  "access_tokens",
  "authorizations",
  "audit_events",
] as const;

/** A content fingerprint per table: row count and an md5 over the sorted rows. */
export async function snapshotDatabase(db: Db): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    const { rows } = await sql<{ n: number; digest: string | null }>`
      select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest
      from ${sql.table(table)} t`.execute(db);
    out[table] = `${rows[0]?.n}:${rows[0]?.digest}`;
  }
  return out;
}
