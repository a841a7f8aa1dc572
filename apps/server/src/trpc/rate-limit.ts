import { TRPCError } from "@trpc/server";
import type { BucketName } from "../rate-limit/buckets.ts";
import { ipKey, userKey } from "../rate-limit/keys.ts";
import { hitBucket } from "../rate-limit/limiter-for-deps.ts";
import { RateLimitedError } from "../rate-limit/rate-limited-error.ts";
import type { Context } from "./context.ts";

/** Per signed-in user when there is one (Fluxer's identity), otherwise per client IP. */
export const byUser = (ctx: Context): string => (ctx.user ? userKey(ctx.user.id) : ipKey(ctx.ip));
export const byIp = (ctx: Context): string => ipKey(ctx.ip);

/**
 * A procedure middleware counting each call against `bucket`:
 * `protectedProcedure.use(rateLimited("applications:create", byUser))`.
 * A denial is TOO_MANY_REQUESTS, which the error formatter reports as apiCode RATE_LIMITED;
 * the cause carries retryAfterSeconds.
 */
export function rateLimited(bucket: BucketName, keyOf: (ctx: Context) => string = byUser) {
  return async <T>({ ctx, next }: { ctx: Context; next: () => Promise<T> }): Promise<T> => {
    const result = await hitBucket(ctx, bucket, keyOf(ctx));
    if (!result.allowed) {
      const cause = new RateLimitedError(result.retryAfterSeconds);
      throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: cause.message, cause });
    }
    return next();
  };
}

/**
 * `responseMeta` for the fetch adapter: a rate-limited call also gets `Retry-After` (whole seconds,
 * at least 1), as REST 429s do. Wiring: `fetchRequestHandler({ ..., responseMeta: rateLimitResponseMeta })`.
 */
export function rateLimitResponseMeta({ errors }: { errors: readonly unknown[] }): {
  headers?: Record<string, string>;
} {
  const waits = errors.flatMap((error) => {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof RateLimitedError ? [cause.retryAfterSeconds] : [];
  });
  if (waits.length === 0) return {};
  return { headers: { "Retry-After": String(Math.max(1, Math.ceil(Math.max(...waits)))) } };
}
