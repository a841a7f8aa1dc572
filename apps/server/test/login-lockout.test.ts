import { afterAll, describe, expect, test } from "bun:test";
import { claimLoginAttempt, SLOW_DOWN_MS } from "../src/domain/login-throttle.ts";
import { createTestApp, startTestServer, TEST_ISSUER } from "./support/harness.ts";
import { type RawResponse, rawHttp } from "./support/raw-http.ts";
import { trpcHttp } from "./support/trpc-http.ts";

const t = await createTestApp({ RATE_LIMITS: "on" });
afterAll(() => t.close());

test("auth.login refuses an address after 10 failures on one account, with Retry-After and retry_after", async () => {
  await t
    .caller()
    .auth.register({ username: "victim", email: "victim@example.com", password: "password123" });
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) {
    statuses.push(
      (await trpcHttp(t, "auth.login", { input: { login: "victim", password: `wrong-${i}` } })).status,
    );
  }
  expect(statuses).toEqual(Array(10).fill(401));

  const locked = await t.request("/trpc/auth.login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ login: "victim", password: "password123" }),
  });
  expect(locked.status).toBe(429);
  expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = (await locked.json()) as { error: { data: { apiCode: string; retry_after: number } } };
  expect(body.error.data.apiCode).toBe("RATE_LIMITED");
  expect(body.error.data.retry_after).toBeGreaterThan(0);

  // The lock lifts when the window has passed, and the right password works again.
  t.clock.advance(15 * 60 + 1);
  const after = await trpcHttp(t, "auth.login", { input: { login: "victim", password: "password123" } });
  expect(after.status).toBe(200);
});

test("the sign-in page refuses that address too, and says so in the page (429)", async () => {
  await t
    .caller()
    .auth.register({ username: "pagevictim", email: "pagevictim@example.com", password: "password123" });
  const csrf = "c".repeat(43);
  const submit = (password: string) =>
    t.request("/login", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "http://localhost:3000",
        cookie: `flx_csrf=${csrf}`,
      },
      body: new URLSearchParams({ csrf_token: csrf, login: "pagevictim", password }).toString(),
      redirect: "manual",
    });
  for (let i = 0; i < 10; i++) expect((await submit(`wrong-${i}`)).status).toBe(401);
  const locked = await submit("password123");
  expect(locked.status).toBe(429);
  expect(locked.headers.get("set-cookie") ?? "").not.toContain("flx_session=");
  expect(await locked.text()).toContain("Too many failed attempts");
  t.clock.advance(15 * 60 + 1);
  const after = await submit("password123");
  expect(after.status).toBe(303);
  expect(after.headers.get("set-cookie")).toContain("flx_session=");
});

test("parallel wrong passwords cannot slip past the lockout: of 40 at once exactly 10 reach the hash", async () => {
  await t
    .caller()
    .auth.register({ username: "parallel", email: "parallel@example.com", password: "password123" });
  t.clock.advance(3600); // a fresh IP window: earlier tests in this file counted failures from this address
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      trpcHttp(t, "auth.login", { input: { login: "parallel", password: `wrong-${i}` } }),
    ),
  );
  const codes = results.map((r) => r.body.error.data.apiCode as string);
  expect(codes.filter((c) => c === "INVALID_CREDENTIALS")).toHaveLength(10);
  expect(codes.filter((c) => c === "RATE_LIMITED")).toHaveLength(30);
  // The username and the email are one account: the refusal holds for both spellings.
  const byEmail = await trpcHttp(t, "auth.login", {
    input: { login: "PARALLEL@example.com", password: "password123" },
  });
  expect(byEmail.status).toBe(429);
});

test("a tRPC batch is capped at 10 calls", async () => {
  const paths = Array.from({ length: 11 }, () => "auth.login").join(",");
  const input = Object.fromEntries(
    Array.from({ length: 11 }, (_, i) => [String(i), { login: "nobody", password: `guess-${i}` }]),
  );
  const res = await t.request(`/trpc/${paths}?batch=1`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(input),
  });
  expect(res.status).toBe(400);
});

describe("on a real socket, from several loopback addresses", async () => {
  const server = await startTestServer({ RATE_LIMITS: "on" });
  afterAll(() => server.stop());
  const origin = new URL(server.url).origin.replace("localhost", "127.0.0.1");

  const login = (from: string, body: { login: string; password: string }, cookie?: string) =>
    rawHttp({
      port: server.port,
      localAddress: from,
      method: "POST",
      path: "/trpc/auth.login",
      headers: {
        "content-type": "application/json",
        ...(cookie ? { cookie, origin: TEST_ISSUER } : {}),
      },
      body: JSON.stringify(body),
    });
  const timed = async (request: Promise<RawResponse>) => {
    const started = performance.now();
    const response = await request;
    return { response, ms: performance.now() - started };
  };
  const register = async (username: string) => {
    const response = await fetch(`${origin}/trpc/auth.register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, email: `${username}@example.com`, password: "password123" }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { result: { data: { user: { id: string } } } }).result.data.user.id;
  };

  test("60 wrong passwords from one address: that address is refused, the owner signs in from another", async () => {
    await register("victim60");
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++)
      statuses.push((await login("127.0.0.1", { login: "victim60", password: `wrong-${i}` })).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(50).fill(429));
    expect((await login("127.0.0.1", { login: "victim60", password: "password123" })).status).toBe(429);

    const owner = await timed(login("127.0.0.2", { login: "victim60", password: "password123" }));
    expect(owner.response.status).toBe(200);
    expect(owner.ms).toBeLessThan(SLOW_DOWN_MS + 2000);
  });

  test("guessing from many addresses: guessers refused, a new address slowed, the owner's device exempt", async () => {
    const userId = await register("victimmany");
    // The owner signed in on the page before: the browser holds a device cookie for the account.
    const csrf = "c".repeat(43);
    const page = await rawHttp({
      port: server.port,
      localAddress: "127.0.0.3",
      method: "POST",
      path: "/login",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: TEST_ISSUER,
        cookie: `flx_csrf=${csrf}`,
      },
      body: new URLSearchParams({
        csrf_token: csrf,
        login: "victimmany",
        password: "password123",
      }).toString(),
    });
    expect(page.status).toBe(303);
    const device = page.headers.find(
      ([name, value]) => name === "set-cookie" && value.startsWith("flx_device="),
    );
    expect(device?.[1]).toContain("HttpOnly");
    const deviceCookie = (device?.[1] ?? "").split(";")[0] as string;

    // 50 failures from ten other addresses: the account is at its account-wide limit.
    for (let i = 0; i < 50; i++)
      await claimLoginAttempt(server.deps, {
        account: { userId },
        ip: `10.77.0.${i % 10}`,
        deviceId: null,
      });
    // A stranger's address that failed once is refused, even with the right password.
    const stranger = await timed(login("127.0.0.4", { login: "victimmany", password: "wrong" }));
    expect(stranger.response.status).toBe(401);
    expect(stranger.ms).toBeGreaterThanOrEqual(SLOW_DOWN_MS - 50);
    expect((await login("127.0.0.4", { login: "victimmany", password: "password123" })).status).toBe(429);
    // A new address is slowed, never refused.
    const newcomer = await timed(login("127.0.0.5", { login: "victimmany", password: "password123" }));
    expect(newcomer.response.status).toBe(200);
    expect(newcomer.ms).toBeGreaterThanOrEqual(SLOW_DOWN_MS - 50);
    // The owner's browser signs in even from the refused address, without delay.
    const owner = await timed(
      login("127.0.0.4", { login: "victimmany", password: "password123" }, deviceCookie),
    );
    expect(owner.response.status).toBe(200);
    expect(owner.ms).toBeLessThan(SLOW_DOWN_MS);
    // A forged or foreign device cookie counts for nothing.
    const forged = `${deviceCookie.slice(0, -2)}xx`;
    expect((await login("127.0.0.4", { login: "victimmany", password: "password123" }, forged)).status).toBe(
      429,
    );
  });
});
