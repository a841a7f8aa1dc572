// biome-ignore-all lint/suspicious/noExplicitAny: tests read the OpenAPI document and wire bodies as JSON
import { afterAll, describe, expect, test } from "bun:test";
import { compileErrors, dereference, validate } from "@readme/openapi-parser";
import Ajv2020 from "ajv/dist/2020";
import { createApp } from "../src/app.ts";
import { rateLimitConfig } from "../src/rate-limit/buckets.ts";
import { createApplicationOk, PNG_BASE64 } from "./support/applications.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp, TEST_ISSUER, testConfig } from "./support/harness.ts";
import { basicAuth, issueTokens, mintCode, setupClient, VERIFIER } from "./support/oauth-flow.ts";

/**
 * /openapi.json against the real routes: a real OpenAPI 3.1 validator, the route table in both
 * directions, and every response this file provokes checked against what the document says of its
 * route, method and status (JSON bodies with a JSON Schema 2020-12 validator).
 */
const t = await createTestApp();
afterAll(() => t.close());

const documentResponse = await t.request("/openapi.json");
const document: any = await documentResponse.json();
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

describe("the document", () => {
  test("is served as JSON and passes @readme/openapi-parser's OpenAPI 3.1 validation", async () => {
    expect(documentResponse.status).toBe(200);
    expect(documentResponse.headers.get("content-type")).toStartWith("application/json");
    expect(document.openapi).toStartWith("3.1.");
    expect(document.servers).toEqual([{ url: TEST_ISSUER }]);
    const result = await validate(structuredClone(document));
    if (!result.valid) throw new Error(compileErrors(result));
    expect(result.valid).toBe(true);
  });

  test("the validator is real: a broken document fails it", async () => {
    const broken = structuredClone(document);
    delete broken.paths["/healthz"].get.responses;
    broken.paths["/readyz"].get.parameters = [{ name: "x", in: "nowhere" }];
    const result = await validate(broken);
    expect(result.valid).toBe(false);
  });

  test("every HTTP route is documented and every documented operation is a route (tRPC aside)", () => {
    const routes = t.app.routes
      .filter((route) => !route.path.startsWith("/trpc/"))
      .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`)
      .sort();
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((key) => METHODS.includes(key))
          .map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    expect(documented).toEqual(routes);
    expect(routes.length).toBeGreaterThan(25);
    expect(t.app.routes.some((route) => route.path === "/trpc/*")).toBe(true);
    expect(Object.keys(document.paths).some((path) => path.startsWith("/trpc"))).toBe(false);
  });
});

// ---- Responses checked against the document --------------------------------------------------------

const resolved: any = await dereference(structuredClone(document));
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
ajv.addFormat("uri", (value: string) => URL.canParse(value));
ajv.addFormat(
  "date-time",
  (value: string) => /^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(Date.parse(value)),
);
const compiled = new Map<unknown, ReturnType<typeof ajv.compile>>();

/** The documented path template a concrete path falls under (`/icons/1/ab` → `/icons/{applicationId}/{iconHash}`). */
function templateOf(path: string): string | undefined {
  return Object.keys(resolved.paths).find((template) =>
    new RegExp(`^${template.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path),
  );
}

let checked = 0;
const statusesSeen = new Set<string>();

/** Sends a request and holds its answer to the document: status documented, media type listed, body valid. */
async function call(
  method: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: any }> {
  const response = await app.handle(new Request(new URL(path, TEST_ISSUER), { method, ...init }));
  const text = await response.text();
  const pathname = new URL(path, TEST_ISSUER).pathname;
  const template = templateOf(pathname);
  if (!template) throw new Error(`${pathname} is not in the document`);
  const operation = resolved.paths[template][method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${template} is not in the document`);
  const spec = operation.responses[String(response.status)];
  if (!spec)
    throw new Error(`${method} ${template} answered ${response.status}, which is not documented: ${text}`);
  const mediaType = response.headers.get("content-type")?.split(";")[0]?.trim() ?? null;
  let body: any = text;
  if (text === "") {
    expect(spec.content === undefined || mediaType !== null).toBe(true);
  } else {
    if (mediaType === null)
      throw new Error(`${method} ${template} ${response.status}: a body without a type`);
    const content = spec.content?.[mediaType];
    if (!content)
      throw new Error(`${method} ${template} ${response.status}: ${mediaType} is not documented for it`);
    if (mediaType === "application/json") {
      body = JSON.parse(text);
      let validator = compiled.get(content.schema);
      if (!validator) {
        validator = ajv.compile(content.schema);
        compiled.set(content.schema, validator);
      }
      if (!validator(body))
        throw new Error(
          `${method} ${template} ${response.status} does not match its schema: ${ajv.errorsText(validator.errors)}\n${text}`,
        );
    }
  }
  checked += 1;
  statusesSeen.add(`${method} ${template} ${response.status}`);
  return { status: response.status, body };
}

let app = t.app;
const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body: new URLSearchParams(fields).toString(),
});

describe("sampled responses match their schemas", () => {
  test("operations, metadata, pages and the web app", async () => {
    expect((await call("GET", "/healthz")).status).toBe(200);
    expect((await call("GET", "/readyz")).status).toBe(200);
    expect((await call("GET", "/openapi.json")).status).toBe(200);
    const metadata = await call("GET", "/.well-known/oauth-authorization-server");
    expect(metadata.body.issuer).toBe(TEST_ISSUER);
    const discovery = await call("GET", "/.well-known/openid-configuration");
    expect(discovery.body.jwks_uri).toBe(`${TEST_ISSUER}/v1/oauth2/keys`);
    expect((await call("GET", "/v1/oauth2/keys")).status).toBe(200);
    for (const path of ["/", "/login", "/register", "/favicon.svg", "/favicon.ico"])
      expect((await call("GET", path)).status).toBe(200);
    expect((await call("GET", "/developers")).status).toBe(302);
    expect((await call("GET", "/developers/applications")).status).toBe(303);
    const user = await registerUser(t);
    const cookie = { headers: { cookie: `flx_session=${user.token}` } };
    expect((await call("GET", "/developers/applications", cookie)).status).toBe(200);
    expect((await call("GET", "/settings/authorized-apps", cookie)).status).toBe(200);
    expect((await call("GET", "/developers/applications/123", cookie)).status).toBe(200);
    expect((await call("GET", "/assets/nope.js")).status).toBe(404);
    // Forms: cross-site or without a CSRF token, refused.
    const crossSite = { origin: "https://evil.example" };
    expect((await call("POST", "/login", form({ login: "x", password: "y" }, crossSite))).status).toBe(403);
    expect((await call("POST", "/register", form({ username: "x" }, crossSite))).status).toBe(403);
    expect((await call("POST", "/logout", form({}, crossSite))).status).toBe(403);
    expect((await call("POST", "/v1/oauth2/authorize", form({}, crossSite))).status).toBe(403);
  });

  test("authorization endpoint and JSON consent", async () => {
    const { owner, client } = await setupClient(t);
    const query = new URLSearchParams({
      client_id: client.id,
      redirect_uri: client.redirectUris[0] ?? "",
      response_type: "code",
      scope: "identify",
    });
    expect((await call("GET", `/v1/oauth2/authorize?${query}`)).status).toBe(302);
    const cookie = { cookie: `flx_session=${owner.token}` };
    expect((await call("GET", `/v1/oauth2/authorize?${query}`, { headers: cookie })).status).toBe(200);
    const unknown = "/v1/oauth2/authorize?client_id=1&redirect_uri=https://x.example/&response_type=code";
    expect((await call("GET", unknown)).status).toBe(400);
    const unknownJson = await call("GET", unknown, { headers: { accept: "application/json" } });
    expect(unknownJson.body.error).toBe("invalid_client");

    const consent = (body: unknown, headers: Record<string, string> = {}) =>
      call("POST", "/v1/oauth2/authorize/consent", {
        headers: { "content-type": "application/json", authorization: owner.token, ...headers },
        body: JSON.stringify(body),
      });
    const granted = await consent({
      client_id: client.id,
      redirect_uri: client.redirectUris[0],
      response_type: "code",
      scope: "identify",
    });
    expect(new URL(granted.body.redirect_to).searchParams.get("code")).toBeTruthy();
    expect((await consent({ client_id: 5 })).body.code).toBe("INVALID_FORM_BODY");
    expect((await consent({ client_id: "1", redirect_uri: "https://x.example/" })).body.error).toBe(
      "invalid_client",
    );
    expect((await consent({}, { authorization: "flx_nope" })).status).toBe(401);
    expect((await consent({}, { "content-type": "text/plain" })).status).toBe(415);
  });

  test("token, revocation and introspection: successes and errors", async () => {
    const { owner, client } = await setupClient(t);
    const auth = { authorization: basicAuth(client.id, client.clientSecret) };
    const token = (fields: Record<string, string>, headers: Record<string, string> = auth) =>
      call("POST", "/v1/oauth2/token", form(fields, headers));

    const code = await mintCode(t, client, owner.user.id);
    const exchanged = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: client.redirectUris[0] ?? "",
      code_verifier: VERIFIER,
    });
    expect(exchanged.status).toBe(200);
    const refreshed = await token({
      grant_type: "refresh_token",
      refresh_token: exchanged.body.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    expect((await token({ grant_type: "client_credentials" })).body.refresh_token).toBeUndefined();
    const openid = await token({
      grant_type: "authorization_code",
      code: await mintCode(t, client, owner.user.id, { scopes: ["openid", "identify"] }),
      redirect_uri: client.redirectUris[0] ?? "",
      code_verifier: VERIFIER,
    });
    expect(openid.body.id_token).toBeString();
    const preflight = {
      headers: { origin: "https://spa.example", "access-control-request-method": "POST" },
    };
    for (const path of ["/v1/oauth2/token", "/v1/oauth2/token/revoke"])
      expect((await call("OPTIONS", path, preflight)).status).toBe(204);
    expect((await token({ grant_type: "refresh_token", refresh_token: "x".repeat(43) })).body.error).toBe(
      "invalid_grant",
    );
    expect((await token({ grant_type: "password" })).body.error).toBe("unsupported_grant_type");
    expect(
      (await token({ grant_type: "client_credentials" }, { authorization: basicAuth(client.id, "wrong") }))
        .status,
    ).toBe(401);
    const json = await call("POST", "/v1/oauth2/token", {
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(json.body.error).toBe("invalid_request");
    for (const path of ["/v1/oauth2/token", "/v1/oauth2/token/revoke", "/v1/oauth2/introspect"])
      expect((await call("GET", path)).status).toBe(405);

    const introspect = (value: string) => call("POST", "/v1/oauth2/introspect", form({ token: value }, auth));
    expect((await introspect(refreshed.body.access_token)).body).toMatchObject({
      active: true,
      token_type: "Bearer",
    });
    expect((await introspect(refreshed.body.refresh_token)).body).toMatchObject({
      token_type: "refresh_token",
    });
    expect((await introspect("unknown")).body).toEqual({ active: false });
    expect((await call("POST", "/v1/oauth2/introspect", form({}, auth))).status).toBe(400);

    const revoked = await call(
      "POST",
      "/v1/oauth2/token/revoke",
      form({ token: refreshed.body.access_token }, auth),
    );
    expect(revoked.status).toBe(200);
    expect((await introspect(refreshed.body.access_token)).body).toEqual({ active: false });
  });

  test("bearer resources and the current application", async () => {
    const { owner, client } = await setupClient(t);
    const full = await issueTokens(t, client, owner.user.id, ["identify", "email"]);
    const bot = await issueTokens(t, client, owner.user.id, ["bot"]);
    const bearer = (value: string) => ({ headers: { authorization: `Bearer ${value}` } });
    for (const path of ["/v1/oauth2/userinfo", "/v1/users/@me"]) {
      expect((await call("GET", path, bearer(full.access_token))).body.email).toBeDefined();
      expect((await call("GET", path, bearer(bot.access_token))).body.code).toBe("MISSING_OAUTH_SCOPE");
      expect((await call("GET", path)).body.code).toBe("UNAUTHORIZED");
      expect((await call("GET", path, bearer("x".repeat(43)))).body.code).toBe("INVALID_TOKEN");
      expect((await call("GET", path, { headers: { authorization: "Bearer a b" } })).status).toBe(400);
    }
    const openidOnly = await issueTokens(t, client, owner.user.id, ["openid"]);
    expect((await call("GET", "/v1/oauth2/userinfo", bearer(openidOnly.access_token))).body).toEqual({
      sub: owner.user.id,
    });
    expect((await call("POST", "/v1/oauth2/userinfo", bearer(full.access_token))).body.email).toBeDefined();
    expect((await call("OPTIONS", "/v1/oauth2/userinfo")).status).toBe(204);
    expect((await call("GET", "/v1/oauth2/@me", bearer(full.access_token))).body.user).toBeDefined();
    expect((await call("GET", "/v1/oauth2/@me", bearer(bot.access_token))).body.user).toBeUndefined();

    const created = await createApplicationOk(t, owner.token, { icon: PNG_BASE64 });
    for (const path of ["/v1/applications/@me", "/v1/oauth2/applications/@me"]) {
      const me = await call("GET", path, { headers: { authorization: `Bot ${created.bot_token}` } });
      expect(me.body.id).toBe(created.id);
      expect((await call("GET", path, bearer(full.access_token))).body.code).toBe("ACCESS_DENIED");
      expect((await call("GET", path)).status).toBe(401);
    }
    expect((await call("GET", `/icons/${created.id}/${created.icon_hash}`)).status).toBe(200);
    expect((await call("GET", `/icons/${created.id}/${"0".repeat(64)}`)).status).toBe(404);
  });

  test("rate-limited answers (REST and OAuth envelopes)", async () => {
    const limited = {
      ...t.deps,
      config: testConfig({ RATE_LIMITS: "on" }),
      rateLimits: rateLimitConfig({
        "oauth:token": { limit: 1, windowSeconds: 60 },
        "oauth:introspect": { limit: 1, windowSeconds: 60 },
        "oauth:authorize": { limit: 1, windowSeconds: 60 },
      }),
    };
    app = createApp(limited);
    try {
      for (let i = 0; i < 2; i++) {
        await call("POST", "/v1/oauth2/token", form({ grant_type: "client_credentials" }));
        await call("GET", "/v1/oauth2/userinfo");
        await call("GET", "/v1/oauth2/authorize");
      }
      for (const operation of [
        "POST /v1/oauth2/token",
        "GET /v1/oauth2/userinfo",
        "GET /v1/oauth2/authorize",
      ])
        expect(statusesSeen.has(`${operation} 429`)).toBe(true);
    } finally {
      app = t.app;
    }
  });

  test("a response the document does not describe is caught", async () => {
    // /readyz's 200 is documented as {status}; a body with another shape must fail the check.
    const schema = resolved.paths["/readyz"].get.responses["200"].content["application/json"].schema;
    const validator = ajv.compile(schema);
    expect(validator({ status: "ok" })).toBe(true);
    expect(validator({ status: "ok", extra: 1 })).toBe(false);
    expect(validator({ ok: true })).toBe(false);
    expect(checked).toBeGreaterThan(60);
  });
});
