import { z } from "zod";
import { type Cidr, parseCidr } from "./ip-address.ts";

const booleanFlag = z
  .enum(["true", "false", "1", "0", "on", "off"])
  .transform((value) => value === "true" || value === "1" || value === "on");

/** Decimal digits only: `z.coerce` would read " " as 0 and "0x10" as 16. */
const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** Ten years: beyond that a timestamp computed from it leaves the range Date and PostgreSQL share. */
const MAX_SECONDS = 10 * 365 * 24 * 3600;
const seconds = (min = 0) => integer(min, MAX_SECONDS);

/** RFC 8414 §2: the issuer is an https (or, for development, http) URL without query or fragment. */
const issuer = z
  .url({ protocol: /^https?$/ })
  .refine((value) => !value.includes("?") && !value.includes("#"), "must not have a query or fragment");

/**
 * `CORS_ORIGINS`: comma-separated origins (`scheme://host[:port]`, nothing after) allowed to call
 * `/trpc` from a browser. Exact origins only: no wildcard, no path.
 */
const corsOrigins = z.string().transform((value, ctx) => {
  const origins: string[] = [];
  for (const entry of value.split(",").map((item) => item.trim())) {
    if (entry === "") continue;
    let origin: string | null = null;
    try {
      const url = new URL(entry);
      if ((url.protocol === "http:" || url.protocol === "https:") && entry.replace(/\/$/, "") === url.origin)
        origin = url.origin;
    } catch {}
    if (origin === null) {
      ctx.addIssue({ code: "custom", message: `"${entry}" is not an origin like https://app.example.com` });
      return z.NEVER;
    }
    if (!origins.includes(origin)) origins.push(origin);
  }
  return origins;
});

/** `TRUSTED_PROXIES`: comma-separated CIDR ranges (or single addresses), IPv4 and IPv6. */
const trustedProxies = z.string().transform((value, ctx) => {
  const ranges: Cidr[] = [];
  for (const entry of value.split(",").map((item) => item.trim())) {
    if (entry === "") continue;
    const cidr = parseCidr(entry);
    if (cidr === null) {
      ctx.addIssue({ code: "custom", message: `"${entry}" is not an address or CIDR range like 10.0.0.0/8` });
      return z.NEVER;
    }
    ranges.push(cidr);
  }
  return ranges;
});

/** A server secret (SPEC §16): base64url, at least 32 bytes once decoded. */
const secretKey = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]+={0,2}$/, "must be base64url")
  .refine(
    (value) => Math.floor((value.replace(/=+$/, "").length * 3) / 4) >= 32,
    "must be at least 32 bytes",
  );

const schema = z.object({
  PORT: integer(0, 65535).default(8080),
  METRICS_PORT: integer(0, 65535).optional(),
  HOST: z.string().trim().min(1).default("0.0.0.0"),
  REUSE_PORT: booleanFlag.default(false),
  ISSUER: issuer.optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  // 1023 is the admin CLI's (admin/command.ts), so its ids never collide with a server's.
  WORKER_ID: integer(0, 1022).default(0),
  ACCESS_TOKEN_TTL_SECONDS: seconds(1).default(604800),
  AUTHORIZATION_CODE_TTL_SECONDS: seconds(1).default(600),
  ID_TOKEN_TTL_SECONDS: seconds(1).default(3600),
  SESSION_TTL_SECONDS: seconds(1).default(30 * 24 * 3600),
  REFRESH_REUSE_GRACE_SECONDS: seconds().default(0),
  REFRESH_TOKEN_IDLE_SECONDS: seconds(1).optional(),
  MAX_APPLICATIONS: integer(1, 100_000).default(25),
  TRUSTED_PROXIES: trustedProxies.optional(),
  RATE_LIMITS: booleanFlag.default(true),
  RATE_LIMIT_MULTIPLIER: integer(1, 1_000_000).default(1),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  CORS_ORIGINS: corsOrigins.optional(),
  SECRET_KEY: secretKey.optional(),
  SECRET_KEY_FILE: z.string().min(1).optional(),
  SECRET_KEY_PREVIOUS: z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== ""),
    )
    .pipe(z.array(secretKey))
    .optional(),
  USED_REFRESH_TOKEN_RETENTION_DAYS: integer(1, 3650).default(30),
  AUDIT_RETENTION_DAYS: integer(1, 3650).default(90),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  WEB_APP_WATCH: booleanFlag.default(false),
});

export interface Config {
  readonly port: number;
  /** `GET /metrics` on its own port, bound like the server (null: no metrics endpoint at all). */
  readonly metricsPort: number | null;
  /** Address to listen on (`HOST`, default all IPv4 interfaces). */
  readonly host: string;
  /** Share the port with other processes of this deployment (SO_REUSEPORT); off: a busy port is an error. */
  readonly reusePort: boolean;
  /** Issuer URL without a trailing slash; every endpoint URL is derived from it. */
  readonly issuer: string;
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  readonly workerId: number;
  readonly accessTokenTtlSeconds: number;
  readonly authorizationCodeTtlSeconds: number;
  /** OpenID Connect ID tokens live this long; a retired signing key stays published as long. */
  readonly idTokenTtlSeconds: number;
  readonly sessionTtlSeconds: number;
  readonly refreshReuseGraceSeconds: number;
  readonly refreshTokenIdleSeconds: number | null;
  readonly maxApplications: number;
  /** Peers whose X-Forwarded-For is believed (empty: none, the peer address is the client). */
  readonly trustedProxies: readonly Cidr[];
  readonly rateLimits: boolean;
  /** Every bucket's limit × this (load tests that count like production but must not be refused). */
  readonly rateLimitMultiplier: number;
  readonly redisUrl: string | null;
  /** Origins allowed to call `/trpc` cross-origin (SPEC §15); empty: no CORS at all. */
  readonly corsOrigins: readonly string[];
  /** `SECRET_KEY` as configured (base64url); null: read `secretKeyFile`, or DATA_DIR/secret.key when embedded. */
  readonly secretKey: string | null;
  readonly secretKeyFile: string | null;
  /** Earlier keys, still accepted for decryption during a rotation. */
  readonly secretKeyPrevious: readonly string[];
  readonly usedRefreshTokenRetentionDays: number;
  readonly auditRetentionDays: number;
  readonly logLevel: "debug" | "info" | "warn" | "error" | "silent";
  /** Rebuild the web app's bundle when apps/web/src changes (`bun run dev`). */
  readonly webAppWatch: boolean;
}

export class ConfigError extends Error {}

/** Parses the environment once; a bad value names the variable and stops start-up. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(
    Object.keys(schema.shape).flatMap((key) =>
      env[key] === undefined || env[key] === "" ? [] : [[key, env[key]]],
    ),
  );
  if (env.TRUST_PROXY !== undefined && env.TRUST_PROXY !== "")
    throw new ConfigError(
      "Invalid configuration:\n  TRUST_PROXY: replaced by TRUSTED_PROXIES, the proxies' addresses as CIDR ranges (e.g. 10.0.0.0/8)",
    );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const value = parsed.data;
  if (value.SECRET_KEY !== undefined && value.SECRET_KEY_FILE !== undefined)
    throw new ConfigError(
      "Invalid configuration:\n  SECRET_KEY_FILE: set either SECRET_KEY or SECRET_KEY_FILE, not both",
    );
  return Object.freeze({
    port: value.PORT,
    metricsPort: value.METRICS_PORT ?? null,
    host: value.HOST,
    reusePort: value.REUSE_PORT,
    issuer: (value.ISSUER ?? `http://localhost:${value.PORT}`).replace(/\/+$/, ""),
    databaseUrl: value.DATABASE_URL ?? null,
    dataDir: value.DATA_DIR,
    workerId: value.WORKER_ID,
    accessTokenTtlSeconds: value.ACCESS_TOKEN_TTL_SECONDS,
    authorizationCodeTtlSeconds: value.AUTHORIZATION_CODE_TTL_SECONDS,
    idTokenTtlSeconds: value.ID_TOKEN_TTL_SECONDS,
    sessionTtlSeconds: value.SESSION_TTL_SECONDS,
    refreshReuseGraceSeconds: value.REFRESH_REUSE_GRACE_SECONDS,
    refreshTokenIdleSeconds: value.REFRESH_TOKEN_IDLE_SECONDS ?? null,
    maxApplications: value.MAX_APPLICATIONS,
    trustedProxies: Object.freeze(value.TRUSTED_PROXIES ?? []),
    rateLimits: value.RATE_LIMITS,
    rateLimitMultiplier: value.RATE_LIMIT_MULTIPLIER,
    redisUrl: value.REDIS_URL ?? null,
    corsOrigins: Object.freeze(value.CORS_ORIGINS ?? []),
    secretKey: value.SECRET_KEY ?? null,
    secretKeyFile: value.SECRET_KEY_FILE ?? null,
    secretKeyPrevious: Object.freeze(value.SECRET_KEY_PREVIOUS ?? []),
    usedRefreshTokenRetentionDays: value.USED_REFRESH_TOKEN_RETENTION_DAYS,
    auditRetentionDays: value.AUDIT_RETENTION_DAYS,
    logLevel: value.LOG_LEVEL,
    webAppWatch: value.WEB_APP_WATCH,
  });
}
