// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import { computeS256Challenge } from "../src/oauth/pkce.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp, TEST_ISSUER } from "./support/harness.ts";
import { basicAuth, clientPost, postForm, setupClient, VERIFIER } from "./support/oauth-flow.ts";

const t = await createTestApp();
afterAll(() => t.close());
const { client } = await setupClient(t);
const alice = await registerUser(t);
const redirectUri = client.redirectUris[0] as string;

const res = await t.request("/.well-known/oauth-authorization-server");
const metadata: any = await res.json();

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

async function codeFor(method: string): Promise<string> {
  const challenge = method === "S256" ? computeS256Challenge(VERIFIER) : VERIFIER;
  const url = await authorize({
    scope: "identify",
    code_challenge: challenge,
    code_challenge_method: method,
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
    default:
      throw new Error(`no test for advertised auth method ${method}`);
  }
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

describe("authorization server metadata (RFC 8414)", () => {
  test("the document", () => {
    expect(res.status).toBe(200);
    expect(metadata).toEqual({
      issuer: TEST_ISSUER,
      authorization_endpoint: `${TEST_ISSUER}/v1/oauth2/authorize`,
      token_endpoint: `${TEST_ISSUER}/v1/oauth2/token`,
      revocation_endpoint: `${TEST_ISSUER}/v1/oauth2/token/revoke`,
      introspection_endpoint: `${TEST_ISSUER}/v1/oauth2/introspect`,
      userinfo_endpoint: `${TEST_ISSUER}/v1/oauth2/userinfo`,
      scopes_supported: ["identify", "email", "guilds", "connections", "bot"],
      response_types_supported: ["code"],
      response_modes_supported: ["query"],
      grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      code_challenge_methods_supported: ["S256", "plain"],
      authorization_response_iss_parameter_supported: true,
    });
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
    const endpoints = [
      [
        metadata.token_endpoint_auth_methods_supported,
        "/v1/oauth2/token",
        { grant_type: "client_credentials" },
      ],
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

  test("unadvertised auth methods (none, client_secret_jwt/private_key_jwt, other schemes) are refused", async () => {
    expect(metadata.token_endpoint_auth_methods_supported).not.toContain("none");
    for (const path of ["/v1/oauth2/token", "/v1/oauth2/token/revoke", "/v1/oauth2/introspect"]) {
      const attempts: [Record<string, string>, Record<string, string>][] = [
        [{ client_id: client.id }, {}],
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
      const url = await authorize({ scope: scope === "email" ? "identify email" : scope });
      expect({ scope, code: url.searchParams.has("code") }).toEqual({ scope, code: true });
    }
    const bad = await authorize({ scope: "identify openid" });
    expect(bad.searchParams.get("error")).toBe("invalid_scope");
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
