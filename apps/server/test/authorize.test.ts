import { afterAll, describe, expect, test } from "bun:test";
import { hashToken } from "../src/crypto.ts";
import { sessionCsrfToken } from "../src/http/csrf.ts";
import { insertTestApplication, registerUser } from "./support/fixtures.ts";
import { createTestApp, TEST_ISSUER } from "./support/harness.ts";

const t = await createTestApp();
afterAll(() => t.close());

const owner = await registerUser(t, { username: "appowner" });
const REDIRECT = "https://client.example/callback?tenant=7";
const app = await insertTestApplication(t, {
  ownerId: owner.user.id,
  name: "Good App",
  redirectUris: [REDIRECT, "http://127.0.0.1:9999/cb"],
});
const CHALLENGE = "E9Melhoe2OwvFrEMTJguCQGfYmOYw-zxY6H5jkmjhyk";

function authorizeQuery(overrides: Record<string, string | null> = {}): string {
  const params = new URLSearchParams();
  const base: Record<string, string | null> = {
    client_id: app.id,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: "identify email guilds",
    state: "st-123",
    code_challenge: CHALLENGE,
    code_challenge_method: "S256",
    ...overrides,
  };
  for (const [key, value] of Object.entries(base)) if (value !== null) params.set(key, value);
  return params.toString();
}

const cookieFor = (token: string) => `flx_session=${token}`;

async function count(table: "authorization_codes" | "authorizations"): Promise<number> {
  const row = await t.deps.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function location(res: Response): URL {
  const value = res.headers.get("location");
  expect(value).not.toBeNull();
  return new URL(value as string);
}

describe("GET /v1/oauth2/authorize: errors that must not redirect", () => {
  test.each([
    ["unknown client_id", { client_id: "123456789012345678" }],
    ["client_id that overflows int8", { client_id: "99999999999999999999" }],
    ["non-numeric client_id", { client_id: "abc" }],
    ["missing client_id", { client_id: null }],
    ["missing redirect_uri", { redirect_uri: null }],
    ["unregistered redirect_uri", { redirect_uri: "https://evil.example/callback" }],
    [
      "redirect_uri differing only by a trailing slash",
      { redirect_uri: "https://client.example/callback/?tenant=7" },
    ],
    ["redirect_uri without the registered query", { redirect_uri: "https://client.example/callback" }],
  ])("%s → 400 error page, no Location", async (_name, overrides) => {
    const res = await t.request(`/v1/oauth2/authorize?${authorizeQuery(overrides)}`, {
      headers: { accept: "text/html" },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toStartWith("text/html");
    expect(await res.text()).toContain("Invalid authorization request");
  });

  test("a duplicated client_id or redirect_uri is not redirected either", async () => {
    for (const name of ["client_id", "redirect_uri"]) {
      const query = `${authorizeQuery()}&${name}=${encodeURIComponent(name === "client_id" ? app.id : REDIRECT)}`;
      const res = await t.request(`/v1/oauth2/authorize?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
    }
  });

  test("a client asking for JSON gets the RFC 6749 error object", async () => {
    const res = await t.request(`/v1/oauth2/authorize?${authorizeQuery({ client_id: "1" })}`, {
      headers: { accept: "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.json()).toEqual({ error: "invalid_client", error_description: "Unknown client_id" });
  });
});

describe("GET /v1/oauth2/authorize: redirected errors", () => {
  test.each([
    ["bad response_type", { response_type: "token" }, "unsupported_response_type"],
    ["missing response_type", { response_type: null }, "invalid_request"],
    ["unknown scope", { scope: "identify admin" }, "invalid_scope"],
    ["empty scope", { scope: null }, "invalid_scope"],
    ["bad PKCE method", { code_challenge_method: "S512" }, "invalid_request"],
    ["malformed S256 challenge", { code_challenge: "short" }, "invalid_request"],
    ["method without challenge", { code_challenge: null }, "invalid_request"],
    ["unknown prompt", { prompt: "login" }, "invalid_request"],
    ["response_mode other than query", { response_mode: "fragment" }, "invalid_request"],
  ])("%s → the error at the redirect URI with state and iss", async (_name, overrides, error) => {
    const res = await t.request(`/v1/oauth2/authorize?${authorizeQuery(overrides)}`);
    expect(res.status).toBe(302);
    const url = location(res);
    expect(`${url.origin}${url.pathname}`).toBe("https://client.example/callback");
    expect(url.searchParams.get("tenant")).toBe("7");
    expect(url.searchParams.get("error")).toBe(error);
    expect(url.searchParams.get("error_description")).toBeTruthy();
    expect(url.searchParams.get("state")).toBe("st-123");
    expect(url.searchParams.get("iss")).toBe(TEST_ISSUER);
    expect(url.searchParams.get("code")).toBeNull();
  });

  test("a duplicated parameter (known client and redirect URI) → invalid_request", async () => {
    const res = await t.request(`/v1/oauth2/authorize?${authorizeQuery()}&scope=identify`);
    expect(res.status).toBe(302);
    const url = location(res);
    expect(url.searchParams.get("error")).toBe("invalid_request");
    expect(url.searchParams.get("error_description")).toContain("scope");
    expect(url.searchParams.get("state")).toBe("st-123");
  });

  test("a duplicated state is not echoed", async () => {
    const res = await t.request(`/v1/oauth2/authorize?${authorizeQuery()}&state=other`);
    const url = location(res);
    expect(url.searchParams.get("error")).toBe("invalid_request");
    expect(url.searchParams.has("state")).toBe(false);
  });

  test("malformed percent-encoding never yields a 500", async () => {
    const res = await t.request(`/v1/oauth2/authorize?client_id=%zz&redirect_uri=%E0%A4%A`);
    expect(res.status).toBe(400);
  });
});

describe("POST /v1/oauth2/authorize/consent (JSON, session token)", () => {
  const user = registerUser(t);
  const body = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      client_id: app.id,
      redirect_uri: REDIRECT,
      response_type: "code",
      scope: "identify email",
      state: "json-state",
      code_challenge: CHALLENGE,
      code_challenge_method: "S256",
      ...overrides,
    });
  const post = async (payload: string, token?: string, contentType = "application/json") =>
    t.request("/v1/oauth2/authorize/consent", {
      method: "POST",
      headers: {
        "content-type": contentType,
        ...(token === undefined ? {} : { authorization: token }),
      },
      body: payload,
    });

  test("returns redirect_to with a code bound to client, user, redirect URI, scopes and PKCE", async () => {
    const { token, user: u } = await user;
    const res = await post(body(), token);
    expect(res.status).toBe(200);
    const { redirect_to } = (await res.json()) as { redirect_to: string };
    const url = new URL(redirect_to);
    expect(url.searchParams.get("tenant")).toBe("7");
    expect(url.searchParams.get("state")).toBe("json-state");
    expect(url.searchParams.get("iss")).toBe(TEST_ISSUER);
    const code = url.searchParams.get("code") as string;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await t.deps.db
      .selectFrom("authorization_codes")
      .selectAll()
      .where("code_hash", "=", hashToken(code))
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      application_id: app.id,
      user_id: u.id,
      redirect_uri: REDIRECT,
      scopes: ["identify", "email"],
      code_challenge: CHALLENGE,
      code_challenge_method: "S256",
      consumed_at: null,
    });
    expect(new Date(row.expires_at).getTime() - new Date(row.created_at).getTime()).toBe(600_000);
    const codes = await t.deps.db.selectFrom("authorization_codes").select("code_hash").execute();
    expect(codes.map((c) => c.code_hash)).not.toContain(code);
  });

  test("Bearer prefix works; approve=false → access_denied; no code written", async () => {
    const { token } = await user;
    const before = await count("authorization_codes");
    const res = await post(body({ approve: false }), `Bearer ${token}`);
    const url = new URL(((await res.json()) as { redirect_to: string }).redirect_to);
    expect(url.searchParams.get("error")).toBe("access_denied");
    expect(url.searchParams.get("state")).toBe("json-state");
    expect(await count("authorization_codes")).toBe(before);
  });

  test("PKCE method omitted → plain is bound", async () => {
    const { token } = await user;
    const verifier = "a".repeat(43);
    const res = await post(body({ code_challenge: verifier, code_challenge_method: undefined }), token);
    const code = new URL(((await res.json()) as { redirect_to: string }).redirect_to).searchParams.get(
      "code",
    );
    const row = await t.deps.db
      .selectFrom("authorization_codes")
      .selectAll()
      .where("code_hash", "=", hashToken(code as string))
      .executeTakeFirstOrThrow();
    expect(row.code_challenge_method).toBe("plain");
    expect(row.code_challenge).toBe(verifier);
  });

  test("same validation: unregistered redirect → 400 JSON, bad scope → error redirect_to", async () => {
    const { token } = await user;
    const bad = await post(body({ redirect_uri: "https://evil.example/" }), token);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe("invalid_request");
    const scope = await post(body({ scope: "identify nope" }), token);
    const url = new URL(((await scope.json()) as { redirect_to: string }).redirect_to);
    expect(url.searchParams.get("error")).toBe("invalid_scope");
  });

  test("no or invalid session token → 401; malformed bodies → 4xx, never 500, nothing written", async () => {
    const { token } = await user;
    const before = await count("authorization_codes");
    expect((await post(body())).status).toBe(401);
    expect((await post(body(), "flx_nottherightlengthatall")).status).toBe(401);
    expect((await post("{not json", token)).status).toBe(400);
    expect((await post(body({ client_id: 42 }), token)).status).toBe(400);
    expect((await post(body({ approve: "yes" }), token)).status).toBe(400);
    expect((await post("[]", token)).status).toBe(400);
    expect((await post(body(), token, "text/plain")).status).toBe(415);
    expect(await count("authorization_codes")).toBe(before);
  });
});
