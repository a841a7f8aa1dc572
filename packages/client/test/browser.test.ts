/**
 * The client library in Chromium, on pages served from origins other than the issuer's: CORS for
 * `/trpc` (SPEC §15) and the OAuth session's single-flight refresh across tabs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { launchChromium, pickFreePort } from "@fluxer/server/test/support/browser.ts";
import { startTestServer } from "@fluxer/server/test/support/harness.ts";
import { createClient } from "../src/index.ts";
import { createOAuthClient, type TokenSet } from "../src/oauth.ts";

type Browser = Awaited<ReturnType<typeof launchChromium>>;

const bundle = await Bun.build({
  entrypoints: [join(import.meta.dir, "browser", "page.ts")],
  target: "browser",
  format: "esm",
});
if (!bundle.success) throw new AggregateError(bundle.logs, "page bundle failed");
const script = await bundle.outputs[0]?.text();

const HTML =
  '<!doctype html><meta charset="utf-8"><title>client</title><script type="module" src="/page.js"></script>';
const DELAY_MS = 300;

/**
 * A frontend's own origin: the page, its bundle, and `/proxy`, which forwards OAuth requests to the
 * issuer after a pause (so tabs that refresh without coordination would overlap) and counts them.
 */
function servePages(issuer: () => string) {
  const forwarded: string[] = [];
  const pages = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname === "/") return new Response(HTML, { headers: { "content-type": "text/html" } });
      if (url.pathname === "/favicon.ico") return new Response(null, { status: 204 });
      if (url.pathname === "/page.js")
        return new Response(script, { headers: { "content-type": "text/javascript" } });
      if (url.pathname === "/proxy") {
        const target = url.searchParams.get("to") ?? "";
        if (!target.startsWith(`${issuer()}/v1/oauth2/`)) return new Response("not proxied", { status: 400 });
        forwarded.push(new URL(target).pathname);
        await Bun.sleep(DELAY_MS);
        const headers = new Headers(request.headers);
        headers.delete("origin");
        headers.delete("host");
        const answer = await fetch(target, { method: request.method, headers, body: await request.text() });
        return new Response(await answer.text(), { status: answer.status, headers: answer.headers });
      }
      return new Response("not found", { status: 404 });
    },
  });
  return { origin: `http://127.0.0.1:${pages.port}`, forwarded, stop: () => pages.stop(true) };
}

let issuer = "";
const allowed = servePages(() => issuer);
const unlisted = servePages(() => issuer);
const port = pickFreePort();
issuer = `http://127.0.0.1:${port}`;
const server = await startTestServer({ PORT: String(port), ISSUER: issuer, CORS_ORIGINS: allowed.origin });

const { token: sessionToken } = await createClient({ url: issuer }).auth.register.mutate({
  username: "browser_client",
  email: "browser_client@example.com",
  password: "password123",
});

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  allowed.stop();
  unlisted.stop();
  await server.stop();
});

async function openPage(origin: string, context?: Awaited<ReturnType<Browser["newContext"]>>) {
  const ctx = context ?? (await browser.newContext());
  const page = await ctx.newPage();
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => "fluxerTest" in window);
  return { page, context: ctx, consoleErrors };
}

describe("typed client from another origin", () => {
  test(
    "a page on an origin in CORS_ORIGINS calls users.me through createClient and gets the user",
    async () => {
      const { page, context, consoleErrors } = await openPage(allowed.origin);
      const result = await page.evaluate(({ url, token }) => window.fluxerTest.me(url, token), {
        url: issuer,
        token: sessionToken,
      });
      expect(result).toEqual({ ok: true, username: "browser_client" });
      expect(consoleErrors).toEqual([]);
      await context.close();
    },
    { timeout: 30_000 },
  );

  test(
    "from an origin that is not listed, the browser blocks the call",
    async () => {
      const { page, context, consoleErrors } = await openPage(unlisted.origin);
      const result = await page.evaluate(({ url, token }) => window.fluxerTest.me(url, token), {
        url: issuer,
        token: sessionToken,
      });
      expect(result.ok).toBe(false);
      expect(result).toMatchObject({ message: "Failed to fetch" });
      expect(consoleErrors.join("\n")).toContain("has been blocked by CORS policy");
      await context.close();
    },
    { timeout: 30_000 },
  );
});

describe("OAuth session across tabs", () => {
  test(
    "two tabs refreshing one expired session at once make exactly one token request (Web Locks + localStorage)",
    async () => {
      const redirectUri = "https://tabs.example/callback";
      const application = await createClient({ url: issuer, token: sessionToken }).applications.create.mutate(
        {
          name: "Tabs",
          redirect_uris: [redirectUri],
        },
      );
      const oauth = createOAuthClient({
        issuer,
        clientId: application.id,
        clientSecret: application.client_secret,
        redirectUri,
      });
      const request = await oauth.authorizationUrl({ scope: "identify" });
      const consent = await fetch(`${issuer}/v1/oauth2/authorize/consent`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: sessionToken },
        body: JSON.stringify(Object.fromEntries(new URL(request.url).searchParams)),
      });
      const { redirect_to } = (await consent.json()) as { redirect_to: string };
      const tokens = await oauth.exchangeCode(redirect_to, request);
      const expired: TokenSet = { ...tokens, expires_at: 0 };

      // Two tabs of one browser profile: they share localStorage and the Web Locks of the origin.
      const first = await openPage(allowed.origin);
      const second = await openPage(allowed.origin, first.context);
      expect(await first.page.evaluate(() => window.fluxerTest.hasWebLocks())).toBe(true);
      allowed.forwarded.length = 0;
      const options = {
        issuer,
        clientId: application.id,
        clientSecret: application.client_secret,
        redirectUri,
        tokens: expired,
        calls: 5,
      };
      const [fromFirst, fromSecond] = await Promise.all([
        first.page.evaluate((o) => window.fluxerTest.accessTokens(o), options),
        second.page.evaluate((o) => window.fluxerTest.accessTokens(o), options),
      ]);
      expect(allowed.forwarded).toEqual(["/v1/oauth2/token"]);
      const all = new Set([...fromFirst, ...fromSecond]);
      expect(all.size).toBe(1);
      const [accessToken] = [...all];
      expect(accessToken).not.toBe(tokens.access_token);
      // No reuse was detected: the family is alive and the new token works.
      expect(await oauth.introspect(accessToken as string)).toMatchObject({ active: true });
      expect(first.consoleErrors).toEqual([]);
      expect(second.consoleErrors).toEqual([]);
      await first.context.close();
    },
    { timeout: 30_000 },
  );
});
