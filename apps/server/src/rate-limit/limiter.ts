/** What one hit on a (bucket, key) counter decided. Times come from the injected clock. */
export interface RateLimitResult {
  allowed: boolean;
  bucket: string;
  limit: number;
  /** Hits left in the current window after this one (0 when denied). */
  remaining: number;
  /** When the current window ends and the counter starts again. */
  resetAt: Date;
  /** Seconds until resetAt when denied (fractional), 0 when allowed. */
  retryAfterSeconds: number;
}

/**
 * A fixed-window counter store. `hit` counts and decides in one atomic step, so any number of
 * server processes sharing the store never let more than `limit` hits through per window.
 */
export interface RateLimiter {
  readonly kind: "memory" | "database" | "redis" | "disabled";
  hit(bucket: string, key: string, limit: number, windowSeconds: number, now: Date): Promise<RateLimitResult>;
  /** The decision a hit would get, without counting one (sign-in checks before the password hash). */
  peek(
    bucket: string,
    key: string,
    limit: number,
    windowSeconds: number,
    now: Date,
  ): Promise<RateLimitResult>;
  /** Forgets a counter (a successful sign-in clears that account's failures). */
  reset(bucket: string, key: string): Promise<void>;
  /** Takes one hit back (never below zero): an attempt counted up front that turned out fine. */
  refund(bucket: string, key: string): Promise<void>;
  close(): Promise<void>;
}

/** The window a store reports, turned into a decision; shared so every store answers alike. */
export function decide(
  bucket: string,
  count: number,
  windowStart: Date,
  limit: number,
  windowSeconds: number,
  now: Date,
): RateLimitResult {
  const resetAt = new Date(windowStart.getTime() + windowSeconds * 1000);
  const allowed = count <= limit;
  return {
    allowed,
    bucket,
    limit,
    remaining: Math.max(0, limit - count),
    resetAt,
    retryAfterSeconds: allowed ? 0 : Math.max(0, (resetAt.getTime() - now.getTime()) / 1000),
  };
}

/** A window that started at `windowStart` is over at `now`. */
export function windowExpired(windowStart: Date, windowSeconds: number, now: Date): boolean {
  return now.getTime() >= windowStart.getTime() + windowSeconds * 1000;
}

/** RATE_LIMITS=off (benchmarks): every hit is allowed and nothing is stored. */
export const disabledRateLimiter: RateLimiter = {
  kind: "disabled",
  hit: async (bucket, _key, limit, windowSeconds, now) => decide(bucket, 0, now, limit, windowSeconds, now),
  peek: async (bucket, _key, limit, windowSeconds, now) => decide(bucket, 0, now, limit, windowSeconds, now),
  reset: async () => {},
  refund: async () => {},
  close: async () => {},
};
