import type { DeleteResult } from "kysely";
import type { Db } from "../db/database.ts";
import type { Deps } from "../deps.ts";
import { LONGEST_WINDOW_SECONDS } from "../rate-limit/buckets.ts";

/**
 * Periodic removal of rows nothing can use any more. Each statement deletes at most one small batch
 * by primary key, so it holds row locks briefly and never stalls requests on the same tables.
 */
export interface CleanupOptions {
  /** Rows per DELETE statement. */
  batchSize?: number;
  /** Batches per table per run: bounds one run, the next run continues. */
  maxBatches?: number;
  /**
   * Expired, never-exchanged codes stay this long, so a late exchange is told the code expired. (An
   * exchanged code is deleted at once; its family names its hash, which is how a replay is recognised.)
   */
  codeGraceSeconds?: number;
  /** Revoked families (and, by cascade, their tokens) stay this long for audit and reuse answers. */
  revokedFamilyRetentionSeconds?: number;
  /**
   * A used refresh token is kept this long after its use, so that its reuse is recognised (SPEC §4);
   * afterwards it is unknown (`invalid_grant`, nothing revoked). USED_REFRESH_TOKEN_RETENTION_DAYS.
   */
  usedRefreshTokenRetentionSeconds?: number;
  /** Audit events older than this are deleted (AUDIT_RETENTION_DAYS). */
  auditRetentionSeconds?: number;
}

export interface CleanupCounts {
  authorizationCodes: number;
  sessions: number;
  accessTokens: number;
  tokenFamilies: number;
  usedRefreshTokens: number;
  auditEvents: number;
  rateLimits: number;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

function before(now: Date, seconds: number): Date {
  return new Date(now.getTime() - seconds * 1000);
}

/**
 * Runs a DELETE of at most `batchSize` rows (the statement puts the limit in its key subquery) until
 * a batch comes back short or the batch budget is spent; returns the rows deleted.
 */
async function deleteInBatches(
  statement: (limit: number) => { executeTakeFirst(): Promise<DeleteResult> },
  { batchSize, maxBatches }: { batchSize: number; maxBatches: number },
): Promise<number> {
  let total = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const deleted = Number((await statement(batchSize).executeTakeFirst()).numDeletedRows);
    total += deleted;
    if (deleted < batchSize) break;
  }
  return total;
}

export async function cleanupExpired(
  db: Db,
  now: Date,
  options: CleanupOptions = {},
): Promise<CleanupCounts> {
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 100;
  const batches = { batchSize, maxBatches };
  const codesBefore = before(now, options.codeGraceSeconds ?? HOUR);
  const familiesBefore = before(now, options.revokedFamilyRetentionSeconds ?? 30 * DAY);
  const usedRefreshTokensBefore = before(now, options.usedRefreshTokenRetentionSeconds ?? 30 * DAY);
  const auditEventsBefore = before(now, options.auditRetentionSeconds ?? 90 * DAY);
  // A row whose window started longer ago than any bucket's window counts for nothing.
  const rateLimitsBefore = before(now, LONGEST_WINDOW_SECONDS + HOUR);
  // A family drags its tokens along by cascade, so take fewer per statement.
  const familyBatch = Math.max(1, Math.floor(batchSize / 10));

  const authorizationCodes = await deleteInBatches(
    (limit) =>
      db
        .deleteFrom("authorization_codes")
        .where("code_hash", "in", (eb) =>
          eb
            .selectFrom("authorization_codes")
            .select("code_hash")
            .where("expires_at", "<", codesBefore)
            .limit(limit),
        ),
    batches,
  );

  const sessions = await deleteInBatches(
    (limit) =>
      db
        .deleteFrom("sessions")
        .where("id", "in", (eb) =>
          eb.selectFrom("sessions").select("id").where("expires_at", "<=", now).limit(limit),
        ),
    batches,
  );

  const accessTokens = await deleteInBatches(
    (limit) =>
      db
        .deleteFrom("access_tokens")
        .where("token_hash", "in", (eb) =>
          eb.selectFrom("access_tokens").select("token_hash").where("expires_at", "<=", now).limit(limit),
        ),
    batches,
  );

  const tokenFamilies = await deleteInBatches(
    (limit) =>
      db
        .deleteFrom("token_families")
        .where("id", "in", (eb) =>
          eb
            .selectFrom("token_families")
            .select("id")
            .where("revoked_at", "is not", null)
            .where("revoked_at", "<", familiesBefore)
            .limit(limit),
        ),
    { batchSize: familyBatch, maxBatches },
  );

  // A client-credentials family is one access token and no refresh token: once that token has expired
  // and gone, the family can never be used again (each client-credentials call makes a new one).
  const spentFamilies = await deleteInBatches(
    (limit) =>
      db.deleteFrom("token_families").where("id", "in", (eb) =>
        eb
          .selectFrom("token_families as f")
          .select("f.id")
          .where("f.grant_type", "=", "client_credentials")
          .where("f.created_at", "<", codesBefore)
          .where((inner) =>
            inner.not(
              inner.exists(
                inner
                  .selectFrom("access_tokens as a")
                  .select("a.token_hash")
                  .whereRef("a.family_id", "=", "f.id"),
              ),
            ),
          )
          .limit(limit),
      ),
    batches,
  );

  const usedRefreshTokens = await deleteInBatches(
    (limit) =>
      db
        .deleteFrom("refresh_tokens")
        .where("token_hash", "in", (eb) =>
          eb
            .selectFrom("refresh_tokens")
            .select("token_hash")
            .where("used_at", "is not", null)
            .where("used_at", "<", usedRefreshTokensBefore)
            .limit(limit),
        ),
    batches,
  );

  const auditEvents = await deleteInBatches(
    (limit) =>
      db
        .deleteFrom("audit_events")
        .where("id", "in", (eb) =>
          eb.selectFrom("audit_events").select("id").where("created_at", "<", auditEventsBefore).limit(limit),
        ),
    batches,
  );

  const rateLimits = await deleteInBatches(
    (limit) =>
      db
        .deleteFrom("rate_limits")
        .where((eb) =>
          eb(
            eb.refTuple("bucket", "key"),
            "in",
            eb
              .selectFrom("rate_limits")
              .select(["bucket", "key"])
              .where("window_start", "<", rateLimitsBefore)
              .limit(limit)
              .$asTuple("bucket", "key"),
          ),
        ),
    batches,
  );

  return {
    authorizationCodes,
    sessions,
    accessTokens,
    tokenFamilies: tokenFamilies + spentFamilies,
    usedRefreshTokens,
    auditEvents,
    rateLimits,
  };
}

/**
 * Runs cleanupExpired every `intervalMs` on an unref'd timer (it never keeps the process alive);
 * a run still going when the next tick comes is not doubled. The returned stop function resolves
 * once an in-flight run has finished, so shutdown can close the database after awaiting it.
 */
export function startCleanupTimer(
  deps: Pick<Deps, "db" | "clock" | "log">,
  intervalMs: number,
  options: CleanupOptions = {},
): () => Promise<void> {
  let running: Promise<void> | null = null;
  const run = async () => {
    try {
      const counts = await cleanupExpired(deps.db, deps.clock.now(), options);
      // Nested: the logger redacts top-level fields named like "tokens" or "codes".
      if (Object.values(counts).some((count) => count > 0)) deps.log.info("cleanup", { deleted: counts });
    } catch (error) {
      deps.log.error("cleanup failed", { error });
    } finally {
      running = null;
    }
  };
  const timer = setInterval(() => {
    running ??= run();
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
