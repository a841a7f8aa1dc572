import { ConfigError, loadConfig } from "./config.ts";
import { DataDirLockedError } from "./db/data-dir-lock.ts";
import { startServer } from "./server.ts";

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
  if (error instanceof DataDirLockedError) {
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
if (!config.databaseUrl && Number(count) === 0) {
  console.log(
    [
      "",
      `Fluxer OAuth2 server on ${config.issuer} (embedded database in ${config.dataDir})`,
      `  1. Create an account:      ${config.issuer}/register`,
      "  2. Create an application:  the tRPC API at /trpc (applications.create), see README",
      `  3. Try the flow:           ${config.issuer}/v1/oauth2/authorize?client_id=<id>&redirect_uri=<uri>&response_type=code&scope=identify`,
      "",
    ].join("\n"),
  );
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return; // a second signal while draining changes nothing
    stopping = true;
    await server.stop({ reason: signal });
    process.exit(0);
  });
}
