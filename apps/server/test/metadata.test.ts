// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { computeS256Challenge } from "../src/oauth/pkce.ts";
import { insertTestApplication, registerUser } from "./support/fixtures.ts";
import { createTestApp, TEST_ISSUER } from "./support/harness.ts";
import { basicAuth, clientPost, postForm, setupClient, VERIFIER } from "./support/oauth-flow.ts";

const t = await createTestApp();
afterAll(() => t.close());
const { owner, client } = await setupClient(t);
const alice = await registerUser(t);
const redirectUri = client.redirectUris[0] as string;
/** A public client (SPEC §7.2): what `none` is advertised for. */
const spa = await insertTestApplication(t, {
  ownerId: owner.user.id,
  redirectUris: ["https://spa.example/callback"],
  publicClient: true,
});

const res = await t.request("/.well-known/oauth-authorization-server");
const metadata: any = await res.json();
const discoveryResponse = await t.request("/.well-known/openid-configuration");
const discovery: any = await discoveryResponse.json();

/** The JSON consent route (SPEC §7.1) as a first-party frontend uses it; returns the redirect URL. */
async function authorize(fields: Record<string, string>): Promise<URL> {
  const response = await t.request("/v1/oauth2/authorize/consent", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: alice.token },
    body: JSON.stringify({
      client_id: client.id,
      redirect_uri: redirectUri,
      response_type: "code",
      ...fields,
    }),
  });
  const body: any = await response.json();
  if (!body.redirect_to) throw new Error(JSON.stringify(body));
  return new URL(body.redirect_to);
}

async function codeFor(method: string, fields: Record<string, string> = {}): Promise<string> {
  const challenge = method === "S256" ? computeS256Challenge(VERIFIER) : VERIFIER;
  const url = await authorize({
    scope: "identify",
    code_challenge: challenge,
    code_challenge_method: method,
    ...fields,
  });
  const code = url.searchParams.get("code");
  if (!code) throw new Error(url.toString());
  return code;
}

function credentials(method: string): { form: Record<string, string>; headers: Record<string, string> } {
  switch (method) {
    case "client_secret_basic":
      return { form: {}, headers: { authorization: basicAuth(client.id, client.clientSecret) } };
    case "client_secret_post":
      return { form: { client_id: client.id, client_secret: client.clientSecret }, headers: {} };
    case "none":
      return { form: { client_id: spa.id }, headers: {} };
    default:
      throw new Error(`no test for advertised auth method ${method}`);
  }
}

async function spaCode(): Promise<string> {
  const response = await t.request("/v1/oauth2/authorize/consent", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: alice.token },
    body: JSON.stringify({
      client_id: spa.id,
      redirect_uri: "https://spa.example/callback",
      response_type: "code",
      scope: "openid",
      code_challenge: computeS256Challenge(VERIFIER),
      code_challenge_method: "S256",
    }),
  });
  const body: any = await response.json();
  const code = new URL(body.redirect_to).searchParams.get("code");
  if (!code) throw new Error(body.redirect_to);
  return code;
}

function exchange(code: string) {
  return clientPost(t, client, "/v1/oauth2/token", {
    grant_type: "authorization_code",
    code,
    redirect_uri: redirectUri,
    code_verifier: VERIFIER,
  });
}

/** Each advertised grant, performed for real; a new grant without an entry here fails the test. */
const grants: Record<string, () => Promise<{ status: number; body: any }>> = {
  authorization_code: async () =>
    clientPost(t, client, metadata.token_endpoint.replace(TEST_ISSUER, ""), {
      grant_type: "authorization_code",
      code: await codeFor("S256"),
      redirect_uri: redirectUri,
      code_verifier: VERIFIER,
    }),
  refresh_token: async () => {
    const first = await grants.authorization_code?.();
    return clientPost(t, client, "/v1/oauth2/token", {
      grant_type: "refresh_token",
      refresh_token: first?.body.refresh_token,
    });
  },
  client_credentials: () => clientPost(t, client, "/v1/oauth2/token", { grant_type: "client_credentials" }),
};

const rfc8414Document = {
  issuer: TEST_ISSUER,
  authorization_endpoint: `${TEST_ISSUER}/v1/oauth2/authorize`,
  token_endpoint: `${TEST_ISSUER}/v1/oauth2/token`,
  revocation_endpoint: `${TEST_ISSUER}/v1/oauth2/token/revoke`,
  introspection_endpoint: `${TEST_ISSUER}/v1/oauth2/introspect`,
  userinfo_endpoint: `${TEST_ISSUER}/v1/oauth2/userinfo`,
  jwks_uri: `${TEST_ISSUER}/v1/oauth2/keys`,
  scopes_supported: [
    "openid",
    "identify",
    "email",
    "guilds",
    "connections",
    "bot",
    "profile",
    "offline_access",
  ],
  response_types_supported: ["code"],
  response_modes_supported: ["query"],
  grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
  token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
  revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
  introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
  code_challenge_methods_supported: ["S256", "plain"],
  authorization_response_iss_parameter_supported: true,
};

describe("authorization server metadata (RFC 8414) and OpenID Provider metadata (Discovery 1.0)", () => {
  test("the documents", () => {
    expect(res.status).toBe(200);
    expect(metadata).toEqual(rfc8414Document);
    expect(discoveryResponse.status).toBe(200);
    expect(discovery).toEqual({
      ...rfc8414Document,
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      claims_supported: [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "preferred_username",
        "name",
        "email",
        "email_verified",
      ],
      prompt_values_supported: ["none", "login", "consent"],
      claims_parameter_supported: false,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
    });
    // Public documents: any page may read them (SPEC §13).
    for (const response of [res, discoveryResponse])
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("every advertised grant type works", async () => {
    for (const grant of metadata.grant_types_supported) {
      const run = grants[grant];
      expect(run).toBeDefined();
      const result = await (run as () => Promise<{ status: number; body: any }>)();
      expect({ grant, status: result.status }).toEqual({ grant, status: 200 });
    }
  });

  test("unadvertised grant types are refused with unsupported_grant_type", async () => {
    for (const grant of [
      "password",
      "implicit",
      "token",
      "urn:ietf:params:oauth:grant-type:device_code",
      "urn:ietf:params:oauth:grant-type:jwt-bearer",
      "urn:ietf:params:oauth:grant-type:token-exchange",
      "AUTHORIZATION_CODE",
    ]) {
      expect(metadata.grant_types_supported).not.toContain(grant);
      const result = await clientPost(t, client, "/v1/oauth2/token", { grant_type: grant });
      expect({ grant, error: result.body.error }).toEqual({ grant, error: "unsupported_grant_type" });
    }
  });

  test("every advertised auth method works at the token, revocation and introspection endpoints", async () => {
    // `none` is a public client's: it is tried with the grants it is for (SPEC §7.2).
    for (const method of metadata.token_endpoint_auth_methods_supported as string[]) {
      const { form: auth, headers } = credentials(method);
      const form: Record<string, string> =
        method === "none"
          ? {
              grant_type: "authorization_code",
              code: await spaCode(),
              redirect_uri: "https://spa.example/callback",
              code_verifier: VERIFIER,
            }
          : { grant_type: "client_credentials" };
      const result = await postForm(t, "/v1/oauth2/token", { ...form, ...auth }, headers);
      expect({ method, status: result.status }).toEqual({ method, status: 200 });
    }
    const endpoints = [
      [
        metadata.revocation_endpoint_auth_methods_supported,
        "/v1/oauth2/token/revoke",
        { token: "x".repeat(43) },
      ],
      [
        metadata.introspection_endpoint_auth_methods_supported,
        "/v1/oauth2/introspect",
        { token: "x".repeat(43) },
      ],
    ] as const;
    for (const [methods, path, form] of endpoints) {
      for (const method of methods as string[]) {
        const { form: auth, headers } = credentials(method);
        const result = await postForm(t, path, { ...form, ...auth }, headers);
        expect({ path, method, status: result.status }).toEqual({ path, method, status: 200 });
      }
    }
  });

  test("unadvertised auth methods (none of a confidential client, JWT assertions, other schemes) are refused", async () => {
    expect(metadata.introspection_endpoint_auth_methods_supported).not.toContain("none");
    const spaAttempt = await postForm(t, "/v1/oauth2/introspect", { token: "t", client_id: spa.id });
    expect(spaAttempt.status).toBe(401);
    expect(spaAttempt.body.error).toBe("invalid_client");
    for (const path of ["/v1/oauth2/token", "/v1/oauth2/token/revoke", "/v1/oauth2/introspect"]) {
      const attempts: [Record<string, string>, Record<string, string>][] = [
        [{ client_id: client.id }, {}],
        // A public client's `none` is advertised for revocation; at the token endpoint only for its grants.
        ...(path === "/v1/oauth2/token/revoke"
          ? []
          : [[{ client_id: spa.id }, {}] as [Record<string, string>, Record<string, string>]]),
        [
          {
            client_id: client.id,
            client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion: "e30.e30.sig",
          },
          {},
        ],
        [{}, { authorization: `Digest username="${client.id}"` }],
        [{}, { authorization: `Bearer ${client.clientSecret}` }],
      ];
      for (const [auth, headers] of attempts) {
        const result = await postForm(
          t,
          path,
          { grant_type: "client_credentials", token: "t", ...auth },
          headers,
        );
        expect(result.status).toBe(401);
        expect(result.body.error).toBe("invalid_client");
      }
    }
  });

  test("every advertised code challenge method works end to end; unadvertised ones are refused", async () => {
    for (const method of metadata.code_challenge_methods_supported) {
      const code = await codeFor(method);
      const result = await clientPost(t, client, "/v1/oauth2/token", {
        grant_type: "authorization_code",
        code,
        redirect_uri: redirectUri,
        code_verifier: VERIFIER,
      });
      expect({ method, status: result.status }).toEqual({ method, status: 200 });
    }
    for (const method of ["S512", "s256", "PLAIN", "none"]) {
      const url = await authorize({
        scope: "identify",
        code_challenge: computeS256Challenge(VERIFIER),
        code_challenge_method: method,
      });
      expect({ method, error: url.searchParams.get("error") }).toEqual({ method, error: "invalid_request" });
      expect(url.searchParams.get("code")).toBeNull();
    }
  });

  test("every advertised scope is accepted at /authorize; others are invalid_scope", async () => {
    for (const scope of metadata.scopes_supported) {
      // email goes with identify (SPEC §6); offline_access alone asks for nothing, so it needs company.
      const url = await authorize({
        scope: scope === "email" || scope === "offline_access" ? `identify ${scope}` : scope,
      });
      expect({ scope, code: url.searchParams.has("code") }).toEqual({ scope, code: true });
    }
    for (const scope of ["identify address", "phone", "OPENID", "openid groups"]) {
      const bad = await authorize({ scope });
      expect({ scope, error: bad.searchParams.get("error") }).toEqual({ scope, error: "invalid_scope" });
    }
  });

  test("profile is identify and offline_access changes nothing", async () => {
    const profile = await exchange(await codeFor("S256", { scope: "openid profile offline_access" }));
    expect(profile.body.scope).toBe("openid identify");
    expect(profile.body.refresh_token).toBeString();
  });

  test("ID tokens are signed with an advertised algorithm by a key of jwks_uri, and carry only advertised claims", async () => {
    const keys = await t.request(new URL(discovery.jwks_uri).pathname);
    expect(keys.headers.get("access-control-allow-origin")).toBe("*");
    const jwks = createLocalJWKSet((await keys.json()) as any);
    const seen = new Set<string>();
    for (const scope of ["openid", "openid identify", "openid identify email"]) {
      const tokens = await exchange(await codeFor("S256", { scope, nonce: "n" }));
      const header = decodeProtectedHeader(tokens.body.id_token);
      expect(discovery.id_token_signing_alg_values_supported).toContain(header.alg);
      const { payload } = await jwtVerify(tokens.body.id_token, jwks, {
        issuer: discovery.issuer,
        audience: client.id,
        algorithms: discovery.id_token_signing_alg_values_supported,
      });
      for (const claim of Object.keys(payload)) {
        expect(discovery.claims_supported).toContain(claim);
        seen.add(claim);
      }
      const userinfo = await t.request(new URL(discovery.userinfo_endpoint).pathname, {
        headers: { authorization: `Bearer ${tokens.body.access_token}` },
      });
      const claims: any = await userinfo.json();
      expect(claims.sub).toBe(payload.sub as string);
    }
    // Every advertised claim is one the server emits.
    expect([...seen].sort()).toEqual([...discovery.claims_supported].sort());
  });

  test("every advertised prompt value is honoured; others are invalid_request", async () => {
    for (const prompt of discovery.prompt_values_supported as string[]) {
      const response = await t.request(
        `/v1/oauth2/authorize?${new URLSearchParams({
          client_id: client.id,
          redirect_uri: redirectUri,
          response_type: "code",
          scope: "openid",
          prompt,
        })}`,
        { headers: { cookie: `flx_session=${alice.token}` } },
      );
      // none → straight back (consent_required: nothing remembered for openid alone yet, or a code);
      // login → the sign-in page; consent → the consent page.
      const location = response.headers.get("location") ?? "";
      if (prompt === "none") expect(location.startsWith(redirectUri)).toBe(true);
      else if (prompt === "login") expect(location.startsWith("/login?")).toBe(true);
      else expect(response.status).toBe(200);
    }
    for (const prompt of ["select_account", "create", "none login"]) {
      const url = await authorize({ scope: "openid", prompt });
      expect({ prompt, error: url.searchParams.get("error") }).toEqual({ prompt, error: "invalid_request" });
    }
  });

  test("response type code with query response mode and iss; other response types refused", async () => {
    const url = await authorize({ scope: "identify", state: "xyz" });
    expect(url.origin + url.pathname).toBe(redirectUri);
    expect(url.hash).toBe("");
    expect(url.searchParams.get("iss")).toBe(metadata.issuer);
    expect(url.searchParams.get("state")).toBe("xyz");
    const token = await authorize({ scope: "identify", response_type: "token" });
    expect(token.searchParams.get("error")).toBe("unsupported_response_type");
  });
});
