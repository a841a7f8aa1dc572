import { TRPCError } from "@trpc/server";
import type { BucketName } from "../rate-limit/buckets.ts";
import { ipKey, userKey } from "../rate-limit/keys.ts";
import { RateLimitedError } from "../rate-limit/rate-limited-error.ts";
import { hitBucket } from "../rate-limit/rate-limiter.ts";
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
