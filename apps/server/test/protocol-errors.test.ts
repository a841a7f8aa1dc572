import { afterAll, describe, expect, test } from "bun:test";
import { OAuthError } from "../src/oauth/errors.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";
import { basicAuth, clientPost, issueTokens, postForm, setupClient } from "./support/oauth-flow.ts";

const t = await createTestApp();
afterAll(() => t.close());
const { client } = await setupClient(t);
const alice = await registerUser(t);

/** RFC 6749 §5.2: error_description = 1*( %x20-21 / %x23-5B / %x5D-7E ). */
const DESCRIPTION = /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/;

describe("error_description", () => {
  test("holds only the characters RFC 6749 §5.2 allows, whatever it was built from", () => {
    const error = new OAuthError("invalid_request", 'bad "value" \\ é\n\u0000 ok');
    expect(error.toJSON().error_description).toMatch(DESCRIPTION);
    expect(error.toJSON().error_description).toBe("bad ?value? ? ??? ok");
  });

  test("never echoes client input: an unknown scope or a repeated unknown parameter", async () => {
    const probe = 'evil"<script>\\é';
    const scoped = await clientPost(t, client, "/v1/oauth2/token", {
      grant_type: "client_credentials",
      scope: `identify ${probe}`,
    });
    expect(scoped.status).toBe(400);
    expect(scoped.body).toEqual({ error: "invalid_scope", error_description: "Unknown scope" });
    const repeated = await postForm(
      t,
      "/v1/oauth2/token",
      `${encodeURIComponent(probe)}=1&${encodeURIComponent(probe)}=2`,
    );
    expect(repeated.body).toEqual({ error: "invalid_request", error_description: "A parameter is repeated" });
    const known = await postForm(t, "/v1/oauth2/token", "grant_type=a&grant_type=b");
    expect(known.body.error_description).toBe("Parameter grant_type is repeated");
    for (const body of [scoped.body, repeated.body, known.body])
      expect(body.error_description).toMatch(DESCRIPTION);
  });
});

describe("malformed Authorization: Bearer (RFC 6750 §3.1)", () => {
  for (const header of ["Bearer", "Bearer ", "Bearer a b", "bearer x y z", 'Bearer "quoted"']) {
    test(`${JSON.stringify(header)} → 400 invalid_request with the REST envelope`, async () => {
      for (const path of ["/v1/oauth2/userinfo", "/v1/users/@me", "/v1/oauth2/@me", "/v1/applications/@me"]) {
        const response = await t.request(path, { headers: { authorization: header } });
        expect(response.status).toBe(400);
        expect(response.headers.get("www-authenticate")).toContain('error="invalid_request"');
        expect(response.headers.get("www-authenticate")).toStartWith("Bearer ");
        const body = (await response.json()) as { code: string; message: string };
        expect(body.code).toBe("INVALID_REQUEST");
        expect(typeof body.message).toBe("string");
      }
    });
  }

  test("a well-formed bearer still works, and a missing header is still 401 without an error code", async () => {
    const tokens = await issueTokens(t, client, alice.user.id);
    const ok = await t.request("/v1/oauth2/userinfo", {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(ok.status).toBe(200);
    const missing = await t.request("/v1/oauth2/userinfo");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).not.toContain("error=");
  });
});

describe("wrong HTTP method on the OAuth endpoints", () => {
  for (const path of ["/v1/oauth2/token", "/v1/oauth2/token/revoke", "/v1/oauth2/introspect"]) {
    test(`${path}: GET, PUT, PATCH, DELETE → 405 with Allow: POST; OPTIONS is not answered 405`, async () => {
      for (const method of ["GET", "PUT", "PATCH", "DELETE"]) {
        const response = await t.request(path, { method });
        expect(response.status).toBe(405);
        expect(response.headers.get("allow")).toBe("POST");
        expect(response.headers.get("cache-control")).toBe("no-store");
        expect(((await response.json()) as { error: string }).error).toBe("invalid_request");
      }
      const head = await t.request(path, { method: "HEAD" });
      expect(head.status).toBe(405);
      const preflight = await t.request(path, { method: "OPTIONS" });
      expect(preflight.status).not.toBe(405);
    });
  }
});

describe("headers on every answer of token, revocation and introspection", () => {
  /** Security headers and the request id come from one hook; the endpoints must not lose them. */
  const expectCommonHeaders = (headers: Headers, requestId: string) => {
    expect(headers.get("x-request-id")).toBe(requestId);
    expect(headers.get("x-content-type-options")).toBe("nosniff");
    expect(headers.get("x-frame-options")).toBe("DENY");
    expect(headers.get("referrer-policy")).toBe("no-referrer");
    expect(headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  };
  const post = (path: string, form: Record<string, string>, requestId: string, auth = true) =>
    postForm(t, path, form, {
      "x-request-id": requestId,
      ...(auth ? { authorization: basicAuth(client.id, client.clientSecret) } : {}),
    });

  test("200 and 400 token answers: JSON, no-store, the security headers and the request id", async () => {
    const issued = await post("/v1/oauth2/token", { grant_type: "client_credentials" }, "req-token-ok");
    expect(issued.status).toBe(200);
    expect(issued.headers.get("content-type")).toStartWith("application/json");
    expect(issued.headers.get("cache-control")).toBe("no-store");
    expect(issued.headers.get("pragma")).toBe("no-cache");
    expectCommonHeaders(issued.headers, "req-token-ok");

    const refused = await post("/v1/oauth2/token", { grant_type: "password" }, "req-token-bad");
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("unsupported_grant_type");
    expect(refused.headers.get("content-type")).toStartWith("application/json");
    expect(refused.headers.get("cache-control")).toBe("no-store");
    expectCommonHeaders(refused.headers, "req-token-bad");

    const unauthenticated = await post(
      "/v1/oauth2/token",
      { grant_type: "client_credentials" },
      "req-401",
      false,
    );
    expect(unauthenticated.status).toBe(401);
    expectCommonHeaders(unauthenticated.headers, "req-401");
  });

  test("revocation (200, empty) and introspection (200 JSON) keep them too", async () => {
    const tokens = await issueTokens(t, client, alice.user.id);
    const introspected = await post(
      "/v1/oauth2/introspect",
      { token: tokens.access_token },
      "req-introspect",
    );
    expect(introspected.status).toBe(200);
    expect(introspected.body.active).toBe(true);
    expect(introspected.headers.get("cache-control")).toBe("no-store");
    expectCommonHeaders(introspected.headers, "req-introspect");

    const revoked = await post("/v1/oauth2/token/revoke", { token: tokens.refresh_token }, "req-revoke");
    expect(revoked.status).toBe(200);
    expect(revoked.body).toBeNull();
    expectCommonHeaders(revoked.headers, "req-revoke");

    const wrongMethod = await t.request("/v1/oauth2/token", { headers: { "x-request-id": "req-405" } });
    expect(wrongMethod.status).toBe(405);
    expectCommonHeaders(wrongMethod.headers, "req-405");
  });
});
