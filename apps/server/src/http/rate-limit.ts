import type { Server } from "bun";
import type { Config } from "../config.ts";
import type { BucketName } from "../rate-limit/buckets.ts";
import { ipKey } from "../rate-limit/keys.ts";
import type { RateLimitResult } from "../rate-limit/limiter.ts";
import { hitBucket, type RateLimitDeps } from "../rate-limit/limiter-for-deps.ts";
import { clientIp } from "./client-ip.ts";
import { apiErrorResponse } from "./responses.ts";

const bucketIds = new Map<string, string>();

/** Fluxer names the bucket by the first 16 hex characters of its SHA-256, not its plain name. */
function bucketId(bucket: string): string {
  // Bucket names are the fixed set in rate-limit/buckets.ts: the map stays small.
  let id = bucketIds.get(bucket);
  if (id === undefined) {
    id = new Bun.CryptoHasher("sha256").update(bucket).digest("hex").slice(0, 16);
    bucketIds.set(bucket, id);
  }
  return id;
}

/** `X-RateLimit-*` headers describing a bucket's state after a hit. */
export function rateLimitHeaders(result: RateLimitResult, now: Date): Record<string, string> {
  const resetAfter = Math.max(0, (result.resetAt.getTime() - now.getTime()) / 1000);
  return {
    "X-RateLimit-Limit": String(result.limit),
    "X-RateLimit-Remaining": String(result.remaining),
    "X-RateLimit-Reset": String(Math.ceil(result.resetAt.getTime() / 1000)),
    "X-RateLimit-Reset-After": String(Math.round(resetAfter * 1000) / 1000),
    "X-RateLimit-Bucket": bucketId(result.bucket),
  };
}

export type RateLimitEnvelope = "api" | "oauth";

/**
 * The 429 for a denied hit. `api` is Fluxer's body ({code: RATE_LIMITED, retry_after, global});
 * `oauth` keeps RFC 6749's `{error, error_description}` for the token, revoke and introspect routes.
 */
export function rateLimitedResponse(
  result: RateLimitResult,
  now: Date,
  options: { envelope?: RateLimitEnvelope } = {},
): Response {
  const retryAfter = Math.round(result.retryAfterSeconds * 1000) / 1000;
  const headers = {
    ...rateLimitHeaders(result, now),
    // Retry-After is whole seconds and at least 1, so a client never retries inside the window.
    "Retry-After": String(Math.max(1, Math.ceil(result.retryAfterSeconds))),
    "Cache-Control": "no-store",
  };
  if (options.envelope === "oauth")
    return Response.json(
      { error: "rate_limited", error_description: "You are being rate limited.", retry_after: retryAfter },
      { status: 429, headers },
    );
  return apiErrorResponse("RATE_LIMITED", "You are being rate limited.", {
    headers,
    extra: { retry_after: retryAfter, global: false },
  });
}

/**
 * A 429 for a refusal that has no bucket state to describe, e.g. a sign-in throttle verdict or a
 * RateLimitedError caught at the edge: Fluxer's body and Retry-After only.
 */
export function retryLaterResponse(retryAfterSeconds: number): Response {
  return apiErrorResponse("RATE_LIMITED", "You are being rate limited.", {
    headers: {
      "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))),
      "Cache-Control": "no-store",
    },
    extra: { retry_after: Math.round(retryAfterSeconds * 1000) / 1000, global: false },
  });
}

export interface RateLimitCheck {
  result: RateLimitResult;
  /** Headers for the eventual response (Fluxer sends them on success only to bots; optional). */
  headers: Record<string, string>;
  /** The 429 to return as is, or null when the request may proceed. */
  response: Response | null;
}

/** Counts one request; `if (check.response) return check.response;` in the handler. */
async function checkRateLimit(
  deps: RateLimitDeps,
  bucket: BucketName,
  key: string,
  options: { envelope?: RateLimitEnvelope } = {},
): Promise<RateLimitCheck> {
  const result = await hitBucket(deps, bucket, key);
  const now = deps.clock.now();
  return {
    result,
    headers: rateLimitHeaders(result, now),
    response: result.allowed ? null : rateLimitedResponse(result, now, options),
  };
}

/**
 * An Elysia `beforeHandle` hook limiting a route per client IP:
 * `.post("/token", handler, { beforeHandle: limitByIp(deps, "oauth:token", { envelope: "oauth" }) })`.
 * Returning the 429 short-circuits the handler; an allowed request carries the bucket's
 * `X-RateLimit-*` headers on its response too, as Fluxer's do, so clients can pace themselves.
 */
export function limitByIp(
  deps: RateLimitDeps & { config: { trustedProxies: Config["trustedProxies"] } },
  bucket: BucketName,
  options: { envelope?: RateLimitEnvelope } = {},
) {
  // RATE_LIMITS=off: no hook at all, so benchmarks measure the route, not the limiter.
  if (!deps.config.rateLimits && !deps.rateLimiter) return () => undefined;
  return async ({
    request,
    server,
    set,
  }: {
    request: Request;
    server: Server<unknown> | null;
    set: { headers: Record<string, string | number> };
  }) => {
    const ip = clientIp(request, server, deps.config);
    const check = await checkRateLimit(deps, bucket, ipKey(ip), options);
    if (check.response) return check.response;
    Object.assign(set.headers, check.headers);
    return undefined;
  };
}
