import { z } from "zod";

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

const schema = z.object({
  PORT: integer(0, 65535).default(8080),
  METRICS_PORT: integer(0, 65535).optional(),
  ISSUER: issuer.optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  WORKER_ID: integer(0, 1023).default(0),
  ACCESS_TOKEN_TTL_SECONDS: seconds(1).default(604800),
  AUTHORIZATION_CODE_TTL_SECONDS: seconds(1).default(600),
  SESSION_TTL_SECONDS: seconds(1).default(30 * 24 * 3600),
  REFRESH_REUSE_GRACE_SECONDS: seconds().default(0),
  REFRESH_TOKEN_IDLE_SECONDS: seconds(1).optional(),
  MAX_APPLICATIONS: integer(1, 100_000).default(25),
  TRUST_PROXY: booleanFlag.default(false),
  RATE_LIMITS: booleanFlag.default(true),
  RATE_LIMIT_MULTIPLIER: integer(1, 1_000_000).default(1),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  CORS_ORIGINS: corsOrigins.optional(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  WEB_APP_WATCH: booleanFlag.default(false),
});

export interface Config {
  readonly port: number;
  /** `GET /metrics` on its own port, bound like the server (null: no metrics endpoint at all). */
  readonly metricsPort: number | null;
  /** Issuer URL without a trailing slash; every endpoint URL is derived from it. */
  readonly issuer: string;
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  readonly workerId: number;
  readonly accessTokenTtlSeconds: number;
  readonly authorizationCodeTtlSeconds: number;
  readonly sessionTtlSeconds: number;
  readonly refreshReuseGraceSeconds: number;
  readonly refreshTokenIdleSeconds: number | null;
  readonly maxApplications: number;
  readonly trustProxy: boolean;
  readonly rateLimits: boolean;
  /** Every bucket's limit × this (load tests that count like production but must not be refused). */
  readonly rateLimitMultiplier: number;
  readonly redisUrl: string | null;
  /** Origins allowed to call `/trpc` cross-origin (SPEC §15); empty: no CORS at all. */
  readonly corsOrigins: readonly string[];
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
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const value = parsed.data;
  return Object.freeze({
    port: value.PORT,
    metricsPort: value.METRICS_PORT ?? null,
    issuer: (value.ISSUER ?? `http://localhost:${value.PORT}`).replace(/\/+$/, ""),
    databaseUrl: value.DATABASE_URL ?? null,
    dataDir: value.DATA_DIR,
    workerId: value.WORKER_ID,
    accessTokenTtlSeconds: value.ACCESS_TOKEN_TTL_SECONDS,
    authorizationCodeTtlSeconds: value.AUTHORIZATION_CODE_TTL_SECONDS,
    sessionTtlSeconds: value.SESSION_TTL_SECONDS,
    refreshReuseGraceSeconds: value.REFRESH_REUSE_GRACE_SECONDS,
    refreshTokenIdleSeconds: value.REFRESH_TOKEN_IDLE_SECONDS ?? null,
    maxApplications: value.MAX_APPLICATIONS,
    trustProxy: value.TRUST_PROXY,
    rateLimits: value.RATE_LIMITS,
    rateLimitMultiplier: value.RATE_LIMIT_MULTIPLIER,
    redisUrl: value.REDIS_URL ?? null,
    corsOrigins: Object.freeze(value.CORS_ORIGINS ?? []),
    logLevel: value.LOG_LEVEL,
    webAppWatch: value.WEB_APP_WATCH,
  });
}
