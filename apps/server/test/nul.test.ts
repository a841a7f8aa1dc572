// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
/**
 * NUL characters (which PostgreSQL text cannot store) and non-ASCII return paths are bad input: a clear
 * 4xx, nothing written — never a 500 after a partial write.
 */
import { afterAll, expect, test } from "bun:test";
import { snapshotDatabase } from "./support/db-snapshot.ts";
import { createTestApp } from "./support/harness.ts";
import { basicAuth, mintCode, postForm, setupClient, VERIFIER } from "./support/oauth-flow.ts";
import { trpcHttp } from "./support/trpc-http.ts";

const t = await createTestApp();
afterAll(() => t.close());
const { owner, client } = await setupClient(t);

test("NUL in a token request is invalid_request and the code stays unused", async () => {
  const code = await mintCode(t, client, owner.user.id);
  const before = await snapshotDatabase(t.deps.db);
  const res = await postForm(
    t,
    "/v1/oauth2/token",
    `grant_type=authorization_code&code=${code}&redirect_uri=https%3A%2F%2Fx%00&code_verifier=${VERIFIER}`,
    { authorization: basicAuth(client.id, client.clientSecret) },
  );
  expect(res.status).toBe(400);
  expect(res.body.error).toBe("invalid_request");
  expect(await snapshotDatabase(t.deps.db)).toEqual(before);
});

test("NUL in tRPC input is INVALID_FORM_BODY on every procedure", async () => {
  const before = await snapshotDatabase(t.deps.db);
  const login = await trpcHttp(t, "auth.login", { input: { login: "a\u0000b", password: "password123" } });
  expect(login.status).toBe(400);
  expect(login.body.error.data.apiCode).toBe("INVALID_FORM_BODY");
  const create = await trpcHttp(t, "applications.create", {
    token: owner.token,
    input: { name: "a\u0000b" },
  });
  expect(create.status).toBe(400);
  expect(create.body.error.data.apiCode).toBe("INVALID_FORM_BODY");
  const described = await trpcHttp(t, "applications.create", {
    token: owner.token,
    input: { name: "ok", description: "x\u0000" },
  });
  expect(described.status).toBe(400);
  expect(await snapshotDatabase(t.deps.db)).toEqual(before);
});

test("NUL in a page form is a 400 page", async () => {
  const csrf = "c".repeat(43);
  const res = await t.request("/login", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: "http://localhost:3000",
      cookie: `flx_csrf=${csrf}`,
    },
    body: `csrf_token=${csrf}&login=a%00b&password=password123`,
  });
  expect(res.status).toBe(400);
  expect(res.headers.get("content-type")).toContain("text/html");
});

test("a non-ASCII return_to is ignored: sign-up lands on / instead of failing after the write", async () => {
  const csrf = "c".repeat(43);
  for (const returnTo of ["/café☃", "/。evil.com", "/／/evil.com", "/∕∕evil.com"]) {
    const name = `ret_${Math.random().toString(36).slice(2, 8)}`;
    const res = await t.request("/register", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "http://localhost:3000",
        cookie: `flx_csrf=${csrf}`,
      },
      body: new URLSearchParams({
        csrf_token: csrf,
        username: name,
        email: `${name}@example.com`,
        password: "password123",
        return_to: returnTo,
      }).toString(),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    expect(res.headers.get("set-cookie")).toContain("flx_session=");
  }
});
