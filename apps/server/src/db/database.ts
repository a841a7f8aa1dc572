import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import {
  type CompiledQuery,
  type Dialect,
  type Driver,
  Kysely,
  type LogConfig,
  type LogEvent,
  PGliteDialect,
} from "kysely";
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

/** Sees every statement (Kysely's query log) and every connection taken from and given back to the pool. */
export interface DatabaseObserver {
  query(event: LogEvent): void;
  poolSize(size: number): void;
  connectionAcquired(): void;
  connectionReleased(): void;
}

/** Kysely's log option: the caller's own log (tests count statements with it) and the observer's. */
function logOption(options: { log?: LogConfig; observer?: DatabaseObserver }): LogConfig | undefined {
  const { log, observer } = options;
  if (!observer) return log;
  return (event) => {
    observer.query(event);
    if (typeof log === "function") return log(event);
  };
}

/** The dialect with its driver's acquire and release reported to the observer. */
function observedDialect(dialect: Dialect, observer: DatabaseObserver | undefined): Dialect {
  if (!observer) return dialect;
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: (): Driver => {
      const driver = dialect.createDriver();
      return new Proxy(driver, {
        get(target, property) {
          if (property === "acquireConnection")
            return async (...args: Parameters<Driver["acquireConnection"]>) => {
              const connection = await target.acquireConnection(...args);
              observer.connectionAcquired();
              return connection;
            };
          if (property === "releaseConnection")
            return async (...args: Parameters<Driver["releaseConnection"]>) => {
              observer.connectionReleased();
              return target.releaseConnection(...args);
            };
          const value = Reflect.get(target, property, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    },
  };
}

/**
 * Runs one compiled statement on its own, outside any transaction, straight on the driver's pool and
 * reported like any other statement (Kysely's log, the observer). Only PostgreSQL handles without
 * plugins have one: see `directExecutorOf`.
 */
export type DirectExecutor = (query: CompiledQuery) => Promise<unknown[]>;
const directExecutors = new WeakMap<Db, DirectExecutor>();

/**
 * The handle's direct executor, or null (PGlite, a transaction, a handle with plugins: their
 * statements go through Kysely's executor). Kysely's postgres.js dialect reserves a pool connection
 * for every statement; a statement sent on the pool instead can share a connection with others
 * (postgres.js pipelines them), which costs the server far less per statement.
 */
export function directExecutorOf(db: Db): DirectExecutor | null {
  return directExecutors.get(db) ?? null;
}

function directExecutor(
  sql: postgres.Sql,
  options: { log?: LogConfig; observer?: DatabaseObserver },
): DirectExecutor | null {
  const log = logOption(options);
  if (log !== undefined && typeof log !== "function") return null;
  const { observer } = options;
  return async (query) => {
    const started = performance.now();
    observer?.connectionAcquired();
    try {
      const rows = await sql.unsafe(query.sql, query.parameters as postgres.ParameterOrJSON<never>[], {
        prepare: true,
      });
      log?.({ level: "query", query, queryDurationMillis: performance.now() - started });
      return rows;
    } catch (error) {
      log?.({ level: "error", error, query, queryDurationMillis: performance.now() - started });
      throw error;
    } finally {
      observer?.connectionReleased();
    }
  };
}

/** Both drivers hand int8 (snowflakes) back as decimal strings, never as JS numbers or bigints. */
export function createPGlite(dataDir?: string, options: { loadDataDir?: Blob } = {}): PGlite {
  // Options-only form: PGlite ignores loadDataDir when the first argument is a (missing) path.
  return new PGlite({ dataDir, parsers: { [INT8_OID]: (value: string) => value }, ...options });
}

export function pgliteDatabase(
  pglite: PGlite,
  options: { log?: LogConfig; observer?: DatabaseObserver } = {},
): DatabaseHandle {
  options.observer?.poolSize(1);
  const db = new Kysely<Database>({
    dialect: observedDialect(new PGliteDialect({ pglite }), options.observer),
    log: logOption(options),
  });
  return { db, kind: "pglite", close: () => db.destroy() };
}

export interface PostgresOptions {
  max?: number;
  /** Schema to put first on the search path (tests isolate themselves in a schema each). */
  searchPath?: string;
  /** Kysely's query log (tests count database round trips with it); off by default. */
  log?: LogConfig;
  observer?: DatabaseObserver;
}

export function postgresDatabase(url: string, options: PostgresOptions = {}): DatabaseHandle {
  const max = options.max ?? 20;
  options.observer?.poolSize(max);
  const sql = postgres(url, {
    max,
    onnotice: () => {},
    connection: {
      // Statements are prepared once per connection and should be planned once too. PostgreSQL's
      // default re-plans a statement on every run while plans built for the run's own values look
      // cheaper than the generic one, which is always so for a batch (db/batched-statement.ts): the
      // generic plan assumes 10 items, a batch usually has fewer. Every statement here is a lookup or
      // a write by key, whose plan does not depend on the values.
      plan_cache_mode: "force_generic_plan",
      ...(options.searchPath ? { search_path: options.searchPath } : {}),
    },
  });
  const db = new Kysely<Database>({
    dialect: observedDialect(new PostgresJSDialect({ postgres: sql }), options.observer),
    log: logOption(options),
  });
  const direct = directExecutor(sql, options);
  if (direct) directExecutors.set(db, direct);
  return { db, kind: "postgres", close: () => db.destroy() };
}

/** PostgreSQL when a URL is configured, otherwise the embedded PGlite on disk under dataDir (locked). */
export function openDatabase(
  config: { databaseUrl: string | null; dataDir: string },
  options: { observer?: DatabaseObserver } = {},
): DatabaseHandle {
  if (config.databaseUrl) return postgresDatabase(config.databaseUrl, options);
  mkdirSync(config.dataDir, { recursive: true });
  const unlock = lockDataDir(config.dataDir);
  const handle = pgliteDatabase(createPGlite(config.dataDir), options);
  return {
    ...handle,
    close: async () => {
      await handle.close();
      unlock();
    },
  };
}
