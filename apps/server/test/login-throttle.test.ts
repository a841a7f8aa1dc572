import { afterAll, describe, expect, test } from "bun:test";
import { createManualClock } from "../src/clock.ts";
import { claimLoginAttempt, type LoginAttempt, releaseLoginAttempt } from "../src/domain/login-throttle.ts";
import { createDatabaseRateLimiter } from "../src/rate-limit/database-store.ts";
import { createMemoryRateLimiter } from "../src/rate-limit/memory-store.ts";
import { createTestDatabase, testDatabaseKind } from "./support/database.ts";
import { testConfig } from "./support/harness.ts";

const database = await createTestDatabase();
afterAll(() => database.close());

function throttleDeps(kind: "memory" | "database") {
  return {
    db: database.db,
    config: testConfig({ RATE_LIMITS: "on" }),
    clock: createManualClock(new Date("2026-11-28T12:00:00.000Z")),
    rateLimiter: kind === "memory" ? createMemoryRateLimiter() : createDatabaseRateLimiter(database.db),
  };
}

let n = 0;
/** An account and an IP nobody else in this file uses (the database store is shared between tests). */
function fresh(): LoginAttempt {
  n += 1;
  return { account: { userId: `${9000 + n}${Date.now()}` }, ip: `10.${n}.0.1` };
}

for (const kind of ["memory", "database"] as const) {
  describe(`sign-in throttle (${kind === "database" ? testDatabaseKind : kind})`, () => {
    test("10 failed attempts lock the account for 15 minutes, from any IP", async () => {
      const deps = throttleDeps(kind);
      const attempt = fresh();
      for (let i = 0; i < 10; i++) expect(await claimLoginAttempt(deps, attempt)).toEqual({ allowed: true });
      deps.clock.advance(60);
      const locked = await claimLoginAttempt(deps, { ...attempt, ip: "10.200.0.9" });
      expect(locked).toEqual({ allowed: false, retryAfterSeconds: 14 * 60 });
      // Other accounts from the same IP are unaffected.
      expect((await claimLoginAttempt(deps, { ...fresh(), ip: attempt.ip })).allowed).toBe(true);
      deps.clock.advance(14 * 60);
      expect(await claimLoginAttempt(deps, attempt)).toEqual({ allowed: true });
    });

    test("parallel attempts cannot slip past the limit: of 50 at once exactly 10 are allowed", async () => {
      const deps = throttleDeps(kind);
      const attempt = fresh();
      const verdicts = await Promise.all(Array.from({ length: 50 }, () => claimLoginAttempt(deps, attempt)));
      expect(verdicts.filter((v) => v.allowed)).toHaveLength(10);
    });

    test("30 failed attempts from one IP lock that IP for every account", async () => {
      const deps = throttleDeps(kind);
      const { ip } = fresh();
      for (let i = 0; i < 30; i++)
        await claimLoginAttempt(deps, { account: { login: `guess${i}_${ip}` }, ip });
      expect(await claimLoginAttempt(deps, { ...fresh(), ip })).toEqual({
        allowed: false,
        retryAfterSeconds: 15 * 60,
      });
      expect((await claimLoginAttempt(deps, fresh())).allowed).toBe(true);
    });

    test("a successful sign-in clears the account and refunds its own IP hit, but not earlier failures", async () => {
      const deps = throttleDeps(kind);
      const attempt = fresh();
      for (let i = 0; i < 9; i++) await claimLoginAttempt(deps, attempt);
      for (let i = 0; i < 20; i++)
        await claimLoginAttempt(deps, { account: { login: `o${i}` }, ip: attempt.ip });
      // The 10th attempt for the account (29 + 1 = 30th for the IP) is allowed and succeeds.
      expect((await claimLoginAttempt(deps, attempt)).allowed).toBe(true);
      await releaseLoginAttempt(deps, attempt);
      // Account cleared: 10 more would be allowed; IP back at 29 failures: one more is allowed, then locked.
      expect((await claimLoginAttempt(deps, { ...attempt, ip: fresh().ip })).allowed).toBe(true);
      expect((await claimLoginAttempt(deps, { account: { login: "x" }, ip: attempt.ip })).allowed).toBe(true);
      expect((await claimLoginAttempt(deps, { account: { login: "y" }, ip: attempt.ip })).allowed).toBe(
        false,
      );
    });
  });
}

test("RATE_LIMITS=off never throttles sign-in (benchmarks)", async () => {
  const deps = { db: database.db, config: testConfig({ RATE_LIMITS: "off" }), clock: createManualClock() };
  const attempt = fresh();
  for (let i = 0; i < 40; i++) expect((await claimLoginAttempt(deps, attempt)).allowed).toBe(true);
});
