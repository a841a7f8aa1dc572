import { afterAll, describe, expect, test } from "bun:test";
import { createManualClock } from "../src/clock.ts";
import {
  assertLoginAllowed,
  checkLoginAllowed,
  recordLoginFailure,
  recordLoginSuccess,
} from "../src/domain/login-throttle.ts";
import { createDatabaseRateLimiter } from "../src/rate-limit/database-store.ts";
import { createMemoryRateLimiter } from "../src/rate-limit/memory-store.ts";
import { RateLimitedError } from "../src/rate-limit/rate-limited-error.ts";
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
/** A login and an IP nobody else in this file uses (the database store is shared between tests). */
function fresh() {
  n += 1;
  return { login: `victim${n}_${crypto.randomUUID().slice(0, 8)}`, ip: `10.${n}.0.1` };
}

for (const kind of ["memory", `database`] as const) {
  describe(`sign-in throttle (${kind === "database" ? testDatabaseKind : kind})`, () => {
    test("10 failures for one account lock it for 15 minutes, from any IP", async () => {
      const deps = throttleDeps(kind);
      const { login, ip } = fresh();
      for (let i = 0; i < 10; i++) {
        expect(await checkLoginAllowed(deps, { login, ip })).toEqual({ allowed: true });
        await recordLoginFailure(deps, { login, ip });
      }
      deps.clock.advance(60);
      const locked = await checkLoginAllowed(deps, { login: ` ${login.toUpperCase()} `, ip: "10.200.0.9" });
      expect(locked).toEqual({ allowed: false, retryAfterSeconds: 14 * 60 });
      const error = await assertLoginAllowed(deps, { login, ip }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ code: "RATE_LIMITED", status: 429, retryAfterSeconds: 14 * 60 });
      // Other accounts from the same IP are unaffected.
      expect((await checkLoginAllowed(deps, { login: fresh().login, ip })).allowed).toBe(true);
      deps.clock.advance(14 * 60);
      expect(await checkLoginAllowed(deps, { login, ip })).toEqual({ allowed: true });
    });

    test("30 failures from one IP lock that IP for every account", async () => {
      const deps = throttleDeps(kind);
      const { ip } = fresh();
      for (let i = 0; i < 30; i++) await recordLoginFailure(deps, { login: `guess${i}_${ip}`, ip });
      const verdict = await checkLoginAllowed(deps, { login: fresh().login, ip });
      expect(verdict).toEqual({ allowed: false, retryAfterSeconds: 15 * 60 });
      expect((await checkLoginAllowed(deps, { login: fresh().login, ip: fresh().ip })).allowed).toBe(true);
    });

    test("a successful sign-in clears the account's failures but not the IP's", async () => {
      const deps = throttleDeps(kind);
      const { login, ip } = fresh();
      for (let i = 0; i < 10; i++) await recordLoginFailure(deps, { login, ip });
      for (let i = 0; i < 19; i++) await recordLoginFailure(deps, { login: `other${i}_${ip}`, ip });
      expect((await checkLoginAllowed(deps, { login, ip: fresh().ip })).allowed).toBe(false);
      await recordLoginSuccess(deps, { login });
      expect((await checkLoginAllowed(deps, { login, ip: fresh().ip })).allowed).toBe(true);
      // The IP has 29 failures: one more locks it, success or not.
      expect((await checkLoginAllowed(deps, { login, ip })).allowed).toBe(true);
      await recordLoginFailure(deps, { login: "someone", ip });
      expect((await checkLoginAllowed(deps, { login, ip })).allowed).toBe(false);
    });

    test("checking counts nothing: only failures do", async () => {
      const deps = throttleDeps(kind);
      const { login, ip } = fresh();
      for (let i = 0; i < 50; i++) expect((await checkLoginAllowed(deps, { login, ip })).allowed).toBe(true);
    });
  });
}

test("RATE_LIMITS=off never throttles sign-in (benchmarks)", async () => {
  const deps = { db: database.db, config: testConfig({ RATE_LIMITS: "off" }), clock: createManualClock() };
  const { login, ip } = fresh();
  for (let i = 0; i < 40; i++) await recordLoginFailure(deps, { login, ip });
  expect(await checkLoginAllowed(deps, { login, ip })).toEqual({ allowed: true });
});
