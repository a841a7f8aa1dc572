// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import * as client from "openid-client";
import { pickFreePort } from "./support/browser.ts";
import { testDatabaseKind } from "./support/database.ts";
import { startTestServer } from "./support/harness.ts";

/**
 * Acceptance (issue 13): a generic OpenID Connect relying party, openid-client v6, against the real
 * server on a real socket: discovery → code + PKCE + nonce → ID token (signature checked against the
 * JWKS: non-repudiation checks on) → userinfo → refresh (new ID token, same sub) → revocation.
 */
const port = pickFreePort();
const issuerUrl = `http://localhost:${port}`;
const server = await startTestServer({ PORT: String(port), ISSUER: issuerUrl });
afterAll(() => server.stop());

async function trpc(path: string, input: unknown, token?: string): Promise<any> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = token;
  const res = await fetch(`${server.url}/trpc/${path}`, {
    method: "POST",
    headers,
    body: JSON.stringify(input),
  });
  const body: any = await res.json();
  if (!res.ok) throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.result.data;
}

/** The browser's part: the signed-in user approves on the JSON consent route (SPEC §7.1). */
async function approve(authorizationUrl: URL, sessionToken: string): Promise<URL> {
  const res = await fetch(`${server.url}/v1/oauth2/authorize/consent`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: sessionToken },
    body: JSON.stringify(Object.fromEntries(authorizationUrl.searchParams)),
  });
  const body: any = await res.json();
  if (!body.redirect_to) throw new Error(JSON.stringify(body));
  return new URL(body.redirect_to);
}

describe(`openid-client v6 on a real socket (${testDatabaseKind})`, () => {
  test("discovery → code + PKCE + nonce → id_token → userinfo → refresh → revocation", async () => {
    const session = await trpc("auth.register", {
      username: "oidc_user",
      email: "oidc@example.com",
      password: "password123",
    });
    const redirectUri = "http://127.0.0.1:8123/callback";
    const app = await trpc(
      "applications.create",
      { name: "OIDC RP", redirect_uris: [redirectUri] },
      session.token,
    );

    const config = await client.discovery(
      new URL(issuerUrl),
      app.id,
      { redirect_uris: [redirectUri], response_types: ["code"], id_token_signed_response_alg: "RS256" },
      client.ClientSecretBasic(app.client_secret),
      { algorithm: "oidc", execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
    );
    expect(config.serverMetadata().issuer).toBe(issuerUrl);
    expect(config.serverMetadata().jwks_uri).toBe(`${issuerUrl}/v1/oauth2/keys`);

    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: "openid profile email offline_access",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      nonce,
      state,
      max_age: "300",
    });

    const callback = await approve(authorizationUrl, session.token);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
      maxAge: 300,
    });
    const claims = tokens.claims();
    expect(claims?.sub).toBe(session.user.id);
    expect(claims?.aud).toBe(app.id);
    expect(claims?.nonce).toBe(nonce);
    expect(claims?.preferred_username).toBe("oidc_user");
    expect(claims?.email).toBe("oidc@example.com");
    expect(typeof claims?.auth_time).toBe("number");
    expect(tokens.scope).toBe("openid identify email");

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims?.sub as string);
    expect(userinfo.sub).toBe(session.user.id);
    expect(userinfo.email).toBe("oidc@example.com");
    expect(userinfo.preferred_username).toBe("oidc_user");

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    const refreshedClaims = refreshed.claims();
    expect(refreshed.id_token).toBeString();
    expect(refreshed.id_token).not.toBe(tokens.id_token);
    expect(refreshedClaims?.sub).toBe(claims?.sub as string);
    expect(refreshedClaims?.aud).toBe(app.id);
    expect(refreshedClaims?.auth_time).toBe(claims?.auth_time as number);

    await client.tokenRevocation(config, refreshed.refresh_token as string);
    await expect(
      client.fetchUserInfo(config, refreshed.access_token, claims?.sub as string),
    ).rejects.toThrow();
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token as string)).rejects.toThrow();
  });
});
