import { migrateToLatest } from "../../db/migrate.ts";
import { type AdminCommand, parseArguments, withDatabase } from "../command.ts";

export const dbMigrate: AdminCommand = {
  summary: "apply the database migrations (the server also does at start)",
  usage: "",
  run: async (args) => {
    parseArguments("db:migrate", args, {}, { min: 0, max: 0, names: "" });
    return withDatabase(async (db, config) => {
      await migrateToLatest(db);
      return `migrated ${config.databaseUrl ? "PostgreSQL" : "PGlite"} database to the latest schema`;
    });
  },
};
