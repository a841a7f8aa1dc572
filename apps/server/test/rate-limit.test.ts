import { afterAll, describe, expect, test } from "bun:test";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { RedisClient } from "bun";
import { Elysia } from "elysia";
import { sql } from "kysely";
import { createManualClock } from "../src/clock.ts";
import { type DatabaseHandle, postgresDatabase } from "../src/db/database.ts";
import {
  limitByIp,
  rateLimitedResponse,
  rateLimitHeaders,
  retryLaterResponse,
} from "../src/http/rate-limit.ts";
import { createLogger } from "../src/logger.ts";
import { createMetrics } from "../src/metrics.ts";
import { DEFAULT_RATE_LIMITS, rateLimitConfig } from "../src/rate-limit/buckets.ts";
import { createDatabaseRateLimiter } from "../src/rate-limit/database-store.ts";
import { ipKey } from "../src/rate-limit/keys.ts";
import type { RateLimiter } from "../src/rate-limit/limiter.ts";
import { createRateLimiter, hitBucket, rateLimiterFor } from "../src/rate-limit/limiter-for-deps.ts";
import { createMemoryRateLimiter } from "../src/rate-limit/memory-store.ts";
import { createRedisRateLimiter } from "../src/rate-limit/redis-store.ts";
import { loadServerKeys } from "../src/secret-key.ts";
import { createSnowflakeGenerator } from "../src/snowflake.ts";
import type { Context } from "../src/trpc/context.ts";
import { byIp, rateLimited, rateLimitResponseMeta } from "../src/trpc/rate-limit.ts";
import { createCallerFactory, publicProcedure, router } from "../src/trpc/trpc.ts";
import { createTestDatabase, testDatabaseKind } from "./support/database.ts";
import { testConfig } from "./support/harness.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const database = await createTestDatabase({ max: 20 });
const redisReachable = await (async () => {
  let failed = false;
  const probe = createRedisRateLimiter(REDIS_URL, { onError: () => (failed = true) });
  await probe.peek("probe", "probe", 1, 1, new Date());
  await probe.close();
  return !failed;
})();
const toClose: RateLimiter[] = [];
afterAll(async () => {
  for (const limiter of toClose) await limiter.close();
  await database.close();
});

/** Each test's own bucket, so runs against the shared Redis never see each other's counters. */
const freshBucket = () => `test:${crypto.randomUUID()}`;
const START = new Date("2026-11-28T12:00:00.000Z");

const stores: { name: string; skip: boolean; make: () => RateLimiter }[] = [
  { name: "memory", skip: false, make: () => createMemoryRateLimiter() },
  { name: `database (${testDatabaseKind})`, skip: false, make: () => createDatabaseRateLimiter(database.db) },
  {
    name: "redis",
    skip: !redisReachable,
    make: () => {
      const limiter = createRedisRateLimiter(REDIS_URL);
      toClose.push(limiter);
      return limiter;
    },
  },
];

for (const store of stores) {
  describe.skipIf(store.skip)(`${store.name} store`, () => {
    test("allows `limit` hits per window, then denies with the time left", async () => {
      const limiter = store.make();
      const bucket = freshBucket();
      const clock = createManualClock(START);
      for (let i = 1; i <= 3; i++) {
        const result = await limiter.hit(bucket, "ip:1.2.3.4", 3, 60, clock.now());
        expect(result).toMatchObject({ allowed: true, limit: 3, remaining: 3 - i, retryAfterSeconds: 0 });
        expect(result.resetAt.getTime()).toBe(START.getTime() + 60_000);
        clock.advance(10);
      }
      const denied = await limiter.hit(bucket, "ip:1.2.3.4", 3, 60, clock.now());
      expect(denied).toMatchObject({ allowed: false, remaining: 0, bucket });
      expect(denied.retryAfterSeconds).toBeCloseTo(30, 3);
      // Another key and another bucket have their own counters.
      expect((await limiter.hit(bucket, "ip:5.6.7.8", 3, 60, clock.now())).allowed).toBe(true);
      expect((await limiter.hit(freshBucket(), "ip:1.2.3.4", 3, 60, clock.now())).allowed).toBe(true);
    });

    test("the counter starts again once the window has passed", async () => {
      const limiter = store.make();
      const bucket = freshBucket();
      const clock = createManualClock(START);
      for (let i = 0; i < 2; i++) await limiter.hit(bucket, "k", 2, 60, clock.now());
      expect((await limiter.hit(bucket, "k", 2, 60, clock.now())).allowed).toBe(false);
      clock.advance(59.9);
      expect((await limiter.hit(bucket, "k", 2, 60, clock.now())).allowed).toBe(false);
      clock.advance(0.1);
      const fresh = await limiter.hit(bucket, "k", 2, 60, clock.now());
      expect(fresh).toMatchObject({ allowed: true, remaining: 1 });
      expect(fresh.resetAt.getTime()).toBe(clock.now().getTime() + 60_000);
    });

    test("refund takes one hit back and never goes below zero", async () => {
      const limiter = store.make();
      const bucket = freshBucket();
      const now = START;
      await limiter.refund(bucket, "k"); // nothing to refund: no counter appears
      expect((await limiter.hit(bucket, "k", 2, 60, now)).remaining).toBe(1);
      expect((await limiter.hit(bucket, "k", 2, 60, now)).remaining).toBe(0);
      await limiter.refund(bucket, "k");
      expect(await limiter.hit(bucket, "k", 2, 60, now)).toMatchObject({ allowed: true, remaining: 0 });
      for (let i = 0; i < 5; i++) await limiter.refund(bucket, "k");
      expect((await limiter.hit(bucket, "k", 2, 60, now)).remaining).toBe(1);
    });

    test("peek does not count, reset forgets the counter", async () => {
      const limiter = store.make();
      const bucket = freshBucket();
      const now = START;
      expect(await limiter.peek(bucket, "k", 1, 60, now)).toMatchObject({ allowed: true, remaining: 0 });
      expect((await limiter.hit(bucket, "k", 1, 60, now)).allowed).toBe(true);
      expect((await limiter.peek(bucket, "k", 1, 60, now)).allowed).toBe(false);
      expect((await limiter.peek(bucket, "k", 1, 60, now)).allowed).toBe(false);
      await limiter.reset(bucket, "k");
      expect((await limiter.hit(bucket, "k", 1, 60, now)).allowed).toBe(true);
    });

    test("50 concurrent hits with limit 10: exactly 10 allowed", async () => {
      const limiter = store.make();
      const bucket = freshBucket();
      const results = await Promise.all(
        Array.from({ length: 50 }, () => limiter.hit(bucket, "ip:9.9.9.9", 10, 60, START)),
      );
      expect(results.filter((result) => result.allowed)).toHaveLength(10);
      expect(results.filter((result) => result.remaining === 0)).toHaveLength(41);
    });

    test("concurrent hits on keys with different limits and windows are each counted on their own", async () => {
      const limiter = store.make();
      const bucket = freshBucket();
      const later = new Date(START.getTime() + 5_000);
      const hits = Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0
          ? limiter.hit(bucket, "ip:1.1.1.1", 5, 60, START)
          : i % 3 === 1
            ? limiter.hit(bucket, "ip:2.2.2.2", 12, 10, later)
            : limiter.hit(`${bucket}-other`, "ip:1.1.1.1", 30, 1, START),
      );
      const results = await Promise.all(hits);
      const allowedOf = (of: number) => results.filter((result, i) => i % 3 === of && result.allowed);
      expect(allowedOf(0)).toHaveLength(5);
      expect(allowedOf(1)).toHaveLength(12);
      expect(allowedOf(2)).toHaveLength(20);
      // Each key's window is its own: started at its first hit's time, as long as its own window.
      expect(results[1]?.resetAt).toEqual(new Date(later.getTime() + 10_000));
      expect(results[2]?.resetAt).toEqual(new Date(START.getTime() + 1_000));
      expect(results[0]?.resetAt).toEqual(new Date(START.getTime() + 60_000));
    });
  });
}

describe("shared counters (several server processes)", () => {
  test("two database limiters on one database share a counter, also under concurrency", async () => {
    // On PostgreSQL the second limiter gets its own connection pool, as a second process would.
    let second: DatabaseHandle | null = null;
    if (database.kind === "postgres") {
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(database.db);
      second = postgresDatabase(process.env.DATABASE_URL ?? "", { searchPath: rows[0]?.schema, max: 10 });
    }
    try {
      const a = createDatabaseRateLimiter(database.db);
      const b = createDatabaseRateLimiter((second ?? database).db);
      const bucket = freshBucket();
      expect((await a.hit(bucket, "k", 2, 60, START)).remaining).toBe(1);
      expect((await b.hit(bucket, "k", 2, 60, START)).remaining).toBe(0);
      expect((await a.hit(bucket, "k", 2, 60, START)).allowed).toBe(false);
      expect((await b.hit(bucket, "k", 2, 60, START)).allowed).toBe(false);

      const racing = freshBucket();
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).hit(racing, "k", 10, 60, START)),
      );
      expect(results.filter((result) => result.allowed)).toHaveLength(10);
    } finally {
      await second?.close();
    }
  });

  test.skipIf(!redisReachable)("two Redis connections share a counter", async () => {
    const a = createRedisRateLimiter(REDIS_URL);
    const b = createRedisRateLimiter(REDIS_URL);
    toClose.push(a, b);
    const bucket = freshBucket();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).hit(bucket, "k", 7, 60, START)),
    );
    expect(results.filter((result) => result.allowed)).toHaveLength(7);
  });

  test.skipIf(!redisReachable)(
    "with a high limit two Redis limiters lease runs of the counter: never over the limit, at most a run early",
    async () => {
      const a = createRedisRateLimiter(REDIS_URL);
      const b = createRedisRateLimiter(REDIS_URL);
      toClose.push(a, b);
      const bucket = freshBucket();
      const limit = 1_000; // runs of at most 10 values (1 % of the limit)
      const results = await Promise.all(
        Array.from({ length: 1_500 }, (_, i) => (i % 2 ? a : b).hit(bucket, "k", limit, 60, START)),
      );
      const allowed = results.filter((result) => result.allowed);
      expect(allowed.length).toBeLessThanOrEqual(limit);
      expect(allowed.length).toBeGreaterThanOrEqual(limit - 2 * 9);
      // Each allowed hit was handed its own value of the shared counter.
      expect(new Set(allowed.map((result) => result.remaining)).size).toBe(allowed.length);
      const admin = new RedisClient(REDIS_URL);
      const stored = Number(await admin.hget(`fluxer:rl:${bucket}:k`, "count"));
      admin.close();
      expect(stored).toBeGreaterThanOrEqual(1_500);
      expect(stored).toBeLessThanOrEqual(1_500 + 2 * 9);
    },
  );

  test.skipIf(!redisReachable)(
    "scripts flushed from Redis (a restart) are loaded again, still shared",
    async () => {
      const errors: unknown[] = [];
      const a = createRedisRateLimiter(REDIS_URL, { onError: (error) => errors.push(error) });
      const b = createRedisRateLimiter(REDIS_URL, { onError: (error) => errors.push(error) });
      toClose.push(a, b);
      const bucket = freshBucket();
      await a.hit(bucket, "k", 3, 60, START);
      const admin = new RedisClient(REDIS_URL);
      await admin.send("SCRIPT", ["FLUSH"]);
      admin.close();
      const after = [await b.hit(bucket, "k", 3, 60, START), await a.hit(bucket, "k", 3, 60, START)];
      expect(after.map((result) => result.remaining)).toEqual([1, 0]);
      await b.refund(bucket, "k");
      expect((await a.peek(bucket, "k", 3, 60, START)).remaining).toBe(0);
      expect(errors).toEqual([]);
    },
  );
});

describe("store selection", () => {
  const db = database.db;
  test("RATE_LIMITS=off allows everything", async () => {
    const limiter = createRateLimiter(testConfig({ RATE_LIMITS: "off", REDIS_URL }), db);
    expect(limiter.kind).toBe("disabled");
    for (let i = 0; i < 5; i++) expect((await limiter.hit("b", "k", 1, 60, START)).allowed).toBe(true);
  });
  test("Redis when REDIS_URL is set, else the database when DATABASE_URL is, else memory", async () => {
    const redis = createRateLimiter(
      testConfig({ RATE_LIMITS: "on", REDIS_URL, DATABASE_URL: "postgres://x@127.0.0.1/x" }),
      db,
    );
    toClose.push(redis);
    expect(redis.kind).toBe("redis");
    expect(
      createRateLimiter(testConfig({ RATE_LIMITS: "on", DATABASE_URL: "postgres://x@127.0.0.1/x" }), db).kind,
    ).toBe("database");
    expect(createRateLimiter(testConfig({ RATE_LIMITS: "on" }), db).kind).toBe("memory");
  });
  test("rateLimiterFor keeps one limiter per database handle and config", () => {
    const deps = { db, config: testConfig({ RATE_LIMITS: "on" }), clock: createManualClock(START) };
    expect(rateLimiterFor(deps)).toBe(rateLimiterFor({ ...deps }));
    const off = { ...deps, config: testConfig({ RATE_LIMITS: "off" }) };
    expect(rateLimiterFor(off).kind).toBe("disabled");
    expect(rateLimiterFor(deps).kind).toBe("memory");
  });
});

describe("bucket table", () => {
  test("Fluxer's limits", () => {
    expect(DEFAULT_RATE_LIMITS["oauth:authorize"]).toEqual({ limit: 60, windowSeconds: 60 });
    expect(DEFAULT_RATE_LIMITS["oauth:token"]).toEqual({ limit: 120, windowSeconds: 60 });
    expect(DEFAULT_RATE_LIMITS["oauth:introspect"]).toEqual({ limit: 120, windowSeconds: 60 });
    expect(DEFAULT_RATE_LIMITS["applications:list"]).toEqual({ limit: 60, windowSeconds: 60 });
    expect(DEFAULT_RATE_LIMITS["applications:create"]).toEqual({ limit: 10, windowSeconds: 3600 });
    expect(DEFAULT_RATE_LIMITS["applications:reset"]).toEqual({ limit: 10, windowSeconds: 3600 });
    expect(DEFAULT_RATE_LIMITS["applications:delete"]).toEqual({ limit: 10, windowSeconds: 3600 });
  });

  for (const [bucket, { limit, windowSeconds }] of Object.entries(DEFAULT_RATE_LIMITS)) {
    test(`${bucket}: ${limit} per ${windowSeconds}s, then 429 until the window ends`, async () => {
      const clock = createManualClock(START);
      const deps = {
        db: database.db,
        config: testConfig({ RATE_LIMITS: "on" }),
        clock,
        rateLimiter: createMemoryRateLimiter(),
      };
      const name = bucket as keyof typeof DEFAULT_RATE_LIMITS;
      for (let i = 0; i < limit; i++) expect((await hitBucket(deps, name, "user:1")).allowed).toBe(true);
      const denied = await hitBucket(deps, name, "user:1");
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterSeconds).toBe(windowSeconds);
      clock.advance(windowSeconds);
      expect((await hitBucket(deps, name, "user:1")).allowed).toBe(true);
    });
  }

  test("overrides replace single buckets", async () => {
    const limits = rateLimitConfig({ "oauth:token": { limit: 1, windowSeconds: 5 } });
    expect(limits["oauth:token"]).toEqual({ limit: 1, windowSeconds: 5 });
    expect(limits["oauth:authorize"]).toEqual(DEFAULT_RATE_LIMITS["oauth:authorize"]);
    const deps = {
      db: database.db,
      config: testConfig({ RATE_LIMITS: "on" }),
      clock: createManualClock(START),
      rateLimiter: createMemoryRateLimiter(),
      rateLimits: limits,
    };
    expect((await hitBucket(deps, "oauth:token", "ip:1")).allowed).toBe(true);
    expect((await hitBucket(deps, "oauth:token", "ip:1")).allowed).toBe(false);
  });
});

describe("HTTP answers", () => {
  test("headers describe the bucket; Reset is epoch seconds, Reset-After may be fractional", async () => {
    const limiter = createMemoryRateLimiter();
    const result = await limiter.hit("oauth:token", "ip:1", 120, 60, START);
    const later = new Date(START.getTime() + 59_500);
    const expectedBucketId = new Bun.CryptoHasher("sha256").update("oauth:token").digest("hex").slice(0, 16);
    expect(rateLimitHeaders(result, later)).toEqual({
      "X-RateLimit-Limit": "120",
      "X-RateLimit-Remaining": "119",
      "X-RateLimit-Reset": String(START.getTime() / 1000 + 60),
      "X-RateLimit-Reset-After": "0.5",
      "X-RateLimit-Bucket": expectedBucketId,
    });
  });

  test("a denial is a 429 with Retry-After and Fluxer's body", async () => {
    const limiter = createMemoryRateLimiter();
    await limiter.hit("oauth:authorize", "ip:1", 1, 60, START);
    const now = new Date(START.getTime() + 20_250);
    const denied = await limiter.hit("oauth:authorize", "ip:1", 1, 60, now);
    const response = rateLimitedResponse(denied, now);
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("40");
    expect(response.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(response.headers.get("x-ratelimit-reset-after")).toBe("39.75");
    expect(await response.json()).toEqual({
      code: "RATE_LIMITED",
      message: "You are being rate limited.",
      retry_after: 39.75,
      global: false,
    });
  });

  test("a sign-in lockout answers the same body with Retry-After", async () => {
    const response = retryLaterResponse(839.5);
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("840");
    expect(await response.json()).toEqual({
      code: "RATE_LIMITED",
      message: "You are being rate limited.",
      retry_after: 839.5,
      global: false,
    });
  });

  test("OAuth routes may answer the RFC 6749 envelope instead", async () => {
    const limiter = createMemoryRateLimiter();
    await limiter.hit("oauth:token", "ip:1", 1, 60, START);
    const denied = await limiter.hit("oauth:token", "ip:1", 1, 60, new Date(START.getTime() + 59_900));
    const response = rateLimitedResponse(denied, new Date(START.getTime() + 59_900), { envelope: "oauth" });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await response.json()).toEqual({
      error: "rate_limited",
      error_description: "You are being rate limited.",
      retry_after: 0.1,
    });
  });

  test("limitByIp stops an Elysia route per client IP (behind a trusted proxy) and lets the handler run otherwise", async () => {
    let handled = 0;
    const deps = {
      db: database.db,
      config: testConfig({ RATE_LIMITS: "on", TRUSTED_PROXIES: "127.0.0.0/8, ::1" }),
      clock: createManualClock(START),
      rateLimiter: createMemoryRateLimiter(),
      rateLimits: rateLimitConfig({ "oauth:token": { limit: 3, windowSeconds: 60 } }),
    };
    const app = new Elysia()
      .post(
        "/token",
        () => {
          handled += 1;
          return { ok: true };
        },
        { beforeHandle: limitByIp(deps, "oauth:token", { envelope: "oauth" }) },
      )
      .listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const post = (ip: string) =>
        fetch(`http://127.0.0.1:${app.server?.port}/token`, {
          method: "POST",
          headers: { "x-forwarded-for": ip },
        });
      for (let i = 0; i < 3; i++) expect((await post("203.0.113.7")).status).toBe(200);
      const denied = await post("203.0.113.7");
      expect(denied.status).toBe(429);
      expect(denied.headers.get("x-ratelimit-limit")).toBe("3");
      expect(denied.headers.get("retry-after")).toBe("60");
      expect((await denied.json()).error).toBe("rate_limited");
      expect(handled).toBe(3);
      expect((await post("203.0.113.8")).status).toBe(200);
    } finally {
      await app.stop(true);
    }
  });

  test("without TRUSTED_PROXIES a spoofed X-Forwarded-For buys no fresh budget", async () => {
    const deps = {
      db: database.db,
      config: testConfig({ RATE_LIMITS: "on" }),
      clock: createManualClock(START),
      rateLimiter: createMemoryRateLimiter(),
      rateLimits: rateLimitConfig({ "oauth:token": { limit: 3, windowSeconds: 60 } }),
    };
    const app = new Elysia()
      .post("/token", () => ({ ok: true }), {
        beforeHandle: limitByIp(deps, "oauth:token", { envelope: "oauth" }),
      })
      .listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`http://127.0.0.1:${app.server?.port}/token`, {
          method: "POST",
          headers: { "x-forwarded-for": `198.51.100.${i}` },
        });
        statuses.push(response.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await app.stop(true);
    }
  });

  test("IPv6 clients are keyed by their /64", () => {
    expect(ipKey("2001:db8:1:2:aaaa::1")).toBe(ipKey("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"));
    expect(ipKey("2001:db8:1:2::1")).not.toBe(ipKey("2001:db8:1:3::1"));
    expect(ipKey("::ffff:192.0.2.1")).toBe(ipKey("192.0.2.1"));
    expect(ipKey("192.0.2.1")).not.toBe(ipKey("192.0.2.2"));
  });
});

const testKeys = await loadServerKeys(testConfig());

describe("tRPC middleware", () => {
  const testRouter = router({
    ping: publicProcedure.use(rateLimited("applications:create", byIp)).query(() => "pong"),
  });
  const deps = {
    db: database.db,
    config: testConfig({ RATE_LIMITS: "on" }),
    clock: createManualClock(START),
    nextId: createSnowflakeGenerator(0),
    log: createLogger("silent"),
    metrics: createMetrics(),
    keys: testKeys,
  };
  const limiter = createMemoryRateLimiter();
  const ctx: Context = {
    ...deps,
    rateLimiter: limiter,
    user: null,
    session: null,
    ip: "198.51.100.1",
    deviceCookie: null,
  } as Context;

  test("a call over the limit is TOO_MANY_REQUESTS with apiCode RATE_LIMITED", async () => {
    const caller = createCallerFactory(testRouter)(ctx);
    for (let i = 0; i < 10; i++) expect(await caller.ping()).toBe("pong");
    const error = await caller.ping().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "TOO_MANY_REQUESTS", message: "You are being rate limited." });
    expect((error as { cause: { retryAfterSeconds: number } }).cause.retryAfterSeconds).toBe(3600);

    const response = await fetchRequestHandler({
      endpoint: "/trpc",
      req: new Request("http://localhost/trpc/ping"),
      router: testRouter,
      createContext: () => ctx,
      responseMeta: rateLimitResponseMeta,
    });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("3600");
    const body = await response.json();
    expect(body.error.data).toMatchObject({
      code: "TOO_MANY_REQUESTS",
      apiCode: "RATE_LIMITED",
      httpStatus: 429,
    });
  });
});

test("an unreachable Redis never fails a request: hits are counted in this process and the error reported", async () => {
  const errors: unknown[] = [];
  const limiter = createRedisRateLimiter("redis://127.0.0.1:1", { onError: (error) => errors.push(error) });
  toClose.push(limiter);
  const started = performance.now();
  const bucket = freshBucket();
  const results = [];
  for (let i = 0; i < 3; i++) results.push(await limiter.hit(bucket, "k", 2, 60, START));
  expect(results.map((r) => r.allowed)).toEqual([true, true, false]);
  expect(errors.length).toBeGreaterThanOrEqual(1);
  expect(performance.now() - started).toBeLessThan(15_000);
}, 30_000);
