import { decide, type RateLimiter, windowExpired } from "./limiter.ts";

interface Counter {
  windowStart: Date;
  windowSeconds: number;
  count: number;
}

/** Sweep expired counters every this many hits, so a flood of distinct IPs cannot grow the map forever. */
const SWEEP_EVERY = 10_000;

/** Counters in this process only: right for the embedded single-process server. */
export function createMemoryRateLimiter(): RateLimiter {
  const counters = new Map<string, Counter>();
  let hitsSinceSweep = 0;

  function sweep(now: Date): void {
    for (const [id, counter] of counters)
      if (windowExpired(counter.windowStart, counter.windowSeconds, now)) counters.delete(id);
  }

  return {
    kind: "memory",
    async hit(bucket, key, limit, windowSeconds, now) {
      if (++hitsSinceSweep >= SWEEP_EVERY) {
        hitsSinceSweep = 0;
        sweep(now);
      }
      const id = `${bucket}\u0000${key}`;
      let counter = counters.get(id);
      if (!counter || windowExpired(counter.windowStart, windowSeconds, now)) {
        counter = { windowStart: now, windowSeconds, count: 0 };
        counters.set(id, counter);
      }
      counter.count += 1;
      return decide(bucket, counter.count, counter.windowStart, limit, windowSeconds, now);
    },
    async peek(bucket, key, limit, windowSeconds, now) {
      const counter = counters.get(`${bucket}\u0000${key}`);
      if (!counter || windowExpired(counter.windowStart, windowSeconds, now))
        return decide(bucket, 1, now, limit, windowSeconds, now);
      return decide(bucket, counter.count + 1, counter.windowStart, limit, windowSeconds, now);
    },
    async reset(bucket, key) {
      counters.delete(`${bucket}\u0000${key}`);
    },
    async refund(bucket, key) {
      const counter = counters.get(`${bucket}\u0000${key}`);
      if (counter && counter.count > 0) counter.count -= 1;
    },
    async close() {
      counters.clear();
    },
  };
}
