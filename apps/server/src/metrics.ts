import type { CompiledQuery, LogEvent } from "kysely";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { DatabaseObserver } from "./db/database.ts";
import type { RevocationReason } from "./domain/audit.ts";

/**
 * Prometheus instruments, one registry per app instance (tests build many apps in one process).
 * Every label takes values from a fixed set (route patterns, grant types, bucket names, reasons):
 * never a user, client, token or raw path.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Seconds per HTTP request; its `_count` is the request count. `route` is the route pattern. */
  readonly httpRequestDuration: Histogram<"method" | "route" | "status">;
  readonly tokensIssued: Counter<"grant_type">;
  readonly refreshRotations: Counter;
  readonly refreshReuseDetected: Counter;
  readonly codeReplays: Counter;
  readonly familiesRevoked: Counter<"reason">;
  readonly rateLimited: Counter<"bucket">;
  /** Kysely's query log and its driver's connection use feed these. */
  readonly database: DatabaseObserver;
}

export type GrantType = "authorization_code" | "refresh_token" | "client_credentials";

const STATEMENTS = ["select", "insert", "update", "delete", "with", "begin", "commit", "rollback"] as const;

const KIND_OF_NODE: Record<string, string> = {
  SelectQueryNode: "select",
  InsertQueryNode: "insert",
  UpdateQueryNode: "update",
  DeleteQueryNode: "delete",
};

/**
 * The statement's first keyword (a fixed set), never its text or parameters. Builder queries say it
 * in their root node (a CTE statement starts with `with`); raw SQL is read.
 */
function statementKind(query: CompiledQuery): string {
  const node = query.query as { kind: string; with?: unknown };
  const kind = KIND_OF_NODE[node.kind];
  if (kind !== undefined) return node.with ? "with" : kind;
  const keyword = /^\s*([a-z]+)/i.exec(query.sql)?.[1]?.toLowerCase() ?? "";
  return (STATEMENTS as readonly string[]).includes(keyword) ? keyword : "other";
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const queryDuration = new Histogram({
    name: "fluxer_db_query_duration_seconds",
    help: "Database statements by kind (first keyword) and outcome, in seconds",
    labelNames: ["statement", "outcome"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const connectionsInUse = new Gauge({
    name: "fluxer_db_connections_in_use",
    help: "Database connections currently acquired from the pool",
    registers,
  });
  const connectionsMax = new Gauge({
    name: "fluxer_db_connections_max",
    help: "Size of the database connection pool (1 for the embedded PGlite)",
    registers,
  });
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: "fluxer_http_request_duration_seconds",
      help: "HTTP requests by method, route pattern and status, in seconds",
      labelNames: ["method", "route", "status"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    tokensIssued: new Counter({
      name: "fluxer_oauth_tokens_issued_total",
      help: "Token responses by grant type",
      labelNames: ["grant_type"] as const,
      registers,
    }),
    refreshRotations: new Counter({
      name: "fluxer_oauth_refresh_rotations_total",
      help: "Refresh tokens consumed and replaced by a new pair in their family",
      registers,
    }),
    refreshReuseDetected: new Counter({
      name: "fluxer_oauth_refresh_reuse_detected_total",
      help: "Used refresh tokens presented again (their family was revoked)",
      registers,
    }),
    codeReplays: new Counter({
      name: "fluxer_oauth_code_replays_total",
      help: "Authorization codes presented a second time (what they produced was revoked)",
      registers,
    }),
    familiesRevoked: new Counter({
      name: "fluxer_oauth_token_families_revoked_total",
      help: "Token families revoked, by reason",
      labelNames: ["reason"] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: "fluxer_rate_limited_total",
      help: "Requests refused by a rate-limit bucket",
      labelNames: ["bucket"] as const,
      registers,
    }),
    database: {
      query: (event: LogEvent) =>
        queryDuration.observe(
          { statement: statementKind(event.query), outcome: event.level === "query" ? "ok" : "error" },
          event.queryDurationMillis / 1000,
        ),
      poolSize: (size: number) => connectionsMax.set(size),
      connectionAcquired: () => connectionsInUse.inc(),
      connectionReleased: () => connectionsInUse.dec(),
    },
  };
}

/** Adds the process metrics (CPU, memory, event loop, GC) to the registry; once, when it is served. */
export function collectProcessMetrics(metrics: Metrics): void {
  collectDefaultMetrics({ register: metrics.registry });
}

/** Counts `count` families revoked for `reason` (a revocation that matched nothing counts nothing). */
export function countRevocations(metrics: Metrics, reason: RevocationReason, count: number): void {
  if (count > 0) metrics.familiesRevoked.inc({ reason }, count);
}
