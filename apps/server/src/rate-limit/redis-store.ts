import { createHash } from "node:crypto";
import { RedisClient } from "bun";
import { naturalBatches } from "../batching.ts";
import { counterLeases } from "./counter-leases.ts";
import { decide, type RateLimiter, windowExpired } from "./limiter.ts";
import { createMemoryRateLimiter } from "./memory-store.ts";

/**
 * One hash per (bucket, key): `start` (ms) and `count`. The script restarts an expired window and
 * counts in one atomic step. `now` comes from the caller's clock (not Redis TIME) so every store
 * behaves alike and tests can move time; PEXPIRE only garbage-collects keys nobody hits any more.
 * It counts a batch (KEYS, with ARGV holding each one's now, window, wanted run and limit) in order,
 * so hits on one key in one batch are counted one after the other as if sent apart. A run of more
 * than one value (./counter-leases.ts) is granted only if all of it fits under the limit.
 */
const HIT_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local now = tonumber(ARGV[4 * i - 3])
  local window = tonumber(ARGV[4 * i - 2])
  local want = tonumber(ARGV[4 * i - 1])
  local limit = tonumber(ARGV[4 * i])
  local start = tonumber(redis.call('HGET', key, 'start'))
  local count = 0
  if start == nil or now >= start + window then
    start = now
    redis.call('HSET', key, 'start', ARGV[4 * i - 3], 'count', 0)
    redis.call('PEXPIRE', key, window)
  else
    count = tonumber(redis.call('HGET', key, 'count'))
  end
  local granted = want
  if count + want > limit then granted = 1 end
  out[3 * i - 2] = redis.call('HINCRBY', key, 'count', granted)
  out[3 * i - 1] = tostring(start)
  out[3 * i] = granted
end
return out
`;

/** Decrements an existing counter, never below zero, atomically. */
const REFUND_SCRIPT = `
local count = tonumber(redis.call('HGET', KEYS[1], 'count'))
if count ~= nil and count > 0 then redis.call('HINCRBY', KEYS[1], 'count', -1) end
return 0
`;

/**
 * Runs a script by its SHA-1 (EVALSHA): Redis keeps loaded scripts, so each hit sends 40 bytes instead
 * of the script. The first call after a Redis restart (NOSCRIPT) sends the script itself, which loads it.
 */
function script(source: string) {
  const sha = createHash("sha1").update(source).digest("hex");
  return async (client: RedisClient, args: string[]): Promise<unknown> => {
    try {
      return await client.send("EVALSHA", [sha, ...args]);
    } catch (error) {
      if (!String((error as Error)?.message ?? error).includes("NOSCRIPT")) throw error;
      return client.send("EVAL", [source, ...args]);
    }
  };
}
const hitScript = script(HIT_SCRIPT);
const refundScript = script(REFUND_SCRIPT);

function redisKey(bucket: string, key: string): string {
  return `fluxer:rl:${bucket}:${key}`;
}

export interface RedisRateLimiterOptions {
  /** Called when Redis fails; the call is then counted in this process instead. */
  onError?: (error: unknown) => void;
}

/**
 * Redis is an optimisation for sharing counters, not a dependency requests may fail on: if a command
 * fails, the hit is counted in a per-process memory limiter (protection goes on, only unshared) and a
 * fresh client is made for the next call, since Bun's client gives up for good once its retries are spent.
 */
export function createRedisRateLimiter(url: string, options: RedisRateLimiterOptions = {}): RateLimiter {
  const connect = () =>
    new RedisClient(url, { connectionTimeout: 2000, maxRetries: 3, enableOfflineQueue: false });
  let client = connect();
  const fallback = createMemoryRateLimiter();
  // Hits made while others are on their way to Redis go together in one script call (../batching.ts):
  // one round trip and one script run for many requests. One call at a time: Redis runs scripts one
  // after another anyway, so a second call in flight would only wait there, while waiting here it
  // grows the next batch. A round trip costs the server ~25-60 µs of CPU, as much as a cheap request,
  // so a busy counter also takes runs of values (./counter-leases.ts) and most hits need none.
  const lane = {};

  /** The client, connected: without the offline queue a command fails fast while disconnected. */
  async function connected(): Promise<RedisClient> {
    const current = client;
    if (!current.connected) await current.connect();
    return current;
  }

  /** A failed client is replaced once, by whichever call noticed first. */
  function replace(broken: RedisClient): void {
    if (client !== broken) return;
    client = connect();
    try {
      broken.close();
    } catch {
      // Already closed: nothing to release.
    }
  }

  const countInBatch = naturalBatches({
    maxInFlight: 1,
    run: async (_lane: object, hits: { key: string; args: string[] }[]) => {
      const used = await connected().catch((error) => {
        replace(client);
        throw error;
      });
      let reply: (number | string)[];
      try {
        reply = (await hitScript(used, [
          String(hits.length),
          ...hits.map((hit) => hit.key),
          ...hits.flatMap((hit) => hit.args),
        ])) as (number | string)[];
      } catch (error) {
        replace(used);
        throw error;
      }
      return hits.map((_, position) => ({
        count: Number(reply[3 * position]),
        windowStart: Number(reply[3 * position + 1]),
        granted: Number(reply[3 * position + 2]),
        position,
      }));
    },
  });
  // A busy counter with a high limit takes runs of values and spends them here (./counter-leases.ts).
  const leases = counterLeases(async (key, nowMs, windowMs, want, limit) => {
    const counted = await countInBatch(lane, {
      key,
      args: [String(nowMs), String(windowMs), String(want), String(limit)],
    });
    if (!counted) throw new Error("Redis returned no count for a rate-limit hit");
    return counted;
  });

  async function guarded<T>(
    viaRedis: (client: RedisClient) => Promise<T>,
    inMemory: () => Promise<T>,
  ): Promise<T> {
    let used: RedisClient | null = null;
    try {
      used = await connected();
      return await viaRedis(used);
    } catch (error) {
      options.onError?.(error);
      replace(used ?? client);
      return inMemory();
    }
  }

  return {
    kind: "redis",
    hit(bucket, key, limit, windowSeconds, now) {
      const windowMs = Math.max(1, Math.round(windowSeconds * 1000));
      const counted = leases.hit(redisKey(bucket, key), limit, windowMs, now.getTime());
      // A value from this process's run is answered without a round trip, or even a promise to wait on.
      if (!(counted instanceof Promise))
        return Promise.resolve(
          decide(bucket, counted.count, new Date(counted.windowStart), limit, windowSeconds, now),
        );
      return counted.then(
        (hit) => decide(bucket, hit.count, new Date(hit.windowStart), limit, windowSeconds, now),
        (error) => {
          options.onError?.(error);
          return fallback.hit(bucket, key, limit, windowSeconds, now);
        },
      );
    },
    peek(bucket, key, limit, windowSeconds, now) {
      return guarded(
        async (redis) => {
          const [start, count] = (await redis.send("HMGET", [redisKey(bucket, key), "start", "count"])) as [
            string | null,
            string | null,
          ];
          const windowStart = start === null ? null : new Date(Number(start));
          if (!windowStart || count === null || windowExpired(windowStart, windowSeconds, now))
            return decide(bucket, 1, now, limit, windowSeconds, now);
          return decide(bucket, Number(count) + 1, windowStart, limit, windowSeconds, now);
        },
        () => fallback.peek(bucket, key, limit, windowSeconds, now),
      );
    },
    reset(bucket, key) {
      return guarded(
        async (redis) => {
          leases.forget(redisKey(bucket, key));
          await redis.del(redisKey(bucket, key));
        },
        () => fallback.reset(bucket, key),
      );
    },
    refund(bucket, key) {
      return guarded(
        async (redis) => {
          await refundScript(redis, ["1", redisKey(bucket, key)]);
        },
        () => fallback.refund(bucket, key),
      );
    },
    async close() {
      client.close();
    },
  };
}
