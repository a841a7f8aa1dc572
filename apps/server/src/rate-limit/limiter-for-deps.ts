import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/database.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { type BucketName, DEFAULT_RATE_LIMITS, type RateLimitConfig } from "./buckets.ts";
import { createDatabaseRateLimiter } from "./database-store.ts";
import { disabledRateLimiter, type RateLimiter, type RateLimitResult } from "./limiter.ts";
import { createMemoryRateLimiter } from "./memory-store.ts";
import { createRedisRateLimiter } from "./redis-store.ts";

/**
 * Where counters live: Redis when REDIS_URL is set, else the PostgreSQL database every process
 * shares, else (embedded PGlite, one process) memory. RATE_LIMITS=off allows everything.
 */
export function createRateLimiter(
  config: Pick<Config, "rateLimits" | "redisUrl" | "databaseUrl">,
  db: Db,
  log?: Logger,
): RateLimiter {
  if (!config.rateLimits) return disabledRateLimiter;
  if (config.redisUrl) {
    let lastLogged = 0;
    return createRedisRateLimiter(config.redisUrl, {
      onError: (error) => {
        // At most one line per 10 s: an outage must not flood the log.
        if (Date.now() - lastLogged < 10_000) return;
        lastLogged = Date.now();
        log?.error("rate limiter: Redis unavailable, counting in this process", { error });
      },
    });
  }
  if (config.databaseUrl) return createDatabaseRateLimiter(db);
  return createMemoryRateLimiter();
}

/** What the rate-limit helpers need; `rateLimiter`/`rateLimits` may be added to Deps to override. */
export interface RateLimitDeps {
  db: Db;
  config: Pick<Config, "rateLimits" | "rateLimitMultiplier" | "redisUrl" | "databaseUrl">;
  clock: Clock;
  rateLimiter?: RateLimiter;
  rateLimits?: RateLimitConfig;
  log?: Logger;
  /** Refusals are counted per bucket when present (Deps always has it). */
  metrics?: Metrics;
}

// One limiter per (database handle, config), i.e. per app instance, so routes need no extra
// wiring in Deps; weak keys let a closed test app's limiter go with it.
const limiters = new WeakMap<Db, WeakMap<RateLimitDeps["config"], RateLimiter>>();

export function rateLimiterFor(deps: RateLimitDeps): RateLimiter {
  if (deps.rateLimiter) return deps.rateLimiter;
  let byConfig = limiters.get(deps.db);
  if (!byConfig) {
    byConfig = new WeakMap();
    limiters.set(deps.db, byConfig);
  }
  let limiter = byConfig.get(deps.config);
  if (!limiter) {
    limiter = createRateLimiter(deps.config, deps.db, deps.log);
    byConfig.set(deps.config, limiter);
  }
  return limiter;
}

/** Counts one request against a named bucket with its configured limit. */
export async function hitBucket(
  deps: RateLimitDeps,
  bucket: BucketName,
  key: string,
): Promise<RateLimitResult> {
  const { limit, windowSeconds } = (deps.rateLimits ?? DEFAULT_RATE_LIMITS)[bucket];
  const scaled = limit * deps.config.rateLimitMultiplier;
  const result = await rateLimiterFor(deps).hit(bucket, key, scaled, windowSeconds, deps.clock.now());
  if (!result.allowed) deps.metrics?.rateLimited.inc({ bucket });
  return result;
}
