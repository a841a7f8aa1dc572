// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { createApp } from "../../src/app.ts";
import { createManualClock } from "../../src/clock.ts";
import { createAuthorizationCode } from "../../src/domain/authorization-codes.ts";
import { computeS256Challenge } from "../../src/oauth/pkce.ts";
import { appRouter } from "../../src/trpc/router.ts";
import { createCallerFactory } from "../../src/trpc/trpc.ts";
import { insertTestApplication, registerUser, type TestApplication } from "./fixtures.ts";
import { TEST_ISSUER, type TestApp, testConfig } from "./harness.ts";

export const VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/** RFC 6749 §2.3.1: form-urlencode id and secret, then base64 them into Basic. */
export function basicAuth(clientId: string, secret: string): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, "+");
  return `Basic ${btoa(`${enc(clientId)}:${enc(secret)}`)}`;
}

export type Client = Pick<TestApplication, "id" | "clientSecret" | "redirectUris">;

/** A user and an application owned by them (with its bot user, for client credentials). */
export async function setupClient(t: TestApp, options: { redirectUris?: string[] } = {}) {
  const owner = await registerUser(t);
  const app = await insertTestApplication(t, { ownerId: owner.user.id, redirectUris: options.redirectUris });
  return { owner, client: app as Client, botUserId: app.botUserId };
}

export async function mintCode(
  t: TestApp,
  client: Client,
  userId: string,
  options: {
    scopes?: string[];
    pkce?: "S256" | "plain" | null;
    redirectUri?: string;
    nonce?: string;
    authTime?: Date;
  } = {},
): Promise<string> {
  const pkce = options.pkce === undefined ? "S256" : options.pkce;
  return createAuthorizationCode(t.deps.db, {
    applicationId: client.id,
    userId,
    redirectUri: options.redirectUri ?? client.redirectUris[0] ?? "",
    scopes: options.scopes ?? ["identify", "email"],
    codeChallenge: pkce === null ? null : pkce === "S256" ? computeS256Challenge(VERIFIER) : VERIFIER,
    codeChallengeMethod: pkce,
    nonce: options.nonce ?? null,
    authTime: options.authTime ?? t.clock.now(),
    now: t.clock.now(),
    ttlSeconds: t.deps.config.authorizationCodeTtlSeconds,
  });
}

export async function postForm(
  t: TestApp,
  path: string,
  form: Record<string, string> | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await t.request(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: typeof form === "string" ? form : new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}
  return { status: response.status, body, headers: response.headers };
}

/** POST to an OAuth endpoint authenticated with client_secret_basic. */
export function clientPost(t: TestApp, client: Client, path: string, form: Record<string, string>) {
  return postForm(t, path, form, { authorization: basicAuth(client.id, client.clientSecret) });
}

export async function exchangeCode(
  t: TestApp,
  client: Client,
  code: string,
  extra: Record<string, string> = {},
) {
  return clientPost(t, client, "/v1/oauth2/token", {
    grant_type: "authorization_code",
    code,
    redirect_uri: client.redirectUris[0] ?? "",
    code_verifier: VERIFIER,
    ...extra,
  });
}

export function refresh(
  t: TestApp,
  client: Client,
  refreshToken: string,
  extra: Record<string, string> = {},
) {
  return clientPost(t, client, "/v1/oauth2/token", {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    ...extra,
  });
}

export function introspect(t: TestApp, client: Client, token: string) {
  return clientPost(t, client, "/v1/oauth2/introspect", { token });
}

export async function bearerGet(t: TestApp, path: string, token: string) {
  const response = await t.request(path, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

/** Signs in a user, mints a code and exchanges it: a fresh token family. */
export async function issueTokens(t: TestApp, client: Client, userId: string, scopes?: string[]) {
  const code = await mintCode(t, client, userId, { scopes });
  const res = await exchangeCode(t, client, code);
  if (res.status !== 200) throw new Error(`exchange failed: ${JSON.stringify(res.body)}`);
  return res.body as { access_token: string; refresh_token: string; scope: string; expires_in: number };
}

/**
 * The same database with another configuration and its own manual clock. (A second PostgreSQL test
 * schema in one process trips Kysely's migrator, which finds the first schema's lock table.)
 */
export function withEnv(t: TestApp, env: Record<string, string>): TestApp {
  const clock = createManualClock(t.clock.now());
  const deps = { ...t.deps, clock, config: testConfig(env) };
  const app = createApp(deps);
  const createCaller = createCallerFactory(appRouter);
  return {
    ...t,
    deps,
    clock,
    app,
    request: (path, init) => app.handle(new Request(new URL(path, TEST_ISSUER), init)),
    caller: (ctx = {}) =>
      createCaller({ ...deps, user: null, session: null, ip: "127.0.0.1", deviceCookie: null, ...ctx }),
    close: async () => {},
  };
}
