import { ConfigError, loadConfig } from "./config.ts";
import { DataDirLockedError } from "./db/data-dir-lock.ts";
import { DatabaseUnavailableError } from "./db/reachability.ts";
import { SecretKeyError } from "./secret-key.ts";
import { AddressInUseError, startServer } from "./server.ts";
import { startupBanner } from "./startup-banner.ts";

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const server = await startServer(config).catch((error: unknown) => {
  if (
    error instanceof DataDirLockedError ||
    error instanceof DatabaseUnavailableError ||
    error instanceof SecretKeyError ||
    error instanceof AddressInUseError
  ) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
});
const { count } = await server.deps.db
  .selectFrom("users")
  .select((eb) => eb.fn.countAll<number>().as("count"))
  .executeTakeFirstOrThrow();
server.deps.log.info("server listening", {
  url: server.url,
  issuer: config.issuer,
  database: config.databaseUrl ? "postgres" : `pglite:${config.dataDir}`,
});
console.log(
  startupBanner({
    config,
    hostname: server.hostname,
    port: server.port,
    metricsUrl: server.metricsUrl,
    empty: Number(count) === 0,
  }),
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return; // a second signal while draining changes nothing
    stopping = true;
    await server.stop({ reason: signal });
    process.exit(0);
  });
}
