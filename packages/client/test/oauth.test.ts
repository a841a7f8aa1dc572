import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { pickFreePort } from "@fluxer/server/test/support/browser.ts";
import { startTestServer } from "@fluxer/server/test/support/harness.ts";
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import { createClient } from "../src/index.ts";
import { createOAuthClient, OAuthClientError, type TokenSet, type TokenStorage } from "../src/oauth.ts";

// The issuer must name the real port: `iss` in every callback is the configured issuer.
const port = pickFreePort();
const issuer = `http://127.0.0.1:${port}`;
const server = await startTestServer({ PORT: String(port), ISSUER: issuer });
afterAll(() => server.stop());

const REDIRECT_URI = "https://thirdparty.example/callback";
const anonymous = createClient({ url: issuer });
const { token: sessionToken, user } = await anonymous.auth.register.mutate({
  username: "oauth_user",
  email: "oauth_user@example.com",
  password: "password123",
});
const application = await createClient({ url: issuer, token: sessionToken }).applications.create.mutate({
  name: "Third Party",
  redirect_uris: [REDIRECT_URI],
});

interface SentRequest {
  path: string;
  authorization: string | null;
  form: URLSearchParams;
}

/** The real fetch, recording what the OAuth client sent: the tests count token requests with it. */
function recordingFetch() {
  const sent: SentRequest[] = [];
  const fetchAndRecord = async (url: string, init: RequestInit) => {
    sent.push({
      path: new URL(url).pathname,
      authorization: new Headers(init.headers).get("authorization"),
      form: new URLSearchParams(String(init.body)),
    });
    return fetch(url, init);
  };
  const tokenRequests = () => sent.filter((request) => request.path === "/v1/oauth2/token").length;
  return { sent, fetch: fetchAndRecord, tokenRequests };
}

function confidentialClient(fetchImpl?: ReturnType<typeof recordingFetch>["fetch"]) {
  return createOAuthClient({
    issuer,
    clientId: application.id,
    clientSecret: application.client_secret,
    redirectUri: REDIRECT_URI,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

/** The user approves through the JSON consent route, as a first-party frontend does; the callback URL. */
async function consent(authorizationUrl: string, options: { approve?: boolean } = {}): Promise<string> {
  const params = Object.fromEntries(new URL(authorizationUrl).searchParams);
  const response = await fetch(`${issuer}/v1/oauth2/authorize/consent`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: sessionToken },
    body: JSON.stringify({ ...params, approve: options.approve ?? true }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { redirect_to: string }).redirect_to;
}

/** A fresh grant through the whole front channel. */
async function signIn(client = confidentialClient()): Promise<TokenSet> {
  const request = await client.authorizationUrl({ scope: ["identify", "email"] });
  return client.exchangeCode(await consent(request.url), request);
}

async function userinfo(accessToken: string): Promise<Response> {
  return fetch(`${issuer}/v1/oauth2/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
}

function withParam(url: string, name: string, value: string | null): string {
  const changed = new URL(url);
  if (value === null) changed.searchParams.delete(name);
  else changed.searchParams.set(name, value);
  return changed.toString();
}

async function rejection(promise: Promise<unknown>): Promise<OAuthClientError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthClientError);
  return error as OAuthClientError;
}

describe("createOAuthClient against a live server", () => {
  test("code + PKCE S256: tampered state or iss is refused before any token request; then refresh, introspect, revoke", async () => {
    const recording = recordingFetch();
    const client = confidentialClient(recording.fetch);
    const request = await client.authorizationUrl({ scope: "identify email", nonce: "n-1" });

    const url = new URL(request.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${issuer}/v1/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: application.id,
      redirect_uri: REDIRECT_URI,
      response_type: "code",
      scope: "identify email",
      state: request.state,
      code_challenge: createHash("sha256").update(request.codeVerifier).digest("base64url"),
      code_challenge_method: "S256",
      nonce: "n-1",
    });
    expect(request.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(request.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const callback = await consent(request.url);
    expect(new URL(callback).searchParams.get("iss")).toBe(issuer);

    const tampered = [
      [withParam(callback, "state", "forged"), "invalid_state"],
      [withParam(callback, "state", null), "invalid_state"],
      [withParam(callback, "iss", "https://evil.example"), "invalid_issuer"],
      [withParam(callback, "iss", null), "invalid_issuer"],
    ] as const;
    for (const [tamperedUrl, expected] of tampered) {
      const error = await rejection(client.exchangeCode(tamperedUrl, request));
      expect(error.error).toBe(expected);
      expect(error.status).toBeNull();
    }
    const wrongState = await rejection(client.exchangeCode(callback, { ...request, state: "another" }));
    expect(wrongState.error).toBe("invalid_state");
    expect(recording.sent).toEqual([]);

    // The code was never presented, so it is still good.
    const tokens = await client.exchangeCode(callback, request);
    expect(recording.tokenRequests()).toBe(1);
    const exchange = recording.sent[0];
    expect(exchange?.authorization).toStartWith("Basic ");
    expect(exchange?.form.get("code_verifier")).toBe(request.codeVerifier);
    expect(exchange?.form.get("redirect_uri")).toBe(REDIRECT_URI);
    expect(tokens).toMatchObject({ token_type: "Bearer", scope: "identify email", expires_in: 604800 });
    expect(tokens.expires_at - Math.floor(Date.now() / 1000)).toBeWithin(604790, 604801);
    const me = await userinfo(tokens.access_token);
    expect(me.status).toBe(200);
    expect(((await me.json()) as { id: string }).id).toBe(user.id);

    const refreshed = await client.refresh(tokens.refresh_token ?? "", { scope: ["identify"] });
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.scope).toBe("identify");

    const active = await client.introspect(refreshed.access_token);
    expect(active).toMatchObject({
      active: true,
      client_id: application.id,
      sub: user.id,
      scope: "identify",
    });

    await client.revoke(refreshed.refresh_token ?? "", { tokenTypeHint: "refresh_token" });
    expect(await client.introspect(refreshed.access_token)).toEqual({ active: false });
    expect((await userinfo(refreshed.access_token)).status).toBe(401);
  });

  test("a denied consent throws the server's access_denied, after the iss and state checks", async () => {
    const recording = recordingFetch();
    const client = confidentialClient(recording.fetch);
    const request = await client.authorizationUrl({ scope: "identify" });
    const callback = await consent(request.url, { approve: false });
    expect(
      (await rejection(client.exchangeCode(withParam(callback, "iss", `${issuer}/x`), request))).error,
    ).toBe("invalid_issuer");
    const denied = await rejection(client.exchangeCode(callback, request));
    expect(denied.error).toBe("access_denied");
    expect(denied.error_description).toBeString();
    expect(recording.sent).toEqual([]);
  });
});

/** A public client: the SPA case (no secret, PKCE S256). */
const spa = await createClient({ url: issuer, token: sessionToken }).applications.create.mutate({
  name: "OIDC SPA",
  redirect_uris: [REDIRECT_URI],
  public_client: true,
});

describe("OpenID Connect: ID tokens are validated", () => {
  function spaClient(fetchImpl?: (url: string, init: RequestInit) => Promise<Response>) {
    return createOAuthClient({
      issuer,
      clientId: spa.id,
      redirectUri: REDIRECT_URI,
      ...(fetchImpl ? { fetch: fetchImpl } : {}),
    });
  }

  test("authorizationUrl makes a nonce for openid; exchangeCode and refresh return validated claims", async () => {
    const client = spaClient();
    const request = await client.authorizationUrl({ scope: "openid identify email", maxAge: 600 });
    expect(request.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const url = new URL(request.url);
    expect(url.searchParams.get("nonce")).toBe(request.nonce as string);
    expect(url.searchParams.get("max_age")).toBe("600");
    expect((await client.authorizationUrl({ scope: "identify" })).nonce).toBeUndefined();

    const tokens = await client.exchangeCode(await consent(request.url), request);
    expect(tokens.id_token).toBeString();
    expect(tokens.id_token_claims).toMatchObject({
      iss: issuer,
      sub: user.id,
      aud: spa.id,
      nonce: request.nonce,
      preferred_username: "oauth_user",
      email: "oauth_user@example.com",
    });
    const refreshed = await client.refresh(tokens.refresh_token as string);
    expect(refreshed.id_token_claims?.sub).toBe(user.id);
    expect(refreshed.id_token_claims?.nonce).toBeUndefined();
    expect(refreshed.id_token).not.toBe(tokens.id_token);
  });

  test("a nonce other than the request's is invalid_id_token", async () => {
    const client = spaClient();
    const request = await client.authorizationUrl({ scope: "openid" });
    const error = await rejection(
      client.exchangeCode(await consent(request.url), { ...request, nonce: "another-nonce" }),
    );
    expect(error.error).toBe("invalid_id_token");
    const missing = await client.authorizationUrl({ scope: "openid" });
    const { nonce: _dropped, ...withoutNonce } = missing;
    expect((await rejection(client.exchangeCode(await consent(missing.url), withoutNonce))).error).toBe(
      "invalid_id_token",
    );
  });

  /**
   * A server (or a network in between) that answers with an ID token the checks must refuse: the
   * token response and the JWKS are replaced by ones the test signs itself.
   */
  async function forgedExchange(
    claims: (real: Record<string, unknown>) => Record<string, unknown>,
    options: { publishKey: boolean } = { publishKey: true },
  ) {
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "forged", alg: "RS256", use: "sig" };
    const forgingFetch = async (url: string, init: RequestInit) => {
      const path = new URL(url).pathname;
      if (path === "/v1/oauth2/keys" && options.publishKey) return Response.json({ keys: [jwk] });
      const response = await fetch(url, init);
      if (path !== "/v1/oauth2/token" || !response.ok) return response;
      const body = (await response.json()) as Record<string, unknown>;
      const real = decodeJwt(String(body.id_token));
      body.id_token = await new SignJWT(claims(real))
        .setProtectedHeader({ alg: "RS256", kid: "forged" })
        .sign(privateKey);
      return Response.json(body);
    };
    const client = spaClient(forgingFetch);
    const request = await client.authorizationUrl({ scope: "openid" });
    return client.exchangeCode(await consent(request.url), request);
  }

  test("the forging harness itself: the real claims signed by a published key pass", async () => {
    const tokens = await forgedExchange((real) => real);
    expect(tokens.id_token_claims?.sub).toBe(user.id);
  });

  test.each([
    ["another issuer", (real: Record<string, unknown>) => ({ ...real, iss: "https://evil.example" })],
    ["another audience", (real: Record<string, unknown>) => ({ ...real, aud: "someone-else" })],
    [
      "an expired token",
      (real: Record<string, unknown>) => ({ ...real, iat: 1_000_000_000, exp: 1_000_000_600 }),
    ],
    ["a wrong at_hash", (real: Record<string, unknown>) => ({ ...real, at_hash: "AAAAAAAAAAAAAAAAAAAAAA" })],
    ["no nonce", (real: Record<string, unknown>) => ({ ...real, nonce: undefined })],
  ])("%s is invalid_id_token", async (_name, claims) => {
    const error = await rejection(forgedExchange(claims));
    expect(error.error).toBe("invalid_id_token");
    expect(error.status).toBeNull();
  });

  test("a signature by a key the issuer does not publish is invalid_id_token", async () => {
    const error = await rejection(forgedExchange((real) => real, { publishKey: false }));
    expect(error.error).toBe("invalid_id_token");
  });
});

describe("session(): single-flight refresh", () => {
  test("20 concurrent getAccessToken() calls on an expired session make exactly one token request; the family lives", async () => {
    const tokens = await signIn();
    const recording = recordingFetch();
    const client = confidentialClient(recording.fetch);
    const seen: TokenSet[] = [];
    const session = client.session(
      { ...tokens, expires_at: 0 },
      { onTokens: (next) => void seen.push(next) },
    );

    const accessTokens = await Promise.all(Array.from({ length: 20 }, () => session.getAccessToken()));
    expect(recording.tokenRequests()).toBe(1);
    expect(new Set(accessTokens).size).toBe(1);
    expect(accessTokens[0]).not.toBe(tokens.access_token);
    expect(seen.map((next) => next.access_token)).toEqual([accessTokens[0] as string]);
    expect(session.tokens.refresh_token).not.toBe(tokens.refresh_token);

    // Fresh now: no further request. And the family is alive: no reuse was detected.
    expect(await session.getAccessToken()).toBe(accessTokens[0] as string);
    expect(recording.tokenRequests()).toBe(1);
    const introspected = await client.introspect(session.tokens.refresh_token ?? "");
    expect(introspected).toMatchObject({ active: true, token_type: "refresh_token" });
    expect((await userinfo(accessTokens[0] as string)).status).toBe(200);
  });

  test("two sessions of one client over the same tokens share one refresh", async () => {
    const tokens = await signIn();
    const recording = recordingFetch();
    const client = confidentialClient(recording.fetch);
    const first = client.session({ ...tokens, expires_at: 0 });
    const second = client.session({ ...tokens, expires_at: 0 });
    const [a, b] = await Promise.all([first.getAccessToken(), second.getAccessToken()]);
    expect(a).toBe(b);
    expect(recording.tokenRequests()).toBe(1);
    expect((await client.introspect(first.tokens.refresh_token ?? "")).active).toBe(true);
  });

  test("a session that shares storage adopts the pair another one refreshed instead of presenting the used token", async () => {
    const tokens = await signIn();
    let stored: TokenSet | null = null;
    const storage: TokenStorage = {
      get: async () => stored,
      set: async (next) => {
        stored = next;
      },
    };
    // Two clients, as two tabs or processes would have: nothing shared but the storage.
    const tabA = recordingFetch();
    const tabB = recordingFetch();
    const a = confidentialClient(tabA.fetch).session({ ...tokens, expires_at: 0 }, { storage });
    const b = confidentialClient(tabB.fetch).session({ ...tokens, expires_at: 0 }, { storage });

    const fromA = await a.getAccessToken();
    expect(tabA.tokenRequests()).toBe(1);
    expect(await b.getAccessToken()).toBe(fromA);
    expect(tabB.tokenRequests()).toBe(0);
    expect((await userinfo(fromA)).status).toBe(200);
  });

  test("an expired session without a refresh token fails with an OAuthClientError, sending nothing", async () => {
    const recording = recordingFetch();
    const tokens = await signIn();
    const { refresh_token: _dropped, ...withoutRefresh } = tokens;
    const session = confidentialClient(recording.fetch).session({ ...withoutRefresh, expires_at: 0 });
    expect((await rejection(session.getAccessToken())).error).toBe("invalid_grant");
    expect(recording.sent).toEqual([]);
  });
});

describe("errors", () => {
  test("createOAuthClient refuses a non-URL issuer (and other bad options) with a clear error", () => {
    const valid = { issuer, clientId: application.id, redirectUri: REDIRECT_URI };
    expect(() => createOAuthClient({ ...valid, issuer: "auth.example.com" })).toThrow(
      'createOAuthClient: issuer must be an absolute http(s) URL such as "https://auth.example.com", got "auth.example.com"',
    );
    for (const bad of [
      "",
      "/v1",
      "ftp://auth.example.com",
      "https://auth.example.com?tenant=1",
      "https://a.example#x",
    ])
      expect(() => createOAuthClient({ ...valid, issuer: bad })).toThrow(/createOAuthClient: issuer must be/);
    expect(() => createOAuthClient({ ...valid, clientId: "" })).toThrow(/clientId/);
    expect(() => createOAuthClient({ ...valid, redirectUri: "callback" })).toThrow(/redirectUri/);
    expect(createOAuthClient({ ...valid, issuer: `${issuer}/` }).issuer).toBe(issuer);
  });

  test("an OAuthClientError carries the server's error, error_description and status", async () => {
    const tokens = await signIn();
    const wrongSecret = createOAuthClient({
      issuer,
      clientId: application.id,
      clientSecret: "not-the-secret",
      redirectUri: REDIRECT_URI,
    });
    const raw = await fetch(`${issuer}/v1/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: "x",
        client_id: application.id,
        client_secret: "not-the-secret",
      }),
    });
    const expected = (await raw.json()) as { error: string; error_description: string };
    const unauthenticated = await rejection(wrongSecret.refresh(tokens.refresh_token ?? ""));
    expect(unauthenticated).toMatchObject({ ...expected, status: 401 });
    expect(unauthenticated.message).toBe(`invalid_client: ${expected.error_description}`);

    const unknownToken = await rejection(confidentialClient().refresh("not-a-refresh-token"));
    expect(unknownToken.error).toBe("invalid_grant");
    expect(unknownToken.status).toBe(400);
    expect(unknownToken.error_description).toBeString();
    // The rejected attempts changed nothing: the real refresh token still works.
    expect((await confidentialClient().refresh(tokens.refresh_token ?? "")).access_token).toBeString();
  });

  test("without a secret (as a public client) the client id goes in the form and no Authorization header is sent", async () => {
    const recording = recordingFetch();
    const publicClient = createOAuthClient({
      issuer,
      clientId: application.id,
      redirectUri: REDIRECT_URI,
      fetch: recording.fetch,
    });
    // This application is confidential, so the server refuses the unauthenticated request.
    const error = await rejection(publicClient.refresh("some-refresh-token"));
    expect(error).toMatchObject({ error: "invalid_client", status: 401 });
    expect(recording.sent[0]?.authorization).toBeNull();
    expect(recording.sent[0]?.form.get("client_id")).toBe(application.id);
    expect(recording.sent[0]?.form.get("client_secret")).toBeNull();
  });

  test("a network failure is an OAuthClientError too", async () => {
    const closedPort = pickFreePort();
    const client = createOAuthClient({
      issuer: `http://127.0.0.1:${closedPort}`,
      clientId: "1",
      clientSecret: "s",
      redirectUri: REDIRECT_URI,
    });
    const error = await rejection(client.introspect("x"));
    expect(error.error).toBe("request_failed");
    expect(error.status).toBeNull();
  });
});
