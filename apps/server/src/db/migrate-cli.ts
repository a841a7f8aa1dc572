import { loadConfig } from "../config.ts";
import { openDatabase } from "./database.ts";
import { migrateToLatest } from "./migrate.ts";

const config = loadConfig();
const handle = openDatabase(config);
await migrateToLatest(handle.db);
await handle.close();
console.log(`migrated ${handle.kind} database to the latest schema`);
