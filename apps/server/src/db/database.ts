import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { Kysely, type LogConfig, PGliteDialect } from "kysely";
import { PostgresJSDialect } from "kysely-postgres-js";
import postgres from "postgres";
import { lockDataDir } from "./data-dir-lock.ts";
import type { Database } from "./schema.ts";

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  kind: "pglite" | "postgres";
  close(): Promise<void>;
}

const INT8_OID = 20;

/** Both drivers hand int8 (snowflakes) back as decimal strings, never as JS numbers or bigints. */
export function createPGlite(dataDir?: string, options: { loadDataDir?: Blob } = {}): PGlite {
  // Options-only form: PGlite ignores loadDataDir when the first argument is a (missing) path.
  return new PGlite({ dataDir, parsers: { [INT8_OID]: (value: string) => value }, ...options });
}

export function pgliteDatabase(pglite: PGlite, options: { log?: LogConfig } = {}): DatabaseHandle {
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }), log: options.log });
  return { db, kind: "pglite", close: () => db.destroy() };
}

export interface PostgresOptions {
  max?: number;
  /** Schema to put first on the search path (tests isolate themselves in a schema each). */
  searchPath?: string;
  /** Kysely's query log (tests count database round trips with it); off by default. */
  log?: LogConfig;
}

export function postgresDatabase(url: string, options: PostgresOptions = {}): DatabaseHandle {
  const sql = postgres(url, {
    max: options.max ?? 20,
    onnotice: () => {},
    connection: options.searchPath ? { search_path: options.searchPath } : {},
  });
  const db = new Kysely<Database>({ dialect: new PostgresJSDialect({ postgres: sql }), log: options.log });
  return { db, kind: "postgres", close: () => db.destroy() };
}

/** PostgreSQL when a URL is configured, otherwise the embedded PGlite on disk under dataDir (locked). */
export function openDatabase(config: { databaseUrl: string | null; dataDir: string }): DatabaseHandle {
  if (config.databaseUrl) return postgresDatabase(config.databaseUrl);
  mkdirSync(config.dataDir, { recursive: true });
  const unlock = lockDataDir(config.dataDir);
  const handle = pgliteDatabase(createPGlite(config.dataDir));
  return {
    ...handle,
    close: async () => {
      await handle.close();
      unlock();
    },
  };
}
