/**
 * Rate-limit buckets (Fluxer's V2/V3 configuration, reference §10) plus sign-in brute-force
 * protection, which Fluxer leaves to its global bucket. Counters are fixed windows per (bucket, key).
 */
export interface BucketLimit {
  readonly limit: number;
  readonly windowSeconds: number;
}

const MINUTE = 60;
const HOUR = 3600;

export const DEFAULT_RATE_LIMITS = {
  /** GET /oauth2/authorize and the consent POST, per IP. */
  "oauth:authorize": { limit: 60, windowSeconds: MINUTE },
  /** POST /oauth2/token, per IP (client-authenticated routes resolve no user). */
  "oauth:token": { limit: 120, windowSeconds: MINUTE },
  /** userinfo, @me, introspect, revoke, authorization revocation — one shared bucket, per IP. */
  "oauth:introspect": { limit: 120, windowSeconds: MINUTE },
  /** Listing and reading applications and authorizations, per user. */
  "applications:list": { limit: 60, windowSeconds: MINUTE },
  "applications:create": { limit: 10, windowSeconds: HOUR },
  "applications:update": { limit: 30, windowSeconds: MINUTE },
  /** Client secret and bot token resets share one allowance per user, as in Fluxer. */
  "applications:reset": { limit: 10, windowSeconds: HOUR },
  "applications:delete": { limit: 10, windowSeconds: HOUR },
  /**
   * Sign-in failures (domain/login-throttle.ts). Per account *and* address: one address guessing one
   * account's password is refused after a few tries, without locking the account for anyone else.
   */
  "auth:login:account-ip": { limit: 10, windowSeconds: 15 * MINUTE },
  /** Failed sign-ins per address (IPv6 per /64), whatever the account: higher, since addresses are shared. */
  "auth:login:ip": { limit: 30, windowSeconds: 15 * MINUTE },
  /**
   * Failed sign-ins per account from all addresses together (distributed guessing). Over it, an
   * address with failures of its own on the account is refused; a new one is only slowed down.
   */
  "auth:login:account": { limit: 50, windowSeconds: 15 * MINUTE },
  /** Failed sign-ins per device cookie: a browser that signed in before is throttled on its own. */
  "auth:login:device": { limit: 10, windowSeconds: 15 * MINUTE },
  /** Registrations per IP: account creation costs an argon2 hash. */
  "auth:register": { limit: 10, windowSeconds: HOUR },
} as const satisfies Record<string, BucketLimit>;

export type BucketName = keyof typeof DEFAULT_RATE_LIMITS;
export type RateLimitConfig = Readonly<Record<BucketName, BucketLimit>>;

/** The defaults with some buckets overridden (tests, benchmarks, operators). */
export function rateLimitConfig(overrides: Partial<Record<BucketName, BucketLimit>> = {}): RateLimitConfig {
  return Object.freeze({ ...DEFAULT_RATE_LIMITS, ...overrides });
}

/** The longest window in the table: rate-limit rows older than this are stale and may be deleted. */
export const LONGEST_WINDOW_SECONDS = Math.max(
  ...Object.values(DEFAULT_RATE_LIMITS).map((bucket) => bucket.windowSeconds),
);
