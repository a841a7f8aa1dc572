import { afterAll, describe, expect, test } from "bun:test";
import { createManualClock } from "../src/clock.ts";
import {
  claimLoginAttempt,
  type LoginAttempt,
  releaseLoginAttempt,
  SLOW_DOWN_MS,
} from "../src/domain/login-throttle.ts";
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
  return { account: { userId: `${9000 + n}${Date.now()}` }, ip: `10.${n}.0.1`, deviceId: null };
}
const freshIp = () => fresh().ip;
const ALLOWED = { allowed: true, delayMs: 0 } as const;

for (const kind of ["memory", "database"] as const) {
  describe(`sign-in throttle (${kind === "database" ? testDatabaseKind : kind})`, () => {
    test("per account and address: 10 failures refuse that address for 15 minutes, not the account", async () => {
      const deps = throttleDeps(kind);
      const attempt = fresh();
      for (let i = 0; i < 10; i++) expect(await claimLoginAttempt(deps, attempt)).toEqual(ALLOWED);
      deps.clock.advance(60);
      expect(await claimLoginAttempt(deps, attempt)).toEqual({ allowed: false, retryAfterSeconds: 14 * 60 });
      // The same account from another address, and other accounts from this address, are unaffected.
      expect(await claimLoginAttempt(deps, { ...attempt, ip: freshIp() })).toEqual(ALLOWED);
      expect(await claimLoginAttempt(deps, { ...fresh(), ip: attempt.ip })).toEqual(ALLOWED);
      deps.clock.advance(14 * 60);
      expect(await claimLoginAttempt(deps, attempt)).toEqual(ALLOWED);
    });

    test("parallel attempts cannot slip past the limit: of 50 at once exactly 10 are allowed", async () => {
      const deps = throttleDeps(kind);
      const attempt = fresh();
      const verdicts = await Promise.all(Array.from({ length: 50 }, () => claimLoginAttempt(deps, attempt)));
      expect(verdicts.filter((v) => v.allowed)).toHaveLength(10);
    });

    test("per address: 30 failures on any accounts refuse that address (IPv6 by /64) for every account", async () => {
      const deps = throttleDeps(kind);
      const ip = `2001:db8:${n + 1}:7::1`;
      for (let i = 0; i < 30; i++)
        expect(
          (await claimLoginAttempt(deps, { account: { login: `guess${i}_${ip}` }, ip, deviceId: null }))
            .allowed,
        ).toBe(true);
      expect(await claimLoginAttempt(deps, { ...fresh(), ip: `2001:db8:${n}:7::ffff` })).toEqual({
        allowed: false,
        retryAfterSeconds: 15 * 60,
      });
      expect((await claimLoginAttempt(deps, fresh())).allowed).toBe(true);
    });

    test("a refused address adds nothing to the account: 60 guesses from one address leave the account open", async () => {
      const deps = throttleDeps(kind);
      const victim = fresh();
      const verdicts = [];
      for (let i = 0; i < 60; i++) verdicts.push(await claimLoginAttempt(deps, victim));
      expect(verdicts.filter((v) => v.allowed)).toHaveLength(10);
      // Were the 50 refused guesses counted, the account (limit 50) would now be over its limit.
      for (let i = 0; i < 39; i++) await claimLoginAttempt(deps, { ...victim, ip: `10.250.${n}.${i}` });
      expect(await claimLoginAttempt(deps, { ...victim, ip: freshIp() })).toEqual(ALLOWED);
    });

    test("per account: over 50 failures from many addresses, a guessing address is refused, a new one only slowed", async () => {
      const deps = throttleDeps(kind);
      const victim = fresh();
      const botnet = Array.from({ length: 10 }, (_, i) => `172.16.${n}.${i}`);
      for (const ip of botnet) for (let i = 0; i < 5; i++) await claimLoginAttempt(deps, { ...victim, ip });
      // 50 failures: the account is at its limit. One more failure from a bot address is refused...
      const again = await claimLoginAttempt(deps, { ...victim, ip: botnet[0] as string });
      expect(again.allowed).toBe(false);
      // ...while an address with no failures of its own gets through, after a short delay.
      const owner = { ...victim, ip: freshIp() };
      expect(await claimLoginAttempt(deps, owner)).toEqual({ allowed: true, delayMs: SLOW_DOWN_MS });
      // Its first failure makes it a guessing address too.
      expect((await claimLoginAttempt(deps, owner)).allowed).toBe(false);
      // A device that signed in before is exempt: counted on its own, no delay.
      expect(
        await claimLoginAttempt(deps, { ...victim, ip: botnet[1] as string, deviceId: `d${n}` }),
      ).toEqual(ALLOWED);
    });

    test("a device cookie is throttled on its own: 10 failures refuse that device only", async () => {
      const deps = throttleDeps(kind);
      const device = { ...fresh(), deviceId: `device-${n}-${Date.now()}` };
      for (let i = 0; i < 10; i++) expect(await claimLoginAttempt(deps, device)).toEqual(ALLOWED);
      expect((await claimLoginAttempt(deps, device)).allowed).toBe(false);
      expect(await claimLoginAttempt(deps, { ...device, deviceId: null })).toEqual(ALLOWED);
    });

    test("a successful sign-in clears this address on the account and refunds its own IP hit, not earlier failures", async () => {
      const deps = throttleDeps(kind);
      const attempt = fresh();
      for (let i = 0; i < 9; i++) await claimLoginAttempt(deps, attempt);
      for (let i = 0; i < 20; i++)
        await claimLoginAttempt(deps, { account: { login: `o${i}` }, ip: attempt.ip, deviceId: null });
      // The 10th attempt for the account (29 + 1 = 30th for the IP) is allowed and succeeds.
      expect((await claimLoginAttempt(deps, attempt)).allowed).toBe(true);
      await releaseLoginAttempt(deps, attempt);
      // IP back at 29 failures: one more is allowed, then refused.
      expect(
        (await claimLoginAttempt(deps, { account: { login: "x" }, ip: attempt.ip, deviceId: null })).allowed,
      ).toBe(true);
      expect(
        (await claimLoginAttempt(deps, { account: { login: "y" }, ip: attempt.ip, deviceId: null })).allowed,
      ).toBe(false);
    });
  });
}

test("RATE_LIMITS=off never throttles sign-in (benchmarks)", async () => {
  const deps = { db: database.db, config: testConfig({ RATE_LIMITS: "off" }), clock: createManualClock() };
  const attempt = fresh();
  for (let i = 0; i < 40; i++) expect((await claimLoginAttempt(deps, attempt)).allowed).toBe(true);
});
