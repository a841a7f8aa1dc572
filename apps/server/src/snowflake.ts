/** Fluxer epoch (2015-01-01T00:00:00Z). */
export const SNOWFLAKE_EPOCH = 1420070400000n;

export type SnowflakeGenerator = () => string;

/**
 * 64-bit ids: bits 63..22 milliseconds since the epoch, 21..12 worker id, 11..0 sequence.
 * Monotonic within a process; when the sequence runs out (4096 per ms) we wait for the next
 * millisecond rather than borrow from the future, so the timestamp always decodes to real time.
 */
export function createSnowflakeGenerator(workerId: number, now: () => number = Date.now): SnowflakeGenerator {
  if (!Number.isInteger(workerId) || workerId < 0 || workerId > 1023)
    throw new RangeError("worker id must be 0..1023");
  const worker = BigInt(workerId) << 12n;
  let lastMs = -1n;
  let sequence = 0n;
  return () => {
    let ms = BigInt(now()) - SNOWFLAKE_EPOCH;
    if (ms < lastMs) ms = lastMs; // clock stepped back: stay on the last millisecond
    if (ms === lastMs) {
      sequence = (sequence + 1n) & 0xfffn;
      if (sequence === 0n) {
        while (ms <= lastMs) ms = BigInt(now()) - SNOWFLAKE_EPOCH;
      }
    } else {
      sequence = 0n;
    }
    lastMs = ms;
    return ((ms << 22n) | worker | sequence).toString();
  };
}

export function snowflakeTimestamp(id: string): Date {
  return new Date(Number((BigInt(id) >> 22n) + SNOWFLAKE_EPOCH));
}

const MAX_INT8 = 9223372036854775807n;

/** A decimal string that fits PostgreSQL's int8: check before querying, or the database answers 500. */
export function isSnowflake(value: unknown): value is string {
  return typeof value === "string" && /^[0-9]{1,19}$/.test(value) && BigInt(value) <= MAX_INT8;
}
