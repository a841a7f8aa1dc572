// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase64urlNoPadding } from "@oslojs/encoding";
import { createLocalJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";
import { computeS256Challenge } from "../src/oauth/pkce.ts";
import { isEncrypted } from "../src/secret-key.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp, TEST_ISSUER } from "./support/harness.ts";
import { bearerGet, clientPost, postForm, refresh, setupClient, VERIFIER } from "./support/oauth-flow.ts";

/** OpenID Connect (SPEC §13): ID tokens, claims by scope, userinfo, prompt=login and max_age. */
const t = await createTestApp({ ID_TOKEN_TTL_SECONDS: "900" });
afterAll(() => t.close());
const { client } = await setupClient(t);
const redirectUri = client.redirectUris[0] as string;
const alice = await registerUser(t);
const signedInAt = Math.floor(t.clock.now().getTime() / 1000);
t.clock.advance(120);

async function jwks() {
  return createLocalJWKSet((await (await t.request("/v1/oauth2/keys")).json()) as any);
}

async function verify(idToken: string): Promise<JWTPayload> {
  const { payload, protectedHeader } = await jwtVerify(idToken, await jwks(), {
    issuer: TEST_ISSUER,
    audience: client.id,
    algorithms: ["RS256"],
    currentDate: t.clock.now(),
  });
  expect(protectedHeader.alg).toBe("RS256");
  return payload;
}

function atHash(accessToken: string): string {
  return encodeBase64urlNoPadding(sha256(new TextEncoder().encode(accessToken)).slice(0, 16));
}

async function authorize(fields: Record<string, string>) {
  const response = await t.request("/v1/oauth2/authorize/consent", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: alice.token },
    body: JSON.stringify({
      client_id: client.id,
      redirect_uri: redirectUri,
      response_type: "code",
      code_challenge: computeS256Challenge(VERIFIER),
      code_challenge_method: "S256",
      ...fields,
    }),
  });
  const body: any = await response.json();
  return new URL(body.redirect_to);
}

async function tokensFor(scope: string, extra: Record<string, string> = {}) {
  const code = (await authorize({ scope, ...extra })).searchParams.get("code") as string;
  const res = await clientPost(t, client, "/v1/oauth2/token", {
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    code_verifier: VERIFIER,
  });
  expect(res.status).toBe(200);
  return res.body;
}

describe("ID tokens", () => {
  test("iss, sub, aud, iat, exp (ID_TOKEN_TTL_SECONDS), auth_time, nonce and at_hash; signed by a published key", async () => {
    const tokens = await tokensFor("openid", { nonce: "n-0S6_WzA2Mj" });
    const header = decodeProtectedHeader(tokens.id_token);
    const keys: any = await (await t.request("/v1/oauth2/keys")).json();
    expect(keys.keys.map((key: any) => key.kid)).toContain(header.kid);
    for (const key of keys.keys) {
      expect(key.d).toBeUndefined();
      expect(key.kty).toBe("RSA");
    }
    const claims = await verify(tokens.id_token);
    const now = Math.floor(t.clock.now().getTime() / 1000);
    expect(claims).toEqual({
      iss: TEST_ISSUER,
      sub: alice.user.id,
      aud: client.id,
      iat: now,
      exp: now + 900,
      auth_time: signedInAt,
      nonce: "n-0S6_WzA2Mj",
      at_hash: atHash(tokens.access_token),
    });
  });

  test("claims by scope: identify adds preferred_username and name, email adds email and email_verified", async () => {
    const identify = await verify((await tokensFor("openid identify")).id_token);
    expect(identify.preferred_username).toBe(alice.row.username);
    expect(identify.name).toBe(alice.row.global_name ?? alice.row.username);
    expect(identify.email).toBeUndefined();
    const email = await verify((await tokensFor("openid identify email")).id_token);
    expect(email.email).toBe(alice.row.email);
    expect(email.email_verified).toBe(alice.row.verified);
    const profile = await verify((await tokensFor("openid profile")).id_token);
    expect(profile.preferred_username).toBe(alice.row.username);
  });

  test("without openid nothing changes: no id_token", async () => {
    const tokens = await tokensFor("identify email");
    expect(tokens.id_token).toBeUndefined();
    expect(Object.keys(tokens).sort()).toEqual([
      "access_token",
      "expires_in",
      "refresh_token",
      "scope",
      "token_type",
    ]);
  });

  test("a refresh returns a new ID token: same sub, aud and auth_time, no nonce, at_hash of the new access token", async () => {
    const first = await tokensFor("openid identify", { nonce: "abc" });
    const original = await verify(first.id_token);
    t.clock.advance(60);
    const refreshed = await refresh(t, client, first.refresh_token);
    expect(refreshed.status).toBe(200);
    const claims = await verify(refreshed.body.id_token);
    expect(claims.sub).toBe(original.sub as string);
    expect(claims.aud).toBe(original.aud as string);
    expect(claims.auth_time).toBe(original.auth_time as number);
    expect(claims.iat).toBe((original.iat as number) + 60);
    expect(claims.nonce).toBeUndefined();
    expect(claims.at_hash).toBe(atHash(refreshed.body.access_token));
    // Narrowed to a scope without openid: an access token only.
    const narrowed = await refresh(t, client, refreshed.body.refresh_token, { scope: "identify" });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.id_token).toBeUndefined();
  });

  test("the private key is stored only encrypted under SECRET_KEY (SPEC §16)", async () => {
    const rows = await t.deps.db.selectFrom("signing_keys").select(["private_key", "public_jwk"]).execute();
    expect(rows.length).toBe(1);
    for (const row of rows) {
      expect(isEncrypted(row.private_key)).toBe(true);
      expect(row.private_key).not.toContain("PRIVATE KEY");
      expect(JSON.parse(row.public_jwk).d).toBeUndefined();
    }
  });

  test("the JWKS and discovery answer CORS *", async () => {
    for (const path of ["/v1/oauth2/keys", "/.well-known/openid-configuration"]) {
      const res = await t.request(path, { headers: { origin: "https://anywhere.example" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
    }
    expect((await t.request("/v1/oauth2/keys")).headers.get("content-type")).toContain(
      "application/jwk-set+json",
    );
  });
});

describe("userinfo (OIDC Core §5.3)", () => {
  test("openid alone → {sub}; with identify and email → the claims too; GET and POST", async () => {
    const onlyOpenid = await tokensFor("openid");
    for (const method of ["GET", "POST"]) {
      const res = await t.request("/v1/oauth2/userinfo", {
        method,
        headers: { authorization: `Bearer ${onlyOpenid.access_token}` },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ sub: alice.user.id });
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
    const full = await tokensFor("openid identify email");
    const res = await bearerGet(t, "/v1/oauth2/userinfo", full.access_token);
    expect(res.body).toMatchObject({
      sub: alice.user.id,
      id: alice.user.id,
      username: alice.row.username,
      preferred_username: alice.row.username,
      email: alice.row.email,
      email_verified: alice.row.verified,
    });
  });

  test("a token without identify or openid is refused; bad tokens get CORS headers too", async () => {
    const guilds = await tokensFor("guilds");
    const refused = await bearerGet(t, "/v1/oauth2/userinfo", guilds.access_token);
    expect(refused.status).toBe(403);
    const bad = await t.request("/v1/oauth2/userinfo", {
      headers: { authorization: `Bearer ${"x".repeat(43)}` },
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("access-control-allow-origin")).toBe("*");
    const preflight = await t.request("/v1/oauth2/userinfo", {
      method: "OPTIONS",
      headers: { origin: "https://spa.example", "access-control-request-method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("Authorization");
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();
  });
});

describe("prompt=login and max_age", () => {
  const cookie = { cookie: `flx_session=${alice.token}` };
  const query = (extra: Record<string, string>) =>
    `/v1/oauth2/authorize?${new URLSearchParams({
      client_id: client.id,
      redirect_uri: redirectUri,
      response_type: "code",
      scope: "openid",
      ...extra,
    })}`;

  test("prompt=login sends a signed-in user to sign in again, and back without prompt=login", async () => {
    const res = await t.request(query({ prompt: "login", state: "s" }), { headers: cookie });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location") as string, TEST_ISSUER);
    expect(location.pathname).toBe("/login");
    const back = new URL(location.searchParams.get("return_to") as string, TEST_ISSUER);
    expect(back.pathname).toBe("/v1/oauth2/authorize");
    expect(back.searchParams.get("prompt")).toBeNull();
    expect(back.searchParams.get("state")).toBe("s");
    // Coming back with the same session shows the consent page.
    const consent = await t.request(back.pathname + back.search, { headers: cookie });
    expect(consent.status).toBe(200);
  });

  test("max_age: a sign-in older than it means signing in again (or login_required with prompt=none)", async () => {
    const fresh = await t.request(query({ max_age: "3600" }), { headers: cookie });
    expect(fresh.status).toBe(200);
    const stale = await t.request(query({ max_age: "60" }), { headers: cookie });
    expect(stale.status).toBe(302);
    expect(stale.headers.get("location")).toStartWith("/login?");
    const silent = await t.request(query({ max_age: "60", prompt: "none", state: "q" }), { headers: cookie });
    const url = new URL(silent.headers.get("location") as string);
    expect(url.searchParams.get("error")).toBe("login_required");
    expect(url.searchParams.get("state")).toBe("q");
  });

  test("the JSON consent route refuses a sign-in older than max_age with login_required", async () => {
    const url = await authorize({ scope: "openid", max_age: "60", state: "m" });
    expect(url.searchParams.get("error")).toBe("login_required");
    expect(url.searchParams.get("state")).toBe("m");
    expect(url.searchParams.get("code")).toBeNull();
    expect((await authorize({ scope: "openid", max_age: "3600" })).searchParams.get("code")).toBeString();
  });

  test("a fresh sign-in satisfies max_age and is the ID token's auth_time", async () => {
    const bob = await registerUser(t);
    const bobAt = Math.floor(t.clock.now().getTime() / 1000);
    t.clock.advance(5);
    const response = await t.request("/v1/oauth2/authorize/consent", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: bob.token },
      body: JSON.stringify({
        client_id: client.id,
        redirect_uri: redirectUri,
        response_type: "code",
        scope: "openid",
        max_age: "30",
        code_challenge: computeS256Challenge(VERIFIER),
        code_challenge_method: "S256",
      }),
    });
    const code = new URL(((await response.json()) as any).redirect_to).searchParams.get("code") as string;
    const tokens = await postForm(
      t,
      "/v1/oauth2/token",
      { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: VERIFIER },
      { authorization: `Basic ${btoa(`${client.id}:${client.clientSecret}`)}` },
    );
    expect((await verify(tokens.body.id_token)).auth_time).toBe(bobAt);
  });
});
