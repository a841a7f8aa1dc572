import { describe, expect, test } from "bun:test";
import { type CountInStore, counterLeases, longestRun } from "./counter-leases.ts";

/** The Redis script's rule in memory: restart an expired window, grant `want` only if it all fits. */
function fakeStore() {
  const counters = new Map<string, { start: number; count: number }>();
  const calls: { key: string; want: number; granted: number }[] = [];
  let failNext = false;
  const count: CountInStore = async (key, nowMs, windowMs, want, limit) => {
    await Promise.resolve();
    if (failNext) {
      failNext = false;
      throw new Error("store down");
    }
    let counter = counters.get(key);
    if (!counter || nowMs >= counter.start + windowMs) {
      counter = { start: nowMs, count: 0 };
      counters.set(key, counter);
    }
    const granted = counter.count + want > limit ? 1 : want;
    counter.count += granted;
    calls.push({ key, want, granted });
    return { count: counter.count, windowStart: counter.start, granted };
  };
  return {
    count,
    calls,
    counters,
    failOnce: () => {
      failNext = true;
    },
  };
}

const NOW = Date.parse("2026-12-01T12:00:00.000Z");

describe("counter leases", () => {
  test("limits under 200 never lease: every hit is one store call for one value", async () => {
    const store = fakeStore();
    const leases = counterLeases(store.count);
    expect(longestRun(120)).toBe(1);
    const counts = [];
    for (let i = 0; i < 50; i++) counts.push((await leases.hit("k", 120, 60_000, NOW)).count);
    expect(counts).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(store.calls).toHaveLength(50);
    expect(store.calls.every((call) => call.want === 1)).toBe(true);
  });

  test("a busy counter takes growing runs: far fewer store calls, every hit still its own value", async () => {
    const store = fakeStore();
    const leases = counterLeases(store.count);
    const counts = [];
    for (let i = 0; i < 2_000; i++) counts.push((await leases.hit("k", 1_000_000, 60_000, NOW)).count);
    expect(counts).toEqual(Array.from({ length: 2_000 }, (_, i) => i + 1));
    expect(store.calls.length).toBeLessThan(40);
    expect(Math.max(...store.calls.map((call) => call.granted))).toBe(256);
  });

  test("hits waiting for a store call share its run", async () => {
    const store = fakeStore();
    const leases = counterLeases(store.count);
    const results = await Promise.all(
      Array.from({ length: 30 }, () => leases.hit("k", 1_000_000, 60_000, NOW)),
    );
    expect(results.map((result) => result.count).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    // The first hit's own call, then one call for the 29 that arrived while it was out.
    expect(store.calls.map((call) => call.granted)).toEqual([1, 29]);
  });

  test("two processes never let more than the limit through, and lose at most a run each", async () => {
    const store = fakeStore();
    const a = counterLeases(store.count);
    const b = counterLeases(store.count);
    const limit = 1_000; // runs of at most 10
    const results = await Promise.all(
      Array.from({ length: 1_500 }, (_, i) => (i % 2 ? a : b).hit("k", limit, 60_000, NOW)),
    );
    const counts = results.map((result) => result.count);
    expect(new Set(counts).size).toBe(counts.length);
    const allowed = counts.filter((count) => count <= limit).length;
    expect(allowed).toBeLessThanOrEqual(limit);
    expect(allowed).toBeGreaterThanOrEqual(limit - 2 * (longestRun(limit) - 1));
    expect(Math.max(...store.calls.map((call) => call.granted))).toBeLessThanOrEqual(10);
  });

  test("near the limit every hit is counted on its own", async () => {
    const store = fakeStore();
    const leases = counterLeases(store.count);
    for (let i = 0; i < 1_100; i++) await leases.hit("k", 1_000, 60_000, NOW);
    const lastCalls = store.calls.slice(-50);
    expect(lastCalls.every((call) => call.granted === 1)).toBe(true);
    expect(store.counters.get("k")?.count).toBe(1_100);
  });

  test("a run ends with its window: the next window starts at 1", async () => {
    const store = fakeStore();
    const leases = counterLeases(store.count);
    for (let i = 0; i < 500; i++) await leases.hit("k", 1_000_000, 60_000, NOW);
    const next = await leases.hit("k", 1_000_000, 60_000, NOW + 60_000);
    expect(next).toEqual({ count: 1, windowStart: NOW + 60_000 });
  });

  test("a failed store call fails the hits waiting on it; the next hit asks again", async () => {
    const store = fakeStore();
    const leases = counterLeases(store.count);
    store.failOnce();
    const failed = await Promise.allSettled(
      Array.from({ length: 5 }, () => leases.hit("k", 1_000_000, 60_000, NOW)),
    );
    expect(failed.every((result) => result.status === "rejected")).toBe(true);
    expect((await leases.hit("k", 1_000_000, 60_000, NOW)).count).toBe(1);
  });

  test("forget drops this process's run, so a reset counter starts again at 1", async () => {
    const store = fakeStore();
    const leases = counterLeases(store.count);
    for (let i = 0; i < 500; i++) await leases.hit("k", 1_000_000, 60_000, NOW);
    store.counters.delete("k");
    leases.forget("k");
    expect((await leases.hit("k", 1_000_000, 60_000, NOW)).count).toBe(1);
  });
});
