import { afterAll, describe, expect, test } from "bun:test";
import { hashToken } from "../src/crypto.ts";
import { sessionCsrfToken } from "../src/http/csrf.ts";
import { sessionCookie } from "../src/http/page-session.ts";
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
    const page = await res.text();
    expect(page).toContain("This link to sign in with an app is broken or out of date");
    expect(page).toContain('<a href="/">Go to the Fluxer home page</a>');
    // The RFC error stays available to developers, in small print under the plain words.
    expect(page).toMatch(/<p class="detail">For developers: <code>invalid_(client|request): [^<]+<\/code>/);
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
    ["unknown prompt", { prompt: "select_account" }, "invalid_request"],
    ["prompt=none with another value", { prompt: "none login" }, "invalid_request"],
    ["malformed max_age", { max_age: "-1" }, "invalid_request"],
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
    expect(res.headers.get("cache-control")).toBe("no-store");
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

const formPost = (path: string, fields: [string, string][], headers: Record<string, string> = {}) =>
  t.request(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: TEST_ISSUER, ...headers },
    body: new URLSearchParams(fields).toString(),
  });

function consentFields(token: string, overrides: Record<string, string | null> = {}): [string, string][] {
  const fields: [string, string][] = [...new URLSearchParams(authorizeQuery(overrides))].filter(
    ([key]) => !(key in overrides && overrides[key] === null),
  );
  return [["csrf_token", sessionCsrfToken(token)], ...fields];
}

describe("consent page and form POST", () => {
  test("signed out → redirect to /login with a same-origin return_to", async () => {
    const query = authorizeQuery();
    const res = await t.request(`/v1/oauth2/authorize?${query}`);
    expect(res.status).toBe(302);
    const target = res.headers.get("location") as string;
    expect(target).toStartWith("/login?return_to=");
    const returnTo = new URL(target, TEST_ISSUER).searchParams.get("return_to");
    expect(returnTo).toBe(`/v1/oauth2/authorize?${query}`);
  });

  test("signed in → consent page with app, owner, one checkbox per scope, CSRF token; security headers", async () => {
    const { token } = await registerUser(t);
    const res = await t.request(`/v1/oauth2/authorize?${authorizeQuery()}`, {
      headers: { cookie: cookieFor(token) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const page = await res.text();
    expect(page).toContain("Good App");
    expect(page).toContain("appowner");
    expect(page).toContain(`value="${sessionCsrfToken(token)}"`);
    expect(page).toContain('name="grant" value="email"');
    expect(page).toContain('name="grant" value="guilds"');
    // identify is shown but cannot be unticked.
    expect(page).toContain('type="hidden" name="grant" value="identify"');
  });

  test("approve with a narrowed scope set → 303 with code, state, iss; code and consent store the narrowed set", async () => {
    const { token, user } = await registerUser(t);
    const res = await formPost(
      "/v1/oauth2/authorize",
      [
        ...consentFields(token),
        ["grant", "identify"],
        ["grant", "guilds"],
        ["grant", "admin"],
        ["action", "approve"],
      ],
      { cookie: cookieFor(token) },
    );
    expect(res.status).toBe(303);
    const url = location(res);
    expect(url.searchParams.get("state")).toBe("st-123");
    expect(url.searchParams.get("iss")).toBe(TEST_ISSUER);
    expect(url.searchParams.get("tenant")).toBe("7");
    const code = url.searchParams.get("code") as string;
    const row = await t.deps.db
      .selectFrom("authorization_codes")
      .selectAll()
      .where("code_hash", "=", hashToken(code))
      .executeTakeFirstOrThrow();
    expect(row.scopes).toEqual(["identify", "guilds"]);
    expect(row.user_id).toBe(user.id);
    const consent = await t.deps.db
      .selectFrom("authorizations")
      .selectAll()
      .where("user_id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(consent.scopes).toEqual(["identify", "guilds"]);

    // A later approval widens the remembered consent (canonical order, no duplicates).
    await formPost(
      "/v1/oauth2/authorize",
      [...consentFields(token, { scope: "email identify" }), ["grant", "email"], ["action", "approve"]],
      { cookie: cookieFor(token) },
    );
    const widened = await t.deps.db
      .selectFrom("authorizations")
      .select("scopes")
      .where("user_id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(widened.scopes).toEqual(["identify", "email", "guilds"]);
  });

  test("deny → 303 access_denied with state; nothing written", async () => {
    const { token } = await registerUser(t);
    const codes = await count("authorization_codes");
    const consents = await count("authorizations");
    const res = await formPost("/v1/oauth2/authorize", [...consentFields(token), ["action", "deny"]], {
      cookie: cookieFor(token),
    });
    expect(res.status).toBe(303);
    const url = location(res);
    expect(url.searchParams.get("error")).toBe("access_denied");
    expect(url.searchParams.get("state")).toBe("st-123");
    expect(url.searchParams.get("iss")).toBe(TEST_ISSUER);
    expect(await count("authorization_codes")).toBe(codes);
    expect(await count("authorizations")).toBe(consents);
  });

  test.each([
    ["missing CSRF token", (f: [string, string][]) => f.filter(([k]) => k !== "csrf_token"), {}],
    [
      "CSRF token of another session",
      (f: [string, string][]) => [["csrf_token", sessionCsrfToken("flx_".padEnd(40, "x"))], ...f.slice(1)],
      {},
    ],
    ["cross-origin Origin", (f: [string, string][]) => f, { origin: "https://evil.example" }],
    ["Origin null", (f: [string, string][]) => f, { origin: "null" }],
    [
      "Origin null and cross-site",
      (f: [string, string][]) => f,
      { origin: "null", "sec-fetch-site": "cross-site" },
    ],
    [
      "cross-site Sec-Fetch-Site",
      (f: [string, string][]) => f,
      { origin: "", "sec-fetch-site": "cross-site" },
    ],
  ] as const)("consent POST with %s is refused and writes nothing", async (_name, mutate, headers) => {
    const { token } = await registerUser(t);
    const codes = await count("authorization_codes");
    const consents = await count("authorizations");
    const fields = mutate([...consentFields(token), ["grant", "email"], ["action", "approve"]]);
    const init: Record<string, string> = { cookie: cookieFor(token), ...headers };
    const res = await t.request("/v1/oauth2/authorize", {
      method: "POST",
      headers: Object.fromEntries(
        Object.entries({
          "content-type": "application/x-www-form-urlencoded",
          origin: TEST_ISSUER,
          ...init,
        }).filter(([, v]) => v !== ""),
      ),
      body: new URLSearchParams(fields as [string, string][]).toString(),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("location")).toBeNull();
    expect(await count("authorization_codes")).toBe(codes);
    expect(await count("authorizations")).toBe(consents);
  });

  test("consent POST without a session → 401 page; bad bodies → 4xx page, never 500", async () => {
    const { token } = await registerUser(t);
    const noSession = await formPost("/v1/oauth2/authorize", [
      ...consentFields(token),
      ["action", "approve"],
    ]);
    expect(noSession.status).toBe(401);
    const wrongType = await t.request("/v1/oauth2/authorize", {
      method: "POST",
      headers: { "content-type": "application/json", origin: TEST_ISSUER, cookie: cookieFor(token) },
      body: "{}",
    });
    expect(wrongType.status).toBe(415);
    const badUtf8 = await t.request("/v1/oauth2/authorize", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookieFor(token) },
      body: new Uint8Array([0x61, 0x3d, 0xff, 0xfe]),
    });
    expect(badUtf8.status).toBe(400);
    const huge = await formPost("/v1/oauth2/authorize", [["x", "a".repeat(200_000)]], {
      cookie: cookieFor(token),
    });
    expect(huge.status).toBe(413);
    const noAction = await formPost("/v1/oauth2/authorize", consentFields(token), {
      cookie: cookieFor(token),
    });
    expect(noAction.status).toBe(400);
    const twoActions = await formPost(
      "/v1/oauth2/authorize",
      [...consentFields(token), ["action", "approve"], ["action", "deny"]],
      { cookie: cookieFor(token) },
    );
    expect(twoActions.status).toBe(400);
  });

  test("the form is validated again: a tampered redirect_uri is an error page, not a redirect", async () => {
    const { token } = await registerUser(t);
    const res = await formPost(
      "/v1/oauth2/authorize",
      [...consentFields(token, { redirect_uri: "https://evil.example/cb" }), ["action", "approve"]],
      { cookie: cookieFor(token) },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
  });
});

describe("prompt=none", () => {
  test("without a session → login_required", async () => {
    const res = await t.request(`/v1/oauth2/authorize?${authorizeQuery({ prompt: "none" })}`);
    const url = location(res);
    expect(url.searchParams.get("error")).toBe("login_required");
    expect(url.searchParams.get("state")).toBe("st-123");
    expect(url.searchParams.get("iss")).toBe(TEST_ISSUER);
  });

  test("without (enough) remembered consent → consent_required; with it → a code, silently", async () => {
    const { token, user } = await registerUser(t);
    const silent = (scope: string) =>
      t.request(`/v1/oauth2/authorize?${authorizeQuery({ prompt: "none", scope })}`, {
        headers: { cookie: cookieFor(token) },
      });
    expect(location(await silent("identify")).searchParams.get("error")).toBe("consent_required");

    await formPost(
      "/v1/oauth2/authorize",
      [...consentFields(token, { scope: "identify email" }), ["grant", "email"], ["action", "approve"]],
      { cookie: cookieFor(token) },
    );
    expect(location(await silent("identify email guilds")).searchParams.get("error")).toBe(
      "consent_required",
    );
    const ok = location(await silent("identify"));
    expect(ok.searchParams.get("error")).toBeNull();
    expect(ok.searchParams.get("state")).toBe("st-123");
    expect(ok.searchParams.get("iss")).toBe(TEST_ISSUER);
    const row = await t.deps.db
      .selectFrom("authorization_codes")
      .selectAll()
      .where("code_hash", "=", hashToken(ok.searchParams.get("code") as string))
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ user_id: user.id, scopes: ["identify"], code_challenge_method: "S256" });
  });
});

describe("escaping", () => {
  test("<script> in application name, description and state is escaped on the consent page", async () => {
    const evil = await insertTestApplication(t, {
      ownerId: owner.user.id,
      name: "<script>alert('name')</script>",
      description: '"><script>alert(1)</script><img src=x onerror=alert(2)>',
    });
    const { token } = await registerUser(t);
    const query = new URLSearchParams({
      client_id: evil.id,
      redirect_uri: evil.redirectUris[0] as string,
      response_type: "code",
      scope: "identify",
      state: '"><script>alert("state")</script>',
    });
    const res = await t.request(`/v1/oauth2/authorize?${query}`, { headers: { cookie: cookieFor(token) } });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).not.toContain("<script>");
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;");
    expect(page).toContain('value="&quot;&gt;&lt;script&gt;alert(&quot;state&quot;)&lt;/script&gt;"');
  });

  test("icon, terms and privacy links are shown; a javascript: URL never becomes a link", async () => {
    const linked = await insertTestApplication(t, { ownerId: owner.user.id, name: "Linked" });
    await t.deps.db
      .updateTable("applications")
      .set({
        icon_hash: "0123abcd",
        terms_of_service_url: "https://linked.example/terms?a=1&b=2",
        privacy_policy_url: "javascript:alert(1)",
      })
      .where("id", "=", linked.id)
      .execute();
    const { token } = await registerUser(t);
    const query = new URLSearchParams({
      client_id: linked.id,
      redirect_uri: linked.redirectUris[0] as string,
      response_type: "code",
      scope: "identify",
    });
    const page = await (
      await t.request(`/v1/oauth2/authorize?${query}`, { headers: { cookie: cookieFor(token) } })
    ).text();
    expect(page).toContain(`src="/icons/${linked.id}/0123abcd"`);
    expect(page).toContain('href="https://linked.example/terms?a=1&amp;b=2"');
    expect(page).not.toContain("javascript:");
  });

  test("error descriptions on the error page are escaped", async () => {
    const res = await t.request(`/v1/oauth2/authorize?client_id=<script>x</script>`);
    expect(await res.text()).not.toContain("<script>x");
  });
});

describe("sign-in and sign-up pages", () => {
  async function loginPage(
    query = "",
  ): Promise<{ csrf: string; cookie: string; page: string; res: Response }> {
    const res = await t.request(`/login${query}`);
    expect(res.status).toBe(200);
    const setCookie = res.headers.get("set-cookie") as string;
    expect(setCookie).toContain("HttpOnly");
    const cookie = setCookie.split(";")[0] as string;
    const page = await res.text();
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page)?.[1] as string;
    return { csrf, cookie, page, res };
  }

  test("sign-in sets an HttpOnly SameSite=Lax session cookie and 303s to a same-origin return_to", async () => {
    const { row, password } = await registerUser(t);
    const returnTo = `/v1/oauth2/authorize?${authorizeQuery()}`;
    const { csrf, cookie, page, res } = await loginPage(`?return_to=${encodeURIComponent(returnTo)}`);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page).toContain(`name="return_to" value="${returnTo.replaceAll("&", "&amp;")}"`);
    const signIn = await formPost(
      "/login",
      [
        ["csrf_token", csrf],
        ["return_to", returnTo],
        ["login", row.username],
        ["password", password],
      ],
      { cookie },
    );
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get("location")).toBe(returnTo);
    const session = signIn.headers.get("set-cookie") as string;
    expect(session).toMatch(/^flx_session=flx_[A-Za-z0-9]{36}; /);
    expect(session).toContain("HttpOnly");
    expect(session).toContain("SameSite=Lax");
    expect(session).toContain("Path=/");
    expect(session).not.toContain("Secure"); // http issuer in tests
    const token = session.slice("flx_session=".length, session.indexOf(";"));
    const consent = await t.request(returnTo, { headers: { cookie: cookieFor(token) } });
    expect(consent.status).toBe(200);
  });

  test.each([
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "evil",
  ])("a return_to of %p is ignored (no open redirect)", async (returnTo) => {
    const { row, password } = await registerUser(t);
    const { csrf, cookie, page } = await loginPage(`?return_to=${encodeURIComponent(returnTo)}`);
    expect(page).not.toContain('name="return_to"');
    const res = await formPost(
      "/login",
      [
        ["csrf_token", csrf],
        ["return_to", returnTo],
        ["login", row.username],
        ["password", password],
      ],
      { cookie },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
  });

  test("wrong password → 401 form again, no session; missing CSRF or cross-origin → 403", async () => {
    const { row } = await registerUser(t);
    const { csrf, cookie } = await loginPage();
    const fields: [string, string][] = [
      ["csrf_token", csrf],
      ["login", row.username],
      ["password", "wrong password"],
    ];
    const wrong = await formPost("/login", fields, { cookie });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie") ?? "").not.toContain("flx_session");
    expect(await wrong.text()).toContain("Invalid login or password");
    expect((await formPost("/login", fields.slice(1), { cookie })).status).toBe(403);
    expect((await formPost("/login", fields)).status).toBe(403); // token without its cookie
    expect((await formPost("/login", fields, { cookie, origin: "https://evil.example" })).status).toBe(403);
  });

  test("sign-up creates the user and a session; invalid input re-renders escaped, writes nothing", async () => {
    const res = await t.request("/register");
    const cookie = (res.headers.get("set-cookie") as string).split(";")[0] as string;
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(await res.text())?.[1] as string;
    const bad = await formPost(
      "/register",
      [
        ["csrf_token", csrf],
        ["username", "<b>x</b>"],
        ["email", "a@example.com"],
        ["password", "password123"],
      ],
      { cookie },
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("&lt;b&gt;x&lt;/b&gt;");
    const ok = await formPost(
      "/register",
      [
        ["csrf_token", csrf],
        ["username", "pageuser"],
        ["email", "pageuser@example.com"],
        ["password", "password123"],
        ["return_to", "/v1/oauth2/authorize?x=1"],
      ],
      { cookie },
    );
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/v1/oauth2/authorize?x=1");
    expect(ok.headers.get("set-cookie")).toMatch(/^flx_session=flx_/);
    const taken = await formPost(
      "/register",
      [
        ["csrf_token", csrf],
        ["username", "PageUser"],
        ["email", "other@example.com"],
        ["password", "password123"],
      ],
      { cookie },
    );
    expect(taken.status).toBe(409);
  });

  test("an https issuer marks the session cookie Secure", () => {
    // A second test app would need a second PostgreSQL schema in one process, which the migrator's
    // table detection confuses; the cookie only depends on the issuer, so check it directly.
    const deps = { ...t.deps, config: { ...t.deps.config, issuer: "https://auth.example" } };
    expect(sessionCookie(deps, "flx_x")).toContain("; Secure");
    expect(sessionCookie(t.deps, "flx_x")).not.toContain("Secure");
  });
});

describe("https issuers use __Host- cookies", () => {
  test("sign-in sets __Host-flx_session with Secure, and a planted plain flx_session is ignored", async () => {
    const https = await createTestApp({ ISSUER: "https://auth.example" });
    try {
      const user = await registerUser(https);
      const page = await https.request("/login", { headers: { "sec-fetch-site": "same-origin" } });
      const csrfCookie = page.headers.get("set-cookie") ?? "";
      expect(csrfCookie).toStartWith("__Host-flx_csrf=");
      expect(csrfCookie).toContain("; Secure");
      const csrf = /__Host-flx_csrf=([^;]+)/.exec(csrfCookie)?.[1] ?? "";
      const signIn = await https.request("/login", {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          origin: "https://auth.example",
          cookie: `__Host-flx_csrf=${csrf}`,
        },
        body: new URLSearchParams({
          csrf_token: csrf,
          login: user.user.username,
          password: user.password,
        }).toString(),
        redirect: "manual",
      });
      expect(signIn.status).toBe(303);
      const sessionCookie = signIn.headers.get("set-cookie") ?? "";
      expect(sessionCookie).toStartWith("__Host-flx_session=");
      expect(sessionCookie).toContain("; Secure");
      expect(sessionCookie).toContain("Path=/");
      // A cookie without the prefix (what a sibling subdomain could set) does not sign anyone in.
      const planted = await https.request("/", { headers: { cookie: `flx_session=${user.token}` } });
      expect(await planted.text()).not.toContain(user.user.username);
      const real = await https.request("/", { headers: { cookie: `__Host-flx_session=${user.token}` } });
      expect(await real.text()).toContain(user.user.username);
    } finally {
      await https.close();
    }
  });
});
