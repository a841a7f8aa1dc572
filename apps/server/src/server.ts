import { createApp } from "./app.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { type DatabaseHandle, openDatabase } from "./db/database.ts";
import { migrateToLatest } from "./db/migrate.ts";
import type { Deps } from "./deps.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createSnowflakeGenerator } from "./snowflake.ts";

export interface RunningServer {
  url: string;
  port: number;
  deps: Deps;
  stop(): Promise<void>;
}

/** config → database (migrated) → app.listen(); used by index.ts and by tests that need a real socket. */
export async function startServer(
  config: Config,
  options: { database?: DatabaseHandle; clock?: Clock; log?: Logger } = {},
): Promise<RunningServer> {
  const database = options.database ?? openDatabase(config);
  await migrateToLatest(database.db);
  const deps: Deps = {
    db: database.db,
    config,
    clock: options.clock ?? systemClock,
    nextId: createSnowflakeGenerator(config.workerId),
    log: options.log ?? createLogger(config.logLevel),
  };
  const app = createApp(deps).listen({ port: config.port, hostname: "0.0.0.0" });
  const port = app.server?.port ?? config.port;
  return {
    url: `http://localhost:${port}`,
    port,
    deps,
    stop: async () => {
      await app.stop(true);
      if (!options.database) await database.close();
    },
  };
}
