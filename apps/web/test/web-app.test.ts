import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, pickFreePort } from "../../server/test/support/browser.ts";
import { startTestServer } from "../../server/test/support/harness.ts";

const port = pickFreePort();
const issuer = `http://127.0.0.1:${port}`;
const server = await startTestServer({ PORT: String(port), ISSUER: issuer });

// The OAuth client's redirect target: a loopback page that only shows where the browser landed.
const callback = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () =>
    new Response("<!doctype html><title>callback</title><p>back at the client</p>", {
      headers: { "content-type": "text/html" },
    }),
});
const redirectUri = `http://127.0.0.1:${callback.port}/cb`;
const secondRedirect = "https://client.example/oauth/callback";
const artifacts = fileURLToPath(new URL("../../../artifacts/", import.meta.url));
mkdirSync(artifacts, { recursive: true });

// A 1×1 PNG: the icon upload goes through the real file input.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  callback.stop(true);
  await server.stop();
});

/** Everything that went wrong in the browser: console errors, page errors, failed or 4xx/5xx requests. */
function recordProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => problems.push(`failed: ${request.url()}`));
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
  });
  return problems;
}

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: issuer });
  return context;
}

/** Desktop and phone screenshots of the current page, full length. */
async function screenshots(page: Page, name: string): Promise<void> {
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
    await page.screenshot({ path: `${artifacts}web-${name}-${width}.png`, fullPage: true });
    // Nothing may overflow sideways at either width.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function signUp(page: Page, username: string): Promise<void> {
  await page.goto(`${issuer}/developers/applications`);
  // Signed out: the portal sends us to sign in, and sign-up keeps the way back.
  expect(new URL(page.url()).pathname).toBe("/login");
  expect(new URL(page.url()).searchParams.get("return_to")).toBe("/developers/applications");
  await page.getByRole("link", { name: "Create one" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Password").fill("password123");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${issuer}/developers/applications`);
  await page.getByRole("heading", { name: "Applications", level: 1 }).waitFor();
}

async function createApplication(page: Page, name: string): Promise<string> {
  await page.getByRole("button", { name: "New application" }).click();
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Create" }).click();
  await page.waitForURL(/\/developers\/applications\/\d+$/);
  await page.getByRole("heading", { name, level: 1 }).waitFor();
  return page.url().split("/").pop() as string;
}

async function storedApplication(id: string) {
  return server.deps.db.selectFrom("applications").selectAll().where("id", "=", id).executeTakeFirst();
}

describe("web app in Chromium", () => {
  test(
    "a developer creates an application, builds an authorize URL, and deauthorizes it again",
    async () => {
      const context = await newContext();
      const page = await context.newPage();
      const problems = recordProblems(page);

      await signUp(page, "portal_dev");
      await screenshots(page, "applications-empty");
      const id = await createApplication(page, "Portal Demo");

      // The secret and bot token are shown once, each with Copy and the warning.
      const fresh = page.getByRole("region", { name: "New credentials" });
      await expect(fresh.getByText("shown only once").count()).resolves.toBeGreaterThanOrEqual(2);
      await fresh.getByRole("button", { name: "Copy Client secret" }).click();
      await fresh.getByRole("status").first().getByText("Copied").waitFor();
      const secret = await page.evaluate(() => navigator.clipboard.readText());
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await fresh.getByLabel("Client secret", { exact: true }).inputValue()).toBe(secret);
      await expect(fresh.getByLabel("Bot token", { exact: true }).inputValue()).resolves.toStartWith(
        `${id}.`,
      );
      await screenshots(page, "application-created");

      // General information: every field, and an icon through the file input.
      const general = page.getByRole("region", { name: "General information" });
      await expect(general.getByLabel("Client ID", { exact: true }).inputValue()).resolves.toBe(id);
      await expect(general.getByLabel("Public key", { exact: true }).inputValue()).resolves.toMatch(
        /^[0-9a-f]{64}$/,
      );
      await general.getByLabel("Name").fill("Portal Demo App");
      await general.getByLabel("Description").fill("Shows the developer portal end to end.");
      await general
        .getByLabel("Icon")
        .setInputFiles({ name: "icon.png", mimeType: "image/png", buffer: PNG });
      await general.getByLabel("Terms of Service URL").fill("https://demo.example/terms");
      await general.getByLabel("Privacy Policy URL").fill("https://demo.example/privacy");
      await general.getByRole("button", { name: "Save changes" }).click();
      await general.getByRole("status").getByText("Saved").waitFor();
      const saved = await storedApplication(id);
      expect(saved?.name).toBe("Portal Demo App");
      expect(saved?.description).toBe("Shows the developer portal end to end.");
      expect(saved?.terms_of_service_url).toBe("https://demo.example/terms");
      expect(saved?.privacy_policy_url).toBe("https://demo.example/privacy");
      expect(saved?.icon_hash).toMatch(/^[0-9a-f]+$/);
      await page.getByRole("heading", { name: "Portal Demo App", level: 1 }).waitFor();

      // Two redirects.
      const oauth2 = page.getByRole("region", { name: "OAuth2" });
      await oauth2.getByRole("button", { name: "Add redirect" }).click();
      await oauth2.getByLabel("Redirect 1", { exact: true }).fill(redirectUri);
      await oauth2.getByRole("button", { name: "Add redirect" }).click();
      await oauth2.getByLabel("Redirect 2", { exact: true }).fill(secondRedirect);
      await oauth2.getByRole("button", { name: "Save redirects" }).click();
      await oauth2.getByRole("status").getByText("Saved").waitFor();
      expect((await storedApplication(id))?.redirect_uris).toEqual([redirectUri, secondRedirect]);

      // URL generator: identify + email, the loopback redirect; the URL starts the real consent flow.
      const generator = page.getByRole("region", { name: "URL generator" });
      await generator.getByLabel("identify").check();
      await generator.getByLabel("email").check();
      await generator.getByLabel("Redirect URL").selectOption(redirectUri);
      const url = await generator.getByLabel("Generated URL", { exact: true }).inputValue();
      expect(url).toBe(
        `${issuer}/v1/oauth2/authorize?client_id=${id}&response_type=code&redirect_uri=${encodeURIComponent(redirectUri)}&scope=identify%20email`,
      );
      await screenshots(page, "application");
      await page.goto(url);
      await page.getByRole("button", { name: "Authorize" }).click();
      await page.waitForURL((landed) => landed.port === String(callback.port));
      const code = new URL(page.url()).searchParams.get("code") as string;
      expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

      // The copied secret exchanges the code.
      const tokenResponse = await fetch(`${issuer}/v1/oauth2/token`, {
        method: "POST",
        headers: {
          authorization: `Basic ${btoa(`${id}:${secret}`)}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectUri }),
      });
      expect(tokenResponse.status).toBe(200);
      const tokens = (await tokenResponse.json()) as { access_token: string; scope: string };
      expect(tokens.scope).toBe("identify email");
      const userinfo = () =>
        fetch(`${issuer}/v1/oauth2/userinfo`, {
          headers: { authorization: `Bearer ${tokens.access_token}` },
        });
      expect((await userinfo()).status).toBe(200);

      // Authorized apps lists it with its scopes; Deauthorize kills the token at once.
      await page.goto(`${issuer}/developers/applications`);
      await page
        .getByRole("navigation", { name: "Main" })
        .getByRole("link", { name: "Authorized apps" })
        .click();
      await page.getByRole("heading", { name: "Authorized apps", level: 1 }).waitFor();
      const entry = page.getByRole("listitem", { name: "Portal Demo App" });
      await entry.getByText("identify").waitFor();
      await entry.getByText("email", { exact: true }).waitFor();
      await screenshots(page, "authorized-apps");
      await entry.getByRole("button", { name: "Deauthorize" }).click();
      await page.getByText("You have not authorized any apps.").waitFor();
      expect((await userinfo()).status).toBe(401);

      await page.goto(`${issuer}/developers/applications`);
      await page.getByRole("link", { name: "Portal Demo App" }).waitFor();
      await screenshots(page, "applications");

      expect(problems).toEqual([]);
      await context.close();
    },
    { timeout: 90_000 },
  );
});
