import { type LogConfig, sql } from "kysely";
import {
  createPGlite,
  type DatabaseHandle,
  type DatabaseObserver,
  pgliteDatabase,
  postgresDatabase,
} from "../../src/db/database.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";

/**
 * Tests run on PGlite by default and on PostgreSQL when DATABASE_URL is set (CI runs both).
 * PostgreSQL: each database lives in a schema of its own, dropped on close.
 * PGlite: one migrated in-memory database per process, dumped once and loaded per test database.
 */
export const testDatabaseKind: "postgres" | "pglite" = process.env.DATABASE_URL ? "postgres" : "pglite";

let template: Promise<Blob> | null = null;

async function migratedTemplate(): Promise<Blob> {
  const pglite = createPGlite();
  const handle = pgliteDatabase(pglite);
  await migrateToLatest(handle.db);
  // PGlite's clone() would drop our type parsers, so we keep the dump and load it ourselves.
  const dump = await pglite.dumpDataDir("none");
  await handle.close();
  return dump;
}

export async function createTestDatabase(
  options: { max?: number; observer?: DatabaseObserver; log?: LogConfig } = {},
): Promise<DatabaseHandle> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const schema = `test_${crypto.randomUUID().replaceAll("-", "")}`;
    const admin = postgresDatabase(url, { max: 1 });
    await sql`create schema ${sql.id(schema)}`.execute(admin.db);
    await admin.close();
    const handle = postgresDatabase(url, {
      searchPath: schema,
      max: options.max ?? 10,
      observer: options.observer,
      log: options.log,
    });
    await migrateToLatest(handle.db, { schema });
    return {
      ...handle,
      close: async () => {
        await sql`drop schema ${sql.id(schema)} cascade`.execute(handle.db);
        await handle.close();
      },
    };
  }
  template ??= migratedTemplate();
  return pgliteDatabase(createPGlite(undefined, { loadDataDir: await template }), {
    observer: options.observer,
    log: options.log,
  });
}
