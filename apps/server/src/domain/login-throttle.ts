import { DEFAULT_RATE_LIMITS } from "../rate-limit/buckets.ts";
import { ipKey, loginKey } from "../rate-limit/keys.ts";
import type { RateLimitResult } from "../rate-limit/limiter.ts";
import { RateLimitedError } from "../rate-limit/rate-limited-error.ts";
import { type RateLimitDeps, rateLimiterFor } from "../rate-limit/rate-limiter.ts";

/**
 * Sign-in brute-force protection. Only failures count: after `auth:login:account` failures for one
 * login, or `auth:login:ip` failures from one address, within the window, further attempts are
 * refused — checked before the password hash, so a guesser cannot burn argon2 time either.
 * Success clears the account's failures but never the IP's, or an attacker holding one account
 * could sign in now and then to keep guessing others from the same address.
 */
export interface LoginAttempt {
  /** Username or email as typed. */
  login: string;
  ip: string;
}

export type LoginVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

function counters(deps: RateLimitDeps, attempt: LoginAttempt) {
  const limits = deps.rateLimits ?? DEFAULT_RATE_LIMITS;
  return [
    { bucket: "auth:login:account", key: loginKey(attempt.login), ...limits["auth:login:account"] },
    { bucket: "auth:login:ip", key: ipKey(attempt.ip), ...limits["auth:login:ip"] },
  ] as const;
}

function verdict(results: RateLimitResult[]): LoginVerdict {
  const denied = results.filter((result) => !result.allowed);
  if (denied.length === 0) return { allowed: true };
  return { allowed: false, retryAfterSeconds: Math.max(...denied.map((result) => result.retryAfterSeconds)) };
}

/** Whether this attempt may proceed to the password check; counts nothing. */
export async function checkLoginAllowed(deps: RateLimitDeps, attempt: LoginAttempt): Promise<LoginVerdict> {
  const limiter = rateLimiterFor(deps);
  const now = deps.clock.now();
  const results = await Promise.all(
    counters(deps, attempt).map((c) => limiter.peek(c.bucket, c.key, c.limit, c.windowSeconds, now)),
  );
  return verdict(results);
}

/** checkLoginAllowed for procedures: throws RATE_LIMITED (429) with retryAfterSeconds. */
export async function assertLoginAllowed(deps: RateLimitDeps, attempt: LoginAttempt): Promise<void> {
  const result = await checkLoginAllowed(deps, attempt);
  if (!result.allowed) throw new RateLimitedError(result.retryAfterSeconds);
}

/** Counts a wrong password or unknown login against both the account and the IP. */
export async function recordLoginFailure(deps: RateLimitDeps, attempt: LoginAttempt): Promise<void> {
  const limiter = rateLimiterFor(deps);
  const now = deps.clock.now();
  await Promise.all(
    counters(deps, attempt).map((c) => limiter.hit(c.bucket, c.key, c.limit, c.windowSeconds, now)),
  );
}

/** A correct password clears that account's failures; the IP's failures stand. */
export async function recordLoginSuccess(
  deps: RateLimitDeps,
  attempt: Pick<LoginAttempt, "login">,
): Promise<void> {
  await rateLimiterFor(deps).reset("auth:login:account", loginKey(attempt.login));
}
