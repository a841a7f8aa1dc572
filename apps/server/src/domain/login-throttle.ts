import { DEFAULT_RATE_LIMITS } from "../rate-limit/buckets.ts";
import { ipKey, loginKey, userKey } from "../rate-limit/keys.ts";
import type { RateLimitResult } from "../rate-limit/limiter.ts";
import { type RateLimitDeps, rateLimiterFor } from "../rate-limit/limiter-for-deps.ts";

/**
 * Sign-in brute-force protection: at most `auth:login:account` failed attempts per account and
 * `auth:login:ip` per address within the window.
 *
 * Each attempt is counted *before* the password hash, with the limiter's atomic hit: counting after
 * the check would let every guess already in flight (a burst of parallel requests) pass the check
 * before the first failure is recorded. The attempt is taken back once the password proves right, so
 * in effect only failures count: success clears the account's counter and refunds the one IP hit, but
 * never the IP's earlier failures (else an attacker holding one account could sign in now and then to
 * keep guessing others from the same address).
 */
export interface LoginAttempt {
  /** The resolved user's id when the login names one, else the login as typed (unknown accounts lock too). */
  account: { userId: string } | { login: string };
  ip: string;
}

export type LoginVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

function accountKey(attempt: LoginAttempt): string {
  return "userId" in attempt.account ? userKey(attempt.account.userId) : loginKey(attempt.account.login);
}

function counters(deps: RateLimitDeps, attempt: LoginAttempt) {
  const limits = deps.rateLimits ?? DEFAULT_RATE_LIMITS;
  return [
    { bucket: "auth:login:account", key: accountKey(attempt), ...limits["auth:login:account"] },
    { bucket: "auth:login:ip", key: ipKey(attempt.ip), ...limits["auth:login:ip"] },
  ] as const;
}

function verdict(results: RateLimitResult[]): LoginVerdict {
  const denied = results.filter((result) => !result.allowed);
  if (denied.length === 0) return { allowed: true };
  return { allowed: false, retryAfterSeconds: Math.max(...denied.map((result) => result.retryAfterSeconds)) };
}

/** Counts this attempt against account and IP; the password may be checked only if it is allowed. */
export async function claimLoginAttempt(deps: RateLimitDeps, attempt: LoginAttempt): Promise<LoginVerdict> {
  const limiter = rateLimiterFor(deps);
  const now = deps.clock.now();
  const results = await Promise.all(
    counters(deps, attempt).map((c) => limiter.hit(c.bucket, c.key, c.limit, c.windowSeconds, now)),
  );
  return verdict(results);
}

/** The password was right: the account starts afresh and this attempt no longer counts for the IP. */
export async function releaseLoginAttempt(deps: RateLimitDeps, attempt: LoginAttempt): Promise<void> {
  const limiter = rateLimiterFor(deps);
  await Promise.all([
    limiter.reset("auth:login:account", accountKey(attempt)),
    limiter.refund("auth:login:ip", ipKey(attempt.ip)),
  ]);
}
