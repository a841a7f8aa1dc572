import { expect, test } from "bun:test";
import { createManualClock } from "../clock.ts";
import { loadConfig } from "../config.ts";
import type { Db } from "../db/database.ts";
import { rateLimitConfig } from "./buckets.ts";
import { hitBucket } from "./limiter-for-deps.ts";
import { createMemoryRateLimiter } from "./memory-store.ts";

test("RATE_LIMIT_MULTIPLIER scales every bucket's limit; the default is 1; 0 is refused", async () => {
  expect(loadConfig({}).rateLimitMultiplier).toBe(1);
  expect(() => loadConfig({ RATE_LIMIT_MULTIPLIER: "0" })).toThrow(/RATE_LIMIT_MULTIPLIER/);
  const deps = {
    db: {} as Db,
    config: loadConfig({ RATE_LIMIT_MULTIPLIER: "3" }),
    clock: createManualClock(),
    rateLimiter: createMemoryRateLimiter(),
    rateLimits: rateLimitConfig({ "oauth:token": { limit: 2, windowSeconds: 60 } }),
  };
  const verdicts = [];
  for (let i = 0; i < 7; i++) verdicts.push((await hitBucket(deps, "oauth:token", "ip:1")).allowed);
  expect(verdicts).toEqual([true, true, true, true, true, true, false]);
});
