// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
/**
 * Acceptance (issue 13): a static single-page app on another origin signs users in with
 * oidc-client-ts as a public client (no secret): sign-in redirect → consent → callback → tokens →
 * userinfo → silent refresh → revocation, all cross-origin. The same page served from an origin the
 * client did not register is blocked by CORS at the token endpoint, and its attempt spends nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { hashToken } from "../src/crypto.ts";
import { launchChromium, pickFreePort } from "./support/browser.ts";
import { startTestServer } from "./support/harness.ts";

const bundle = await Bun.build({ entrypoints: [join(import.meta.dir, "spa", "page.ts")], target: "browser" });
if (!bundle.success) throw new AggregateError(bundle.logs, "SPA bundle failed");
const script = (await bundle.outputs[0]?.text()) ?? "";

const port = pickFreePort();
const issuer = `http://127.0.0.1:${port}`;
const server = await startTestServer({ PORT: String(port), ISSUER: issuer });

/** One static server, two origins: `localhost` (registered) and `127.0.0.1` (not). */
const pages = Bun.serve({
  port: 0,
  hostname: "0.0.0.0",
  fetch(request): Response {
    const url = new URL(request.url);
    if (url.pathname === "/spa.js")
      return new Response(script, { headers: { "content-type": "text/javascript" } });
    if (url.pathname === "/favicon.ico") return new Response(null, { status: 204 });
    const config: string = JSON.stringify({
      authority: issuer,
      client_id: clientId,
      redirect_uri: redirectUri,
    });
    return new Response(
      `<!doctype html><meta charset="utf-8"><title>SPA</title><script>window.SPA_CONFIG = ${config}</script><script type="module" src="/spa.js"></script><p>SPA</p>`,
      { headers: { "content-type": "text/html" } },
    );
  },
});
const spaOrigin: string = `http://localhost:${pages.port}`;
const foreignOrigin: string = `http://127.0.0.1:${pages.port}`;
const redirectUri: string = `${spaOrigin}/callback`;

async function trpc(path: string, input: unknown, token?: string): Promise<any> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = token;
  const res = await fetch(`${issuer}/trpc/${path}`, { method: "POST", headers, body: JSON.stringify(input) });
  const body: any = await res.json();
  if (!res.ok) throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.result.data;
}

const owner = await trpc("auth.register", {
  username: "spa_owner",
  email: "spa_owner@example.com",
  password: "password123",
});
const application = await trpc(
  "applications.create",
  { name: "Static SPA", redirect_uris: [redirectUri], public_client: true },
  owner.token,
);
const clientId: string = application.id;
await trpc("auth.register", { username: "spa_user", email: "spa_user@example.com", password: "password123" });

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  pages.stop(true);
  await server.stop();
});

function watch(page: Page) {
  const consoleErrors: string[] = [];
  /** Requests to the token and revocation endpoints, recorded as they leave the page. */
  const tokenRequests: { path: string; method: string; headers: Promise<Record<string, string>> }[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("request", (request) => {
    if (request.url().startsWith(`${issuer}/v1/oauth2/token`))
      tokenRequests.push({
        path: new URL(request.url()).pathname,
        method: request.method(),
        headers: request.allHeaders(),
      });
  });
  return { consoleErrors, tokenRequests };
}

/** At the issuer: the sign-in page, then the consent page. */
async function signInAndApprove(page: Page) {
  await page.waitForURL((url) => url.origin === issuer && url.pathname === "/login");
  await page.getByLabel("Username or email").fill("spa_user");
  await page.getByLabel("Password").fill("password123");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.origin === issuer && url.pathname === "/v1/oauth2/authorize");
  await page.getByRole("button", { name: "Authorize" }).click();
}

describe("oidc-client-ts in Chromium, a public client on another origin", () => {
  test(
    "sign-in redirect → consent → callback → tokens → userinfo → silent refresh → revocation",
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const { consoleErrors, tokenRequests } = watch(page);
      await page.goto(`${spaOrigin}/`);
      await page.waitForFunction(() => "spa" in window);

      await page.evaluate(() => {
        void window.spa.signIn();
      });
      await signInAndApprove(page);
      await page.waitForURL((url) => url.origin === spaOrigin && url.pathname === "/callback");
      await page.waitForFunction(() => window.spaCallback !== undefined);
      expect(await page.evaluate(() => window.spaCallback)).toEqual({ ok: true });

      const signedIn = await page.evaluate(() => window.spa.user());
      expect(signedIn.refreshToken).toBeString();
      expect(signedIn.idToken).toBeString();
      // The profile holds the ID token's claims and what userinfo added (loadUserInfo).
      expect(signedIn.profile).toMatchObject({
        iss: issuer,
        aud: clientId,
        preferred_username: "spa_user",
        email: "spa_user@example.com",
      });
      expect(await page.evaluate((token) => window.spa.userinfoStatus(token), signedIn.accessToken)).toBe(
        200,
      );

      const refreshed = await page.evaluate(() => window.spa.silentRefresh());
      expect(refreshed.accessToken).not.toBe(signedIn.accessToken);
      expect(refreshed.idToken).not.toBe(signedIn.idToken);
      expect(refreshed.profile.sub).toBe(signedIn.profile.sub);
      expect(await page.evaluate((token) => window.spa.userinfoStatus(token), refreshed.accessToken)).toBe(
        200,
      );

      await page.evaluate(() => window.spa.revoke());
      expect(await page.evaluate((token) => window.spa.userinfoStatus(token), refreshed.accessToken)).toBe(
        401,
      );

      // Code exchange, refresh and both revocations left the SPA's origin: cross-origin, no secret.
      const sent = (path: string) => ({ path, origin: spaOrigin, method: "POST" });
      const requests = await Promise.all(
        tokenRequests.map(async ({ path, method, headers }) => ({
          path,
          method,
          origin: (await headers).origin,
        })),
      );
      expect(requests).toEqual([
        sent("/v1/oauth2/token"),
        sent("/v1/oauth2/token"),
        sent("/v1/oauth2/token/revoke"),
        sent("/v1/oauth2/token/revoke"),
      ]);
      // The only console error is the revoked token's 401.
      expect(consoleErrors.filter((message) => !message.includes("401"))).toEqual([]);
      await context.close();
    },
    { timeout: 60_000 },
  );

  test(
    "the same page from an unregistered origin is blocked by CORS at the token endpoint; the code stays unspent",
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const { consoleErrors, tokenRequests } = watch(page);
      await page.goto(`${foreignOrigin}/`);
      await page.waitForFunction(() => "spa" in window);
      const authorizeUrl = await page.evaluate(() => window.spa.createRequest());

      // The code lands at the registered callback; that page is kept from running so the foreign page
      // is the only one that tries to redeem it.
      const victim = await context.newPage();
      await victim.route(`${redirectUri}*`, (route) =>
        route.fulfill({ status: 200, contentType: "text/html", body: "<title>held</title>" }),
      );
      await victim.goto(authorizeUrl);
      await signInAndApprove(victim);
      await victim.waitForURL((url) => url.origin === spaOrigin && url.pathname === "/callback");
      const callbackUrl = victim.url();
      const code = new URL(callbackUrl).searchParams.get("code") as string;

      // Chromium may report the CORS refusal on the console after the page's fetch has rejected.
      const blocked = page.waitForEvent("console", {
        predicate: (message) => message.text().includes("has been blocked by CORS policy"),
        timeout: 15_000,
      });
      const result = await page.evaluate((url) => window.spa.complete(url), callbackUrl);
      await blocked;
      expect(result.ok).toBe(false);
      // One POST (a form needs no preflight), answered without CORS headers: the page reads nothing.
      expect(tokenRequests.map(({ path, method }) => ({ path, method }))).toEqual([
        { path: "/v1/oauth2/token", method: "POST" },
      ]);
      expect(result).toMatchObject({ message: "Failed to fetch" });
      expect(consoleErrors.join("\n")).toContain("has been blocked by CORS policy");

      // Refused before anything was written: the code is unconsumed and no family exists for it.
      const row = await server.deps.db
        .selectFrom("authorization_codes")
        .select("code_hash")
        .where("code_hash", "=", hashToken(code))
        .executeTakeFirst();
      expect(row).toEqual({ code_hash: hashToken(code) });
      const family = await server.deps.db
        .selectFrom("token_families")
        .select("id")
        .where("code_hash", "=", hashToken(code))
        .executeTakeFirst();
      expect(family).toBeUndefined();
      await context.close();
    },
    { timeout: 60_000 },
  );
});
