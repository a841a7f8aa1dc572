import { DEFAULT_RATE_LIMITS } from "../rate-limit/buckets.ts";
import { ipKey, loginKey, userKey } from "../rate-limit/keys.ts";
import type { RateLimitResult } from "../rate-limit/limiter.ts";
import { type RateLimitDeps, rateLimiterFor } from "../rate-limit/limiter-for-deps.ts";

/**
 * Sign-in brute-force protection that strangers cannot turn against a user. Failures count per
 * (account, address), per address (IPv6 per /64) and per account; every limit is in buckets.ts.
 * - An address is refused after `auth:login:account-ip` failures on one account, or
 *   `auth:login:ip` failures on any accounts. A refused attempt adds nothing to the account's
 *   counter: one attacker cannot lock the account for everyone else.
 * - Over `auth:login:account` (many addresses guessing one account), an address that already failed
 *   on the account is refused; an address with no failures of its own is slowed down
 *   (`SLOW_DOWN_MS`), never refused, so the owner can still sign in from a new place.
 * - A device cookie for the account (a browser that signed in before) is counted on its own
 *   (`auth:login:device`) and is exempt from everything else.
 *
 * Each attempt is counted *before* the password hash, with the limiter's atomic hit: counting after
 * the check would let every guess already in flight (a burst of parallel requests) pass the check
 * before the first failure is recorded. Once the password proves right, the attempt is taken back:
 * in effect only failures count. Success clears the (account, address) counter, but never the
 * address's earlier failures on other accounts.
 */
export interface LoginAttempt {
  /** The resolved user's id when the login names one, else the login as typed (unknown accounts too). */
  account: { userId: string } | { login: string };
  ip: string;
  /** The device id of a valid device cookie for this account, else null. */
  deviceId: string | null;
}

export type LoginVerdict = { allowed: true; delayMs: number } | { allowed: false; retryAfterSeconds: number };

/** How long an attempt from a new address waits while its account is under distributed guessing. */
export const SLOW_DOWN_MS = 1000;

const ALLOWED: LoginVerdict = { allowed: true, delayMs: 0 };

function accountKey(attempt: LoginAttempt): string {
  return "userId" in attempt.account ? userKey(attempt.account.userId) : loginKey(attempt.account.login);
}

function keysOf(attempt: LoginAttempt) {
  const account = accountKey(attempt);
  const ip = ipKey(attempt.ip);
  return {
    "auth:login:device": `device:${attempt.deviceId}`,
    "auth:login:ip": ip,
    "auth:login:account-ip": `${account}|${ip}`,
    "auth:login:account": account,
  } as const;
}

type LoginBucket = keyof ReturnType<typeof keysOf>;

function refused(deps: RateLimitDeps, result: RateLimitResult): LoginVerdict {
  deps.metrics?.rateLimited.inc({ bucket: result.bucket });
  return { allowed: false, retryAfterSeconds: result.retryAfterSeconds };
}

/** Counts this attempt; the password may be checked only if it is allowed (after `delayMs`). */
export async function claimLoginAttempt(deps: RateLimitDeps, attempt: LoginAttempt): Promise<LoginVerdict> {
  const limiter = rateLimiterFor(deps);
  const limits = deps.rateLimits ?? DEFAULT_RATE_LIMITS;
  const keys = keysOf(attempt);
  const now = deps.clock.now();
  const hit = (bucket: LoginBucket) =>
    limiter.hit(bucket, keys[bucket], limits[bucket].limit, limits[bucket].windowSeconds, now);

  if (attempt.deviceId !== null) {
    const device = await hit("auth:login:device");
    return device.allowed ? ALLOWED : refused(deps, device);
  }
  // In this order, and each only once the previous allowed: a refused address counts nothing further.
  const ip = await hit("auth:login:ip");
  if (!ip.allowed) return refused(deps, ip);
  const own = await hit("auth:login:account-ip");
  if (!own.allowed) return refused(deps, own);
  const account = await hit("auth:login:account");
  if (account.allowed) return ALLOWED;
  const firstFromThisAddress = own.remaining === own.limit - 1;
  return firstFromThisAddress ? { allowed: true, delayMs: SLOW_DOWN_MS } : refused(deps, account);
}

/** The password was right: this attempt no longer counts, and this address starts afresh on the account. */
export async function releaseLoginAttempt(deps: RateLimitDeps, attempt: LoginAttempt): Promise<void> {
  const limiter = rateLimiterFor(deps);
  const keys = keysOf(attempt);
  if (attempt.deviceId !== null) {
    await limiter.reset("auth:login:device", keys["auth:login:device"]);
    return;
  }
  await Promise.all([
    limiter.refund("auth:login:ip", keys["auth:login:ip"]),
    limiter.reset("auth:login:account-ip", keys["auth:login:account-ip"]),
    limiter.refund("auth:login:account", keys["auth:login:account"]),
  ]);
}
