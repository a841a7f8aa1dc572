// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
/**
 * Every Fluxer bucket on the real routes (RATE_LIMITS=on): the request after the limit gets a 429 with
 * the documented body and headers, and the bucket opens again after its window (injected clock).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createApplicationOk, mutate, query } from "./support/applications.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";
import { basicAuth, issueTokens, setupClient } from "./support/oauth-flow.ts";
import { trpcHttp } from "./support/trpc-http.ts";

const t = await createTestApp({ RATE_LIMITS: "on" });
afterAll(() => t.close());
const { owner, client } = await setupClient(t);

function expectRateLimitHeaders(response: Response, limit: number) {
  expect(response.status).toBe(429);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(response.headers.get("x-ratelimit-limit")).toBe(String(limit));
  expect(response.headers.get("x-ratelimit-remaining")).toBe("0");
  expect(Number(response.headers.get("x-ratelimit-reset"))).toBeGreaterThan(t.clock.now().getTime() / 1000);
  expect(Number(response.headers.get("x-ratelimit-reset-after"))).toBeGreaterThan(0);
  expect(response.headers.get("x-ratelimit-bucket")).toMatch(/^[0-9a-f]{16}$/);
}

async function burst(count: number, send: () => Promise<Response>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await send()).status);
  return statuses;
}

describe("rate limits on the routes", () => {
  test("oauth:token — 120 per minute per IP, RFC body", async () => {
    const send = () =>
      t.request("/v1/oauth2/token", {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: basicAuth(client.id, client.clientSecret),
        },
        body: "grant_type=client_credentials",
      });
    const first = await send();
    expect(first.status).toBe(200);
    expect(first.headers.get("x-ratelimit-limit")).toBe("120");
    expect(first.headers.get("x-ratelimit-remaining")).toBe("119");
    expect((await send()).headers.get("x-ratelimit-remaining")).toBe("118");
    expect(new Set(await burst(118, send))).toEqual(new Set([200]));
    const limited = await send();
    expectRateLimitHeaders(limited, 120);
    expect(limited.headers.get("cache-control")).toContain("no-store");
    const body = (await limited.json()) as any;
    expect(body.error).toBe("rate_limited");
    expect(body.retry_after).toBeGreaterThan(0);
    t.clock.advance(61);
    expect((await send()).status).toBe(200);
  });

  test("oauth:introspect — userinfo, @me, introspect and revoke share 120 per minute", async () => {
    const tokens = await issueTokens(t, client, owner.user.id);
    const bearer = { headers: { authorization: `Bearer ${tokens.access_token}` } };
    const form = (path: string, token: string) =>
      t.request(path, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: basicAuth(client.id, client.clientSecret),
        },
        body: `token=${token}`,
      });
    const statuses = [
      ...(await burst(40, () => t.request("/v1/oauth2/userinfo", bearer))),
      ...(await burst(40, () => t.request("/v1/oauth2/@me", bearer))),
      ...(await burst(30, () => form("/v1/oauth2/introspect", tokens.access_token))),
      ...(await burst(10, () => form("/v1/oauth2/token/revoke", "unknown-token"))),
    ];
    expect(new Set(statuses)).toEqual(new Set([200]));
    const limited = await t.request("/v1/users/@me", bearer);
    expectRateLimitHeaders(limited, 120);
    expect(await limited.json()).toMatchObject({ code: "RATE_LIMITED", global: false });
    t.clock.advance(61);
    expect((await t.request("/v1/users/@me", bearer)).status).toBe(200);
  });

  test("oauth:authorize — 60 per minute per IP", async () => {
    const url = `/v1/oauth2/authorize?client_id=${client.id}&redirect_uri=${encodeURIComponent(client.redirectUris[0] ?? "")}&response_type=code&scope=identify`;
    const statuses = await burst(60, () => t.request(url, { redirect: "manual" }));
    expect(new Set(statuses)).toEqual(new Set([302]));
    const limited = await t.request(url, { redirect: "manual" });
    expectRateLimitHeaders(limited, 60);
    expect(((await limited.json()) as any).code).toBe("RATE_LIMITED");
    t.clock.advance(61);
  });

  test("applications:list — 60 per minute per user", async () => {
    const user = await registerUser(t);
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await query(t, "list", user.token)).status);
    expect(new Set(statuses)).toEqual(new Set([200]));
    const limited = await query(t, "list", user.token);
    expect(limited.status).toBe(429);
    expect(limited.body.error.data.apiCode).toBe("RATE_LIMITED");
    expect(limited.body.error.data.retry_after).toBeGreaterThan(0);
    // Per user: another user is unaffected.
    const other = await registerUser(t);
    expect((await query(t, "list", other.token)).status).toBe(200);
    t.clock.advance(61);
  });

  test("authorizations.list and applications.getPublic are limited too", async () => {
    const user = await registerUser(t);
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++)
      statuses.push((await trpcHttp(t, "authorizations.list", { token: user.token, query: true })).status);
    expect(new Set(statuses)).toEqual(new Set([200]));
    const limited = await trpcHttp(t, "authorizations.list", { token: user.token, query: true });
    expect(limited.status).toBe(429);
    expect(limited.body.error.data.apiCode).toBe("RATE_LIMITED");
    const publicStatuses: number[] = [];
    for (let i = 0; i < 61; i++)
      publicStatuses.push(
        (await trpcHttp(t, "applications.getPublic", { input: { id: client.id }, query: true })).status,
      );
    expect(publicStatuses.slice(0, 60)).toEqual(Array(60).fill(200));
    expect(publicStatuses[60]).toBe(429);
    t.clock.advance(61);
  });

  test("applications:create — 10 per hour per user; resets 10 per hour; deletes 10 per hour", async () => {
    const user = await registerUser(t);
    const created = [];
    for (let i = 0; i < 10; i++) created.push(await createApplicationOk(t, user.token, { name: `App ${i}` }));
    const limited = await mutate(t, "create", user.token, { name: "One too many" });
    expect(limited.status).toBe(429);
    expect(limited.body.error.data.apiCode).toBe("RATE_LIMITED");
    expect((await query(t, "list", user.token)).body.result.data).toHaveLength(10);

    const app = created[0];
    const resets = [];
    for (let i = 0; i < 10; i++) {
      const path = i % 2 === 0 ? "resetSecret" : "resetBotToken";
      resets.push((await mutate(t, path, user.token, { id: app.id, password: user.password })).status);
    }
    expect(new Set(resets)).toEqual(new Set([200]));
    expect((await mutate(t, "resetSecret", user.token, { id: app.id, password: user.password })).status).toBe(
      429,
    );

    for (const each of created) {
      expect((await mutate(t, "delete", user.token, { id: each.id, password: user.password })).status).toBe(
        200,
      );
    }
    const deleteLimited = await mutate(t, "delete", user.token, { id: app.id, password: user.password });
    expect(deleteLimited.status).toBe(429);
    t.clock.advance(3601);
    expect((await mutate(t, "create", user.token, { name: "Next hour" })).status).toBe(200);
  }, 60_000);

  test("auth:register — 10 per hour per IP", async () => {
    t.clock.advance(3601);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const name = `reg${i}_${Math.random().toString(36).slice(2, 7)}`;
      statuses.push(
        (
          await trpcHttp(t, "auth.register", {
            input: { username: name, email: `${name}@example.com`, password: "password123" },
          })
        ).status,
      );
    }
    // Earlier tests registered users through the caller (no IP bucket), so all ten pass here.
    expect(new Set(statuses)).toEqual(new Set([200]));
    const limited = await trpcHttp(t, "auth.register", {
      input: { username: "eleventh", email: "eleventh@example.com", password: "password123" },
    });
    expect(limited.status).toBe(429);
    expect(limited.body.error.data.apiCode).toBe("RATE_LIMITED");
  }, 60_000);
});
