import { afterAll, expect, test } from "bun:test";
import { createTestApp } from "./support/harness.ts";
import { trpcHttp } from "./support/trpc-http.ts";

const t = await createTestApp({ RATE_LIMITS: "on" });
afterAll(() => t.close());

test("auth.login locks an account after repeated failures, with Retry-After and retry_after", async () => {
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

test("the sign-in page locks the account too, and says so in the page (429)", async () => {
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
  // The username and the email are one account: the lock holds for both spellings.
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
