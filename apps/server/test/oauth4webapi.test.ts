// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import * as oauth from "oauth4webapi";
import { startTestServer } from "./support/harness.ts";

/** oauth4webapi checks that the metadata's issuer is the one it asked for: bind the real port first. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port as number;
  probe.stop(true);
  return port;
}

const port = freePort();
const issuerUrl = `http://localhost:${port}`;
const server = await startTestServer({ PORT: String(port), ISSUER: issuerUrl });
afterAll(() => server.stop());

const insecure = { [oauth.allowInsecureRequests]: true } as const;

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

describe("oauth4webapi 3.8.8 end to end on a real socket", () => {
  test("discovery, code + PKCE S256 + state + iss, token, userinfo, refresh, introspection, revocation, client credentials", async () => {
    const session = await trpc("auth.register", {
      username: "e2e_user",
      email: "e2e@example.com",
      password: "password123",
    });
    const redirectUri = "http://127.0.0.1:9999/callback";
    const created = await trpc(
      "applications.create",
      { name: "E2E App", redirect_uris: [redirectUri] },
      session.token,
    );

    // Discovery (RFC 8414).
    const issuer = new URL(issuerUrl);
    const as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
    );
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    const client: oauth.Client = { client_id: created.id };
    const basic = oauth.ClientSecretBasic(created.client_secret);
    const post = oauth.ClientSecretPost(created.client_secret);

    // Authorization request; the browser part is replaced by the JSON consent route (SPEC §7.1).
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const consent = await fetch(`${server.url}/v1/oauth2/authorize/consent`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: session.token },
      body: JSON.stringify({
        client_id: created.id,
        redirect_uri: redirectUri,
        response_type: "code",
        scope: "identify email",
        state,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
      }),
    });
    expect(consent.status).toBe(200);
    const { redirect_to } = (await consent.json()) as { redirect_to: string };
    expect(redirect_to.startsWith(`${redirectUri}?`)).toBe(true);
    const params = oauth.validateAuthResponse(as, client, new URL(redirect_to), state);

    // A forged iss is refused by the client (RFC 9207).
    const forged = new URL(redirect_to);
    forged.searchParams.set("iss", "https://evil.example");
    expect(() => oauth.validateAuthResponse(as, client, forged, state)).toThrow();

    // Token.
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, basic, params, redirectUri, verifier, insecure),
    );
    expect(tokens.token_type).toBe("bearer");
    expect(tokens.expires_in).toBe(604800);
    expect(tokens.scope).toBe("identify email");
    expect(tokens.refresh_token).toBeString();

    // Userinfo.
    const userinfo = await oauth.processUserInfoResponse(
      as,
      client,
      session.user.id,
      await oauth.userInfoRequest(as, client, tokens.access_token, insecure),
    );
    expect(userinfo).toMatchObject({ sub: session.user.id, username: "e2e_user", email: "e2e@example.com" });

    // Refresh (rotation).
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, post, tokens.refresh_token as string, insecure),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    // Introspection.
    const introspection = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, basic, refreshed.access_token, insecure),
    );
    expect(introspection).toMatchObject({
      active: true,
      client_id: created.id,
      sub: session.user.id,
      scope: "identify email",
      token_type: "Bearer",
      iss: issuerUrl,
    });

    // Revocation of the refresh token kills the whole family.
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, basic, refreshed.refresh_token as string, insecure),
    );
    const after = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, basic, refreshed.access_token, insecure),
    );
    expect(after).toEqual({ active: false });
    const dead = await oauth.userInfoRequest(as, client, tokens.access_token, insecure);
    expect(dead.status).toBe(401);
    expect(dead.headers.get("www-authenticate")).toContain('error="invalid_token"');

    // Client credentials: the application's bot user, no refresh token.
    const cc = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(as, client, post, { scope: "identify" }, insecure),
    );
    expect(cc.refresh_token).toBeUndefined();
    const bot = await oauth.processUserInfoResponse(
      as,
      client,
      created.bot_user_id,
      await oauth.userInfoRequest(as, client, cc.access_token, insecure),
    );
    expect(bot).toMatchObject({ sub: created.bot_user_id, bot: true });
    const current = await fetch(`${server.url}/v1/applications/@me`, {
      headers: { authorization: `Bearer ${cc.access_token}` },
    });
    expect(current.status).toBe(200);
    expect(((await current.json()) as any).id).toBe(created.id);
  });
});
