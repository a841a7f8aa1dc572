import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { hashToken } from "../src/crypto.ts";
import { launchChromium, pickFreePort } from "./support/browser.ts";
import { insertTestApplication, type TestApplication } from "./support/fixtures.ts";
import { startTestServer, type TestApp } from "./support/harness.ts";

const port = pickFreePort();
const issuer = `http://127.0.0.1:${port}`;
const server = await startTestServer({ PORT: String(port), ISSUER: issuer });

// The client's redirect URI: a loopback page that just shows where the browser landed.
const callback = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () =>
    new Response("<!doctype html><title>callback</title><p>back at the client</p>", {
      headers: { "content-type": "text/html" },
    }),
});
const redirectUri = `http://127.0.0.1:${callback.port}/cb`;
const artifacts = fileURLToPath(new URL("../../../artifacts/", import.meta.url));

let browser: Browser;
let application: TestApplication;

beforeAll(async () => {
  browser = await launchChromium();
  const owner = await server.deps.db
    .insertInto("users")
    .values({
      id: server.deps.nextId(),
      username: "acme_dev",
      discriminator: "0001",
      global_name: null,
      avatar: null,
      email: "dev@acme.example",
      verified: true,
      flags: 0,
      bot: false,
      system: false,
      password_hash: null,
      created_at: new Date(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  // The fixture needs only the database, the id generator and a clock.
  const t = { deps: server.deps, clock: server.deps.clock } as unknown as TestApp;
  application = await insertTestApplication(t, {
    ownerId: owner.id,
    name: "Acme Chat Bridge",
    description: "Bridges your Fluxer messages to Acme.",
    redirectUris: [redirectUri],
  });
  await server.deps.db
    .updateTable("applications")
    .set({
      terms_of_service_url: "https://acme.example/terms",
      privacy_policy_url: "https://acme.example/privacy",
    })
    .where("id", "=", application.id)
    .execute();
});

afterAll(async () => {
  await browser?.close();
  callback.stop(true);
  await server.stop();
});

function authorizeUrl(state: string): string {
  const params = new URLSearchParams({
    client_id: application.id,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "identify email guilds",
    state,
    code_challenge: "E9Melhoe2OwvFrEMTJguCQGfYmOYw-zxY6H5jkmjhyk",
    code_challenge_method: "S256",
  });
  return `${issuer}/v1/oauth2/authorize?${params}`;
}

describe("authorization flow in Chromium", () => {
  test(
    "sign up, sign in from the authorize URL, narrow scopes, approve; then deny",
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();

      // Sign up, then sign out, so the authorize URL meets a signed-out browser.
      await page.goto(`${issuer}/register`);
      await page.fill("#username", "browser_user");
      await page.fill("#email", "browser_user@example.com");
      await page.fill("#password", "password123");
      await page.click("button[type=submit]");
      expect(String(await page.locator("main").textContent())).toContain("Signed in as browser_user");
      await page.click("text=Sign out");
      expect(String(await page.locator("main").textContent())).toContain("Sign in");

      // The authorize URL sends us to the sign-in page, which brings us back to the consent page.
      await page.goto(authorizeUrl("state-approve-1"));
      expect(new URL(page.url()).pathname).toBe("/login");
      await page.fill("#login", "browser_user");
      await page.fill("#password", "password123");
      await page.click("button[type=submit]");
      expect(new URL(page.url()).pathname).toBe("/v1/oauth2/authorize");
      const main = page.locator("main");
      expect(String(await main.textContent())).toContain("Acme Chat Bridge");
      expect(String(await main.textContent())).toContain("Bridges your Fluxer messages to Acme.");
      expect(String(await main.textContent())).toContain("acme_dev");
      expect(await page.getAttribute("text=Terms of Service", "href")).toBe("https://acme.example/terms");
      expect(await page.getAttribute("text=Privacy Policy", "href")).toBe("https://acme.example/privacy");

      // Untick the optional email scope; identify cannot be unticked.
      expect(await page.isDisabled("input[type=checkbox][disabled]")).toBe(true);
      await page.uncheck("input[name=grant][value=email]");
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: `${artifacts}consent.png`, fullPage: true });

      await page.click("button[value=approve]");
      await page.waitForURL((url) => url.port === String(callback.port));
      const landed = new URL(page.url());
      expect(`${landed.origin}${landed.pathname}`).toBe(redirectUri);
      expect(landed.searchParams.get("state")).toBe("state-approve-1");
      expect(landed.searchParams.get("iss")).toBe(issuer);
      const code = landed.searchParams.get("code") as string;
      expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const row = await server.deps.db
        .selectFrom("authorization_codes")
        .selectAll()
        .where("code_hash", "=", hashToken(code))
        .executeTakeFirstOrThrow();
      expect(row.scopes).toEqual(["identify", "guilds"]);
      expect(row.redirect_uri).toBe(redirectUri);

      // Second run, still signed in: straight to the consent page, and this time deny.
      const consentPage = await page.goto(authorizeUrl("state-deny-2"));
      const headers = consentPage?.headers() ?? {};
      expect(headers["x-frame-options"]).toBe("DENY");
      expect(headers["referrer-policy"]).toBe("no-referrer");
      expect(headers["x-content-type-options"]).toBe("nosniff");
      // Widened to exactly the client's origin, or Chromium would block the 303 after the POST.
      expect(headers["content-security-policy"]).toContain(
        `form-action 'self' http://127.0.0.1:${callback.port};`,
      );
      expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      await page.click("button[value=deny]");
      await page.waitForURL((url) => url.port === String(callback.port));
      const denied = new URL(page.url());
      expect(denied.searchParams.get("error")).toBe("access_denied");
      expect(denied.searchParams.get("state")).toBe("state-deny-2");
      expect(denied.searchParams.get("iss")).toBe(issuer);
      expect(denied.searchParams.has("code")).toBe(false);
      await context.close();
    },
    { timeout: 60_000 },
  );
});
