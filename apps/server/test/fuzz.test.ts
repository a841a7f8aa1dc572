/**
 * Property-based abuse: thousands of random and malformed requests at every surface. Whatever arrives,
 * the answer is never a 500, always the documented envelope of that surface, and the database is
 * unchanged (SPEC §3: bad input gets a clear error and changes nothing).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { snapshotDatabase } from "./support/db-snapshot.ts";
import { createTestApp } from "./support/harness.ts";
import { issueTokens, setupClient } from "./support/oauth-flow.ts";

const t = await createTestApp();
const { owner, client } = await setupClient(t, { redirectUris: ["https://client.example/cb?x=1"] });
const live = await issueTokens(t, client, owner.user.id);
afterAll(() => t.close());

const OAUTH_ERRORS = new Set([
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
]);
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

let before: Record<string, string>;
beforeAll(async () => {
  before = await snapshotDatabase(t.deps.db);
});

/** Mostly plausible names and values, sometimes junk: random strings alone rarely get past the first check. */
const paramName = fc.oneof(
  fc.constantFrom(
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "token",
    "token_type_hint",
    "response_type",
    "state",
    "prompt",
    "code_challenge",
    "code_challenge_method",
    "csrf_token",
    "login",
    "password",
    "username",
    "email",
    "action",
    "grant",
    "return_to",
  ),
  fc.string({ maxLength: 12 }),
);
const paramValue = fc.oneof(
  fc.constantFrom(
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    "code",
    "identify",
    "identify email bot",
    "admin",
    "S256",
    "plain",
    "none",
    "consent",
    "approve",
    "deny",
    "https://client.example/cb?x=1",
    "https://evil.example/",
    "//evil.example",
    client.id,
    client.clientSecret,
    live.access_token,
    live.refresh_token,
    "99999999999999999999999",
    "-1",
    "",
  ),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 60 }),
);
const params = fc.array(fc.tuple(paramName, paramValue), { maxLength: 8 });

const contentType = fc.constantFrom(
  "application/x-www-form-urlencoded",
  "application/x-www-form-urlencoded; charset=utf-8",
  "application/json",
  "text/plain",
  "multipart/form-data; boundary=x",
  "",
);

/** Form bodies, JSON bodies, raw bytes (often invalid UTF-8) and percent-encoding garbage. */
const body = fc.oneof(
  params.map((p) => new URLSearchParams(p).toString()),
  params.map((p) => JSON.stringify(Object.fromEntries(p))),
  fc.uint8Array({ maxLength: 200 }),
  fc.constantFrom(
    "%",
    "%zz",
    "a=%ff%fe",
    "=&=&",
    "a=1&a=2",
    "\u0000",
    "grant_type=client_credentials&grant_type=x",
  ),
);

const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    `Basic ${btoa(`${client.id}:wrong`)}`,
    `Basic ${btoa(`${client.id}:${client.clientSecret}`)}`,
    "Basic !!!",
    "Basic ",
    `Bearer ${live.access_token}`,
    "Bearer",
    `Bot ${client.id}.x`,
    owner.token,
  ),
  fc.string({ maxLength: 80 }),
);

function headersOf(type: string, auth: string | undefined, extra: Record<string, string> = {}): Headers {
  const headers = new Headers(extra);
  if (type) headers.set("content-type", type);
  if (auth !== undefined) {
    try {
      headers.set("authorization", auth);
    } catch {
      // A header value Headers itself refuses never reaches a server.
    }
  }
  return headers;
}

async function send(path: string, init: RequestInit): Promise<Response> {
  const response = await t.request(path, init);
  expect(response.status).not.toBe(500);
  expect(response.status).toBeLessThan(500);
  return response;
}

describe("fuzzing", () => {
  for (const path of ["/v1/oauth2/token", "/v1/oauth2/token/revoke", "/v1/oauth2/introspect"]) {
    test(`${path}: random requests get RFC 6749 errors, never a 500`, async () => {
      await fc.assert(
        fc.asyncProperty(contentType, body, authorization, async (type, payload, auth) => {
          const response = await send(path, {
            method: "POST",
            headers: headersOf(type, auth),
            body: payload,
          });
          expect(response.headers.get("cache-control")).toContain("no-store");
          if (response.status >= 400) {
            const json = (await response.json()) as { error: string; error_description?: string };
            expect(OAUTH_ERRORS.has(json.error) || json.error === "rate_limited").toBe(true);
            if (response.status === 401 && auth?.startsWith("Basic"))
              expect(response.headers.get("www-authenticate")).toStartWith("Basic");
          }
        }),
        { numRuns: RUNS },
      );
    });
  }

  test("authorize: random queries get an error page or a redirect to the registered URI only", async () => {
    await fc.assert(
      fc.asyncProperty(params, fc.boolean(), async (query, signedIn) => {
        const search = new URLSearchParams(query).toString();
        const headers = signedIn ? { cookie: `flx_session=${owner.token}` } : undefined;
        const response = await send(`/v1/oauth2/authorize?${search}`, { headers, redirect: "manual" });
        const location = response.headers.get("location");
        if (response.status === 302) {
          const target = location ?? "";
          expect(
            target.startsWith("https://client.example/cb?") || target.startsWith("/login?return_to=/"),
          ).toBe(true);
        } else {
          expect([200, 400]).toContain(response.status);
          expect(location).toBeNull();
        }
      }),
      { numRuns: RUNS },
    );
  });

  for (const path of ["/v1/oauth2/userinfo", "/v1/users/@me", "/v1/oauth2/@me", "/v1/applications/@me"]) {
    test(`${path}: random credentials get the REST envelope`, async () => {
      await fc.assert(
        fc.asyncProperty(authorization, async (auth) => {
          if (auth === `Bearer ${live.access_token}`) return; // the one valid credential
          const response = await send(path, { headers: headersOf("", auth) });
          const json = (await response.json()) as { code: string };
          // A header that says Bearer but is not `Bearer <token>` is malformed (RFC 6750 §3.1): 400.
          const header = auth ?? "";
          const malformed =
            /^bearer(\s|$)/i.test(header) && !/^bearer +[A-Za-z0-9\-._~+/]+=* *$/i.test(header);
          expect(response.status).toBe(malformed ? 400 : 401);
          expect(malformed ? ["INVALID_REQUEST"] : ["UNAUTHORIZED", "INVALID_TOKEN"]).toContain(json.code);
          expect(response.headers.get("www-authenticate")).toBeTruthy();
        }),
        { numRuns: Math.ceil(RUNS / 3) },
      );
    });
  }

  test("pages: random form posts are refused or re-rendered, never a 500", async () => {
    const path = fc.constantFrom("/login", "/register", "/logout", "/v1/oauth2/authorize");
    const origin = fc.constantFrom(undefined, "http://localhost:3000", "https://evil.example", "null");
    await fc.assert(
      fc.asyncProperty(
        path,
        contentType,
        body,
        origin,
        fc.boolean(),
        async (p, type, payload, o, signedIn) => {
          const extra: Record<string, string> = {};
          if (o) extra.origin = o;
          if (signedIn) extra.cookie = `flx_session=${owner.token}; flx_csrf=abc`;
          const response = await send(p, {
            method: "POST",
            headers: headersOf(type, undefined, extra),
            body: payload,
          });
          if (response.status !== 303) expect(response.headers.get("content-type")).toContain("text/html");
          else expect(response.headers.get("location")).toStartWith("/");
          expect(response.headers.get("x-frame-options")).toBe("DENY");
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("tRPC: random procedures and inputs get tRPC errors with an apiCode", async () => {
    const procedure = fc.oneof(
      fc.constantFrom(
        "auth.register",
        "auth.login",
        "users.me",
        "applications.list",
        "applications.get",
        "applications.getPublic",
        "applications.update",
        "applications.delete",
        "applications.resetSecret",
        "applications.resetBotToken",
        "authorizations.list",
        "authorizations.revoke",
      ),
      fc.string({ maxLength: 20 }),
    );
    const input = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({
        id: fc.oneof(fc.constant(client.id), fc.string({ maxLength: 25 })),
        // Never the stored version (1): a matching version with valid fields is a legitimate update.
        version: fc.oneof(
          fc.integer().filter((v) => v !== 1),
          fc.string(),
        ),
        name: fc.string({ maxLength: 120 }),
        password: fc.string({ maxLength: 20 }),
        application_id: fc.string({ maxLength: 25 }),
        redirect_uris: fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }),
        icon: fc.oneof(fc.constant(null), fc.base64String({ maxLength: 40 })),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        procedure,
        input,
        fc.boolean(),
        fc.boolean(),
        async (proc, value, asQuery, signedIn) => {
          const headers: Record<string, string> = { "content-type": "application/json" };
          // Signed-in calls use a wrong password for sudo and a stale version, so nothing may change
          // (auth.logout and applications.create are left out: with a valid session, ending it or
          // creating an application from a random but valid name are legitimate changes).
          if (signedIn) headers.authorization = owner.token;
          const path = `/trpc/${encodeURIComponent(proc)}`;
          const response = asQuery
            ? await send(`${path}?input=${encodeURIComponent(JSON.stringify(value))}`, { headers })
            : await send(path, { method: "POST", headers, body: JSON.stringify(value) });
          if (response.status >= 400) {
            const json = (await response.json()) as { error: { data: { apiCode: string } } };
            expect(typeof json.error.data.apiCode).toBe("string");
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("after all of it the database is unchanged", async () => {
    expect(await snapshotDatabase(t.deps.db)).toEqual(before);
  });
});
