import { ConfigError, loadConfig } from "../config.ts";
import { DataDirLockedError } from "./data-dir-lock.ts";
import { openDatabase } from "./database.ts";
import { migrateToLatest } from "./migrate.ts";
import { DatabaseUnavailableError, ensureDatabaseReachable } from "./reachability.ts";

try {
  const config = loadConfig();
  const handle = openDatabase(config);
  try {
    await ensureDatabaseReachable(handle, config.databaseUrl);
    await migrateToLatest(handle.db);
  } finally {
    await handle.close();
  }
  console.log(`migrated ${handle.kind} database to the latest schema`);
} catch (error) {
  if (
    !(
      error instanceof ConfigError ||
      error instanceof DataDirLockedError ||
      error instanceof DatabaseUnavailableError
    )
  )
    throw error;
  console.error(error.message);
  process.exit(1);
}
