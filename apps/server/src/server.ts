import { createApp } from "./app.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { type DatabaseHandle, openDatabase } from "./db/database.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { ensureDatabaseReachable } from "./db/reachability.ts";
import type { Deps } from "./deps.ts";
import { startCleanupTimer } from "./domain/cleanup.ts";
import { prepareStoredKeys } from "./domain/server-secrets.ts";
import { serveMetrics } from "./http/metrics-endpoint.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { loadServerKeys } from "./secret-key.ts";
import { createSnowflakeGenerator } from "./snowflake.ts";

/**
 * Expired codes, sessions, dead families, used refresh tokens and audit events past their retention
 * are removed in small batches every 10 minutes.
 */
const CLEANUP_INTERVAL_MS = 10 * 60_000;

const DAY_SECONDS = 24 * 3600;

/** How long shutdown waits for requests in flight before closing their connections. */
const DRAIN_TIMEOUT_MS = 10_000;

export interface RunningServer {
  url: string;
  /** The address it is bound to (HOST) and its port. */
  hostname: string;
  port: number;
  /** `http://host:port/metrics`, or null when METRICS_PORT is unset. */
  metricsUrl: string | null;
  deps: Deps;
  /** Drains and closes; logs "draining" and "stopped" (with `reason`, e.g. the signal, if given). */
  stop(options?: { reason?: string }): Promise<void>;
}

/** The port is taken, and REUSE_PORT does not ask to share it. */
export class AddressInUseError extends Error {}

function listenOn(app: ReturnType<typeof createApp>, config: Config) {
  try {
    // Elysia asks Bun for SO_REUSEPORT unless told otherwise: a second server would silently share
    // the port (and split the traffic) instead of failing.
    return app.listen({ port: config.port, hostname: config.host, reusePort: config.reusePort });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    throw new AddressInUseError(
      `address in use: ${config.host}:${config.port} is taken by another process (REUSE_PORT=true shares it, for processes of one deployment only)`,
    );
  }
}

/**
 * SECRET_KEY → database (migrated, stored keys encrypted) → app.listen(); used by index.ts and by
 * tests that need a real socket.
 */
export async function startServer(
  config: Config,
  options: {
    database?: DatabaseHandle;
    clock?: Clock;
    log?: Logger;
    cleanupIntervalMs?: number;
    /** The instruments a given `database` reports to (its observer); fresh ones otherwise. */
    metrics?: Metrics;
  } = {},
): Promise<RunningServer> {
  const keys = await loadServerKeys(config);
  const metrics = options.metrics ?? createMetrics();
  const database = options.database ?? openDatabase(config, { observer: metrics.database });
  const log = options.log ?? createLogger(config.logLevel);
  let app: ReturnType<typeof createApp> | undefined;
  let metricsServer: ReturnType<typeof serveMetrics> | null = null;
  let deps: Deps;
  try {
    await ensureDatabaseReachable(database, config.databaseUrl);
    await migrateToLatest(database.db);
    const { encrypted } = await prepareStoredKeys(database.db, keys);
    if (encrypted > 0) log.info("encrypted stored signing keys", { count: encrypted });
    deps = {
      db: database.db,
      config,
      clock: options.clock ?? systemClock,
      nextId: createSnowflakeGenerator(config.workerId),
      log,
      metrics,
      keys,
    };
    app = listenOn(createApp(deps), config);
    // Bound like the server itself (HOST).
    if (config.metricsPort !== null)
      metricsServer = serveMetrics(metrics, { port: config.metricsPort, hostname: app.server?.hostname });
  } catch (error) {
    await app?.stop(true);
    if (!options.database) await database.close();
    throw error;
  }
  const stopCleanup = startCleanupTimer(deps, options.cleanupIntervalMs ?? CLEANUP_INTERVAL_MS, {
    usedRefreshTokenRetentionSeconds: config.usedRefreshTokenRetentionDays * DAY_SECONDS,
    auditRetentionSeconds: config.auditRetentionDays * DAY_SECONDS,
  });
  const port = app.server?.port ?? config.port;
  return {
    url: `http://localhost:${port}`,
    hostname: app.server?.hostname ?? config.host,
    port,
    metricsUrl: metricsServer ? `http://localhost:${metricsServer.port}/metrics` : null,
    deps,
    stop: async ({ reason }: { reason?: string } = {}) => {
      // Drain: stop accepting, let requests in flight finish (a token response cut off after its
      // commit would make the client's retry look like a replay), then force-close what is left.
      const started = performance.now();
      const inFlight = app.server?.pendingRequests ?? 0;
      deps.log.info("draining", {
        reason: reason ?? null,
        in_flight: inFlight,
        timeout_ms: DRAIN_TIMEOUT_MS,
      });
      const drained = app.stop(false).then(() => true);
      const deadline = Bun.sleep(DRAIN_TIMEOUT_MS).then(() => false);
      let cutOff = 0;
      if (!(await Promise.race([drained, deadline]))) {
        cutOff = app.server?.pendingRequests ?? 0;
        await app.stop(true);
      }
      // Elysia writes each access-log line in a setImmediate after the response: let the lines of
      // the requests that just drained out come before "stopped" (and before the process exits).
      await new Promise((resolve) => setImmediate(resolve));
      await metricsServer?.stop(true);
      await stopCleanup();
      if (!options.database) await database.close();
      deps.log.info("stopped", {
        in_flight: inFlight,
        cut_off: cutOff,
        duration_ms: Math.round(performance.now() - started),
      });
    },
  };
}
