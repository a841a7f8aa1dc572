import { describe, expect, test } from "bun:test";
import { createSnowflakeGenerator, snowflakeTimestamp } from "./snowflake.ts";

describe("snowflakes", () => {
  test("100,000 generated in a burst are unique, increasing and decode to now", () => {
    const next = createSnowflakeGenerator(7);
    const before = Date.now();
    const ids = Array.from({ length: 100_000 }, () => BigInt(next()));
    const after = Date.now();
    for (let i = 1; i < ids.length; i++) expect((ids[i] as bigint) > (ids[i - 1] as bigint)).toBe(true);
    expect(new Set(ids).size).toBe(100_000);
    const first = snowflakeTimestamp(String(ids[0])).getTime();
    const last = snowflakeTimestamp(String(ids.at(-1))).getTime();
    expect(first).toBeGreaterThanOrEqual(before);
    expect(last).toBeLessThanOrEqual(after);
    expect((BigInt(String(ids[0])) >> 12n) & 0x3ffn).toBe(7n);
  });

  test("a clock stepping backwards never produces a smaller id", () => {
    let t = 1_800_000_000_000;
    const next = createSnowflakeGenerator(1, () => t);
    const a = BigInt(next());
    t -= 5_000;
    const b = BigInt(next());
    expect(b > a).toBe(true);
  });

  test("worker ids from different processes never collide", () => {
    const t = 1_800_000_000_000;
    const one = createSnowflakeGenerator(1, () => t);
    const two = createSnowflakeGenerator(2, () => t);
    expect(one()).not.toBe(two());
  });
});
