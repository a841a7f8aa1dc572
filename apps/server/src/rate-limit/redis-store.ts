import { RedisClient } from "bun";
import { decide, type RateLimiter, windowExpired } from "./limiter.ts";

/**
 * One hash per (bucket, key): `start` (ms) and `count`. The script restarts an expired window and
 * counts in one atomic step. `now` comes from the caller's clock (not Redis TIME) so every store
 * behaves alike and tests can move time; PEXPIRE only garbage-collects keys nobody hits any more.
 */
const HIT_SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local start = tonumber(redis.call('HGET', KEYS[1], 'start'))
if start == nil or now >= start + window then
  redis.call('HSET', KEYS[1], 'start', ARGV[1], 'count', 1)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, ARGV[1]}
end
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
return {count, tostring(start)}
`;

/** Decrements an existing counter, never below zero, atomically. */
const REFUND_SCRIPT = `
local count = tonumber(redis.call('HGET', KEYS[1], 'count'))
if count ~= nil and count > 0 then redis.call('HINCRBY', KEYS[1], 'count', -1) end
return 0
`;

function redisKey(bucket: string, key: string): string {
  return `fluxer:rl:${bucket}:${key}`;
}

export function createRedisRateLimiter(url: string): RateLimiter {
  const client = new RedisClient(url);
  return {
    kind: "redis",
    async hit(bucket, key, limit, windowSeconds, now) {
      const windowMs = Math.max(1, Math.round(windowSeconds * 1000));
      const reply = (await client.send("EVAL", [
        HIT_SCRIPT,
        "1",
        redisKey(bucket, key),
        String(now.getTime()),
        String(windowMs),
      ])) as [number, string];
      return decide(bucket, Number(reply[0]), new Date(Number(reply[1])), limit, windowSeconds, now);
    },
    async peek(bucket, key, limit, windowSeconds, now) {
      const [start, count] = (await client.send("HMGET", [redisKey(bucket, key), "start", "count"])) as [
        string | null,
        string | null,
      ];
      const windowStart = start === null ? null : new Date(Number(start));
      if (!windowStart || count === null || windowExpired(windowStart, windowSeconds, now))
        return decide(bucket, 1, now, limit, windowSeconds, now);
      return decide(bucket, Number(count) + 1, windowStart, limit, windowSeconds, now);
    },
    async reset(bucket, key) {
      await client.del(redisKey(bucket, key));
    },
    async refund(bucket, key) {
      await client.send("EVAL", [REFUND_SCRIPT, "1", redisKey(bucket, key)]);
    },
    async close() {
      client.close();
    },
  };
}
