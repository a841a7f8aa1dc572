// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../src/config.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp, TEST_ISSUER } from "./support/harness.ts";
import { withEnv } from "./support/oauth-flow.ts";

const ALLOWED = "http://app.example:5173";
const t = await createTestApp();
const cors = withEnv(t, { CORS_ORIGINS: `${ALLOWED}, https://other.example` });
const alice = await registerUser(t, { username: "cors_alice" });
afterAll(() => t.close());

function preflight(app: typeof t, origin: string, method = "POST") {
  return app.request("/trpc/auth.login", {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "authorization, content-type",
    },
  });
}

const corsHeaderNames = (response: Response) =>
  [...response.headers.keys()].filter((name) => name.startsWith("access-control-")).sort();

describe("OPTIONS /trpc/*", () => {
  test("without CORS_ORIGINS a preflight is a 204 with Allow and no CORS headers (never 415)", async () => {
    const response = await preflight(t, ALLOWED);
    expect(response.status).toBe(204);
    expect(response.headers.get("allow")).toBe("GET, POST, OPTIONS");
    expect(corsHeaderNames(response)).toEqual([]);
    expect(response.headers.get("vary")).toBeNull();
  });

  test("a preflight from a listed origin allows GET and POST with Authorization and Content-Type", async () => {
    const response = await preflight(cors, ALLOWED);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(response.headers.get("access-control-allow-methods")).toBe("GET, POST");
    const allowedHeaders = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    expect(allowedHeaders.split(/\s*,\s*/)).toEqual(
      expect.arrayContaining(["authorization", "content-type"]),
    );
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(response.headers.get("vary")).toContain("Origin");
  });

  test("a preflight from an unlisted origin, or for another method, gets no CORS headers", async () => {
    for (const response of [
      await preflight(cors, "http://evil.example"),
      await preflight(cors, "http://app.example:5174"),
      await preflight(cors, TEST_ISSUER),
      await preflight(cors, ALLOWED, "DELETE"),
    ]) {
      expect(response.status).toBe(204);
      expect(corsHeaderNames(response)).toEqual([]);
    }
  });
});

describe("cross-origin tRPC calls", () => {
  async function me(app: typeof t, headers: Record<string, string>) {
    const response = await app.request("/trpc/users.me", { headers });
    return { response, body: (await response.json()) as any };
  }

  test("a listed origin gets the answer with Access-Control-Allow-Origin, never Allow-Credentials", async () => {
    const { response, body } = await me(cors, { origin: ALLOWED, authorization: alice.token });
    expect(response.status).toBe(200);
    expect(body.result.data.username).toBe("cors_alice");
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(response.headers.get("vary")).toContain("Origin");
  });

  test("errors carry the CORS headers too, so the browser can read the apiCode", async () => {
    const { response, body } = await me(cors, { origin: ALLOWED });
    expect(response.status).toBe(401);
    expect(body.error.data.apiCode).toBe("UNAUTHORIZED");
    expect(response.headers.get("access-control-allow-origin")).toBe(ALLOWED);
  });

  test("an unlisted origin gets no CORS headers", async () => {
    const { response } = await me(cors, { origin: "http://evil.example", authorization: alice.token });
    expect(corsHeaderNames(response)).toEqual([]);
    expect(response.headers.get("vary")).toContain("Origin");
  });

  test("the session cookie never counts for a listed foreign origin: only Authorization does", async () => {
    const cookie = `flx_session=${alice.token}`;
    const { response, body } = await me(cors, { origin: ALLOWED, cookie });
    expect(response.status).toBe(401);
    expect(body.error.data.apiCode).toBe("UNAUTHORIZED");
    // The same cookie on a same-origin request is a session: the refusal above is about the origin.
    const sameOrigin = await me(cors, { origin: TEST_ISSUER, cookie });
    expect(sameOrigin.response.status).toBe(200);
  });

  test("without CORS_ORIGINS responses are unchanged: no CORS headers, no Vary: Origin", async () => {
    const { response } = await me(t, { origin: ALLOWED, authorization: alice.token });
    expect(response.status).toBe(200);
    expect(corsHeaderNames(response)).toEqual([]);
    expect(response.headers.get("vary") ?? "").not.toContain("Origin");
  });
});

describe("wrong HTTP methods", () => {
  async function call(method: string, path: string, body?: string) {
    const response = await t.request(`/trpc/${path}`, {
      method,
      headers: {
        authorization: alice.token,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body,
    });
    return {
      status: response.status,
      allow: response.headers.get("allow"),
      body: (await response.json()) as any,
    };
  }

  test("POST to a query and GET of a mutation are METHOD_NOT_SUPPORTED with apiCode METHOD_NOT_ALLOWED", async () => {
    const post = await call("POST", "applications.list", "{}");
    expect(post.status).toBe(405);
    expect(post.body.error.data).toMatchObject({
      code: "METHOD_NOT_SUPPORTED",
      apiCode: "METHOD_NOT_ALLOWED",
    });
    expect(post.body.error.message).toContain("POST");
    const get = await call("GET", "auth.logout");
    expect(get.status).toBe(405);
    expect(get.body.error.data.apiCode).toBe("METHOD_NOT_ALLOWED");
  });

  test("PUT and DELETE are a 405 naming the methods /trpc answers, not a content-type error", async () => {
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const response = await call(method, "users.me");
      expect(response.status).toBe(405);
      expect(response.allow).toBe("GET, POST, OPTIONS");
      expect(response.body.error.data).toMatchObject({
        code: "METHOD_NOT_SUPPORTED",
        apiCode: "METHOD_NOT_ALLOWED",
      });
      expect(response.body.error.message).toContain(`${method}-request`);
    }
  });
});

describe("CORS_ORIGINS configuration", () => {
  const load = (value: string) => loadConfig({ CORS_ORIGINS: value, DATA_DIR: "/nonexistent" });

  test("a comma-separated list of origins, trimmed and deduplicated; unset means none", () => {
    expect(load(" https://a.example , http://127.0.0.1:5173/,https://a.example").corsOrigins).toEqual([
      "https://a.example",
      "http://127.0.0.1:5173",
    ]);
    expect(loadConfig({ DATA_DIR: "/nonexistent" }).corsOrigins).toEqual([]);
  });

  test("paths, wildcards and non-URLs are refused with the variable's name", () => {
    for (const value of [
      "*",
      "https://a.example/app",
      "a.example",
      "ftp://a.example",
      "https://a.example?x=1",
    ]) {
      expect(() => load(value)).toThrow(ConfigError);
      expect(() => load(value)).toThrow(/CORS_ORIGINS/);
    }
  });
});
