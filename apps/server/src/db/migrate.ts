import type { Kysely } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
import * as initial from "./migrations/2026-11-28T00-00-initial.ts";
import * as auditEventData from "./migrations/2026-12-01T02-15-audit-event-data.ts";
import * as retentionIndexes from "./migrations/2026-12-01T03-30-retention-indexes.ts";
import * as openidConnect from "./migrations/2026-12-01T06-00-openid-connect.ts";
import * as familyCodeHashIndex from "./migrations/2026-12-01T06-10-family-code-hash-index.ts";
import * as accessTokenParents from "./migrations/2026-12-01T07-00-access-token-parents.ts";
import * as codeConsumedByDelete from "./migrations/2026-12-01T08-00-code-consumed-by-delete.ts";

/**
 * Migrations are listed statically (not read from disk) so a compiled or bundled server carries them.
 * Names sort by time; a landed migration is never edited, only followed by a new one.
 */
const migrations: Record<string, Migration> = {
  "2026-11-28T00-00-initial": initial,
  "2026-12-01T02-15-audit-event-data": auditEventData,
  "2026-12-01T03-30-retention-indexes": retentionIndexes,
  "2026-12-01T06-00-openid-connect": openidConnect,
  "2026-12-01T06-10-family-code-hash-index": familyCodeHashIndex,
  "2026-12-01T07-00-access-token-parents": accessTokenParents,
  "2026-12-01T08-00-code-consumed-by-delete": codeConsumedByDelete,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * `schema` pins Kysely's bookkeeping tables to one schema: otherwise its existence check sees the
 * tables of another schema on the same database (tests use one schema each) and skips creating them.
 */
export async function migrateToLatest<T>(db: Kysely<T>, options: { schema?: string } = {}): Promise<void> {
  const migrator = new Migrator({ db, provider, migrationTableSchema: options.schema });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === "Error");
  if (error || failed) {
    const which = failed ? `migration ${failed.migrationName}` : "migrations";
    throw new Error(`${which} failed: ${String(error)}`, { cause: error });
  }
}
