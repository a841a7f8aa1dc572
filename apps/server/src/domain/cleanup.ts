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
  /** Expired codes stay this long, so a late replay is still recognised as a replay. */
  codeGraceSeconds?: number;
  /** Revoked families (and, by cascade, their tokens) stay this long for audit and reuse answers. */
  revokedFamilyRetentionSeconds?: number;
}

export interface CleanupCounts {
  authorizationCodes: number;
  sessions: number;
  accessTokens: number;
  tokenFamilies: number;
  rateLimits: number;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

function before(now: Date, seconds: number): Date {
  return new Date(now.getTime() - seconds * 1000);
}

/** Runs one batched delete until a batch comes back short (or the batch budget is spent). */
async function inBatches(deleteBatch: () => Promise<number>, batchSize: number, maxBatches: number) {
  let total = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const deleted = await deleteBatch();
    total += deleted;
    if (deleted < batchSize) break;
  }
  return total;
}

const affected = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);

export async function cleanupExpired(
  db: Db,
  now: Date,
  options: CleanupOptions = {},
): Promise<CleanupCounts> {
  const batchSize = options.batchSize ?? 1000;
  const maxBatches = options.maxBatches ?? 100;
  const codesBefore = before(now, options.codeGraceSeconds ?? HOUR);
  const familiesBefore = before(now, options.revokedFamilyRetentionSeconds ?? 30 * DAY);
  // A row whose window started longer ago than any bucket's window counts for nothing.
  const rateLimitsBefore = before(now, LONGEST_WINDOW_SECONDS + HOUR);
  // A family drags its tokens along by cascade, so take fewer per statement.
  const familyBatch = Math.max(1, Math.floor(batchSize / 10));

  const authorizationCodes = await inBatches(
    async () =>
      affected(
        await db
          .deleteFrom("authorization_codes")
          .where("code_hash", "in", (eb) =>
            eb
              .selectFrom("authorization_codes")
              .select("code_hash")
              .where("expires_at", "<", codesBefore)
              .limit(batchSize),
          )
          .executeTakeFirst(),
      ),
    batchSize,
    maxBatches,
  );

  const sessions = await inBatches(
    async () =>
      affected(
        await db
          .deleteFrom("sessions")
          .where("id", "in", (eb) =>
            eb.selectFrom("sessions").select("id").where("expires_at", "<=", now).limit(batchSize),
          )
          .executeTakeFirst(),
      ),
    batchSize,
    maxBatches,
  );

  const accessTokens = await inBatches(
    async () =>
      affected(
        await db
          .deleteFrom("access_tokens")
          .where("token_hash", "in", (eb) =>
            eb
              .selectFrom("access_tokens")
              .select("token_hash")
              .where("expires_at", "<=", now)
              .limit(batchSize),
          )
          .executeTakeFirst(),
      ),
    batchSize,
    maxBatches,
  );

  const tokenFamilies = await inBatches(
    async () =>
      affected(
        await db
          .deleteFrom("token_families")
          .where("id", "in", (eb) =>
            eb
              .selectFrom("token_families")
              .select("id")
              .where("revoked_at", "is not", null)
              .where("revoked_at", "<", familiesBefore)
              .limit(familyBatch),
          )
          .executeTakeFirst(),
      ),
    familyBatch,
    maxBatches,
  );

  // A client-credentials family is one access token and no refresh token: once that token has expired
  // and gone, the family can never be used again (each client-credentials call makes a new one).
  const spentFamilies = await inBatches(
    async () =>
      affected(
        await db
          .deleteFrom("token_families")
          .where("id", "in", (eb) =>
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
              .limit(batchSize),
          )
          .executeTakeFirst(),
      ),
    batchSize,
    maxBatches,
  );

  const rateLimits = await inBatches(
    async () =>
      affected(
        await db
          .deleteFrom("rate_limits")
          .where((eb) =>
            eb(
              eb.refTuple("bucket", "key"),
              "in",
              eb
                .selectFrom("rate_limits")
                .select(["bucket", "key"])
                .where("window_start", "<", rateLimitsBefore)
                .limit(batchSize)
                .$asTuple("bucket", "key"),
            ),
          )
          .executeTakeFirst(),
      ),
    batchSize,
    maxBatches,
  );

  return {
    authorizationCodes,
    sessions,
    accessTokens,
    tokenFamilies: tokenFamilies + spentFamilies,
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
