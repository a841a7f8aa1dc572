import { sql } from "kysely";
import type { Db } from "../db/database.ts";
import { decide, type RateLimiter, windowExpired } from "./limiter.ts";

/**
 * Counters in the `rate_limits` table, shared by every process on the database. One upsert both
 * counts and restarts an expired window, so concurrent hits serialise on the row lock and the
 * count never skips or repeats, whichever process they land on.
 */
export function createDatabaseRateLimiter(db: Db): RateLimiter {
  return {
    kind: "database",
    async hit(bucket, key, limit, windowSeconds, now) {
      const expiredBefore = new Date(now.getTime() - windowSeconds * 1000);
      // In ON CONFLICT ... SET every expression reads the old row, so both CASEs see the same window.
      const windowOver = sql<boolean>`rate_limits.window_start <= ${expiredBefore}`;
      const row = await db
        .insertInto("rate_limits")
        .values({ bucket, key, window_start: now, count: 1 })
        .onConflict((conflict) =>
          conflict.columns(["bucket", "key"]).doUpdateSet({
            count: sql<number>`case when ${windowOver} then 1 else rate_limits.count + 1 end`,
            window_start: sql<Date>`case when ${windowOver} then ${now}::timestamptz else rate_limits.window_start end`,
          }),
        )
        .returning(["count", "window_start"])
        .executeTakeFirstOrThrow();
      return decide(bucket, row.count, new Date(row.window_start), limit, windowSeconds, now);
    },
    async peek(bucket, key, limit, windowSeconds, now) {
      const row = await db
        .selectFrom("rate_limits")
        .select(["count", "window_start"])
        .where("bucket", "=", bucket)
        .where("key", "=", key)
        .executeTakeFirst();
      const windowStart = row ? new Date(row.window_start) : null;
      if (!row || !windowStart || windowExpired(windowStart, windowSeconds, now))
        return decide(bucket, 1, now, limit, windowSeconds, now);
      return decide(bucket, row.count + 1, windowStart, limit, windowSeconds, now);
    },
    async reset(bucket, key) {
      await db.deleteFrom("rate_limits").where("bucket", "=", bucket).where("key", "=", key).execute();
    },
    async refund(bucket, key) {
      await db
        .updateTable("rate_limits")
        .set({ count: sql<number>`count - 1` })
        .where("bucket", "=", bucket)
        .where("key", "=", key)
        .where("count", ">", 0)
        .execute();
    },
    // The database belongs to the caller.
    async close() {},
  };
}
