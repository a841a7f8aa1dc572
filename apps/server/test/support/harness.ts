import { createApp } from "../../src/app.ts";
import { type Clock, createManualClock } from "../../src/clock.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import type { DatabaseHandle } from "../../src/db/database.ts";
import type { Deps } from "../../src/deps.ts";
import { createMetrics } from "../../src/metrics.ts";
import { loadServerKeys } from "../../src/secret-key.ts";
import { startServer } from "../../src/server.ts";
import { createSnowflakeGenerator } from "../../src/snowflake.ts";
import type { Context } from "../../src/trpc/context.ts";
import { appRouter } from "../../src/trpc/router.ts";
import { createCallerFactory } from "../../src/trpc/trpc.ts";
import { createTestDatabase } from "./database.ts";
import { createTestLogger } from "./test-log.ts";

export const TEST_ISSUER = "http://localhost:3000";
/** Every test server (in process or spawned) shares one fixed SECRET_KEY, on either database. */
export const TEST_SECRET_KEY = "dGVzdC1vbmx5LXNlY3JldC1rZXktMzItYnl0ZXMtbG9uZyE";

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    ISSUER: TEST_ISSUER,
    LOG_LEVEL: "silent",
    RATE_LIMITS: "off",
    DATA_DIR: "/nonexistent",
    SECRET_KEY: TEST_SECRET_KEY,
    ...overrides,
  });
}

export interface TestApp {
  deps: Deps;
  database: DatabaseHandle;
  clock: Clock & { advance(seconds: number): void };
  app: ReturnType<typeof createApp>;
  /** `app.handle` with a path relative to the issuer. */
  request(path: string, init?: RequestInit): Promise<Response>;
  caller(ctx?: Partial<Context>): ReturnType<typeof createCaller>;
  close(): Promise<void>;
}

const createCaller = createCallerFactory(appRouter);

/** The real app on a fresh database, with a manual clock; no socket. */
export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  return createTestAppOn(await createTestDatabase(), env);
}

/** The real app over a database the test prepared itself (e.g. one that counts its statements). */
export async function createTestAppOn(
  database: DatabaseHandle,
  env: Record<string, string> = {},
): Promise<TestApp> {
  const clock = createManualClock();
  const config = testConfig({
    ...(database.kind === "postgres" ? { DATABASE_URL: process.env.DATABASE_URL ?? "" } : {}),
    ...env,
  });
  const deps: Deps = {
    db: database.db,
    config,
    clock,
    nextId: createSnowflakeGenerator(config.workerId),
    log: createTestLogger(),
    metrics: createMetrics(),
    keys: await loadServerKeys(config),
  };
  const app = createApp(deps);
  return {
    deps,
    database,
    clock,
    app,
    request: (path, init) => app.handle(new Request(new URL(path, TEST_ISSUER), init)),
    caller: (ctx = {}) =>
      createCaller({ ...deps, user: null, session: null, ip: "127.0.0.1", deviceCookie: null, ...ctx }),
    close: () => database.close(),
  };
}

/** The real server on a real socket (port 0) over a fresh test database. */
export async function startTestServer(env: Record<string, string> = {}) {
  const database = await createTestDatabase();
  const config = testConfig({ PORT: "0", ...env });
  const server = await startServer(config, { database, log: createTestLogger() });
  return {
    ...server,
    database,
    stop: async () => {
      await server.stop();
      await database.close();
    },
  };
}
