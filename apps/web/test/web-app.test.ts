import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Request as BrowserRequest, Page } from "playwright-core";
import { hashToken } from "../../server/src/crypto.ts";
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
  // A request still in flight when the test navigates away is cancelled by Chromium (net::ERR_ABORTED):
  // that is the navigation, not a failure of the app. Any other failure counts.
  let navigations = 0;
  const startedAt = new WeakMap<BrowserRequest, number>();
  page.on("request", (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) navigations++;
    else startedAt.set(request, navigations);
  });
  page.on("requestfailed", (request) => {
    const cutByNavigation =
      request.failure()?.errorText === "net::ERR_ABORTED" &&
      navigations > (startedAt.get(request) ?? navigations);
    if (!cutByNavigation) problems.push(`failed: ${request.url()} (${request.failure()?.errorText})`);
  });
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

/** Waits (up to 5 s) for a condition the page brings about asynchronously. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if (await condition()) return;
    await Bun.sleep(50);
  }
  throw new Error("condition not met within 5 s");
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

      // The "Public client" switch saves at once, and back.
      const publicClient = oauth2.getByRole("switch", { name: "Public client" });
      await publicClient.check();
      await until(async () => (await storedApplication(id))?.public_client === true);
      expect(await publicClient.isChecked()).toBe(true);
      // The URL generator says what a public client adds to its URL (PKCE S256).
      const generatorHint = page
        .getByRole("region", { name: "URL generator" })
        .getByText("adds its own code_challenge");
      await generatorHint.waitFor();
      await publicClient.uncheck();
      await until(async () => (await storedApplication(id))?.public_client === false);
      await generatorHint.waitFor({ state: "detached" });

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

      const portal = await page.goto(`${issuer}/developers/applications`);
      await page.getByRole("link", { name: "Portal Demo App" }).waitFor();
      await screenshots(page, "applications");

      // The pages' security headers, with a CSP that admits only the app's own bundle.
      const headers = portal?.headers() ?? {};
      expect(headers["x-frame-options"]).toBe("DENY");
      expect(headers["referrer-policy"]).toBe("no-referrer");
      expect(headers["x-content-type-options"]).toBe("nosniff");
      expect(headers["content-security-policy"]).toContain("script-src 'self';");
      expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      expect(headers["content-security-policy"]).not.toContain("unsafe");
      // Secrets were shown, copied and used, yet nothing was kept in web storage.
      expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);

      expect(problems).toEqual([]);
      await context.close();
    },
    { timeout: 90_000 },
  );

  test(
    "a second tab saving after the first is told the application changed elsewhere; nothing is overwritten",
    async () => {
      const context = await newContext();
      const first = await context.newPage();
      await signUp(first, "race_dev");
      const id = await createApplication(first, "Race App");
      const second = await context.newPage();
      await second.goto(`${issuer}/developers/applications/${id}`);
      await second.getByRole("heading", { name: "Race App", level: 1 }).waitFor();

      const firstGeneral = first.getByRole("region", { name: "General information" });
      await firstGeneral.getByLabel("Name").fill("Saved By The First Tab");
      await firstGeneral.getByRole("button", { name: "Save changes" }).click();
      await firstGeneral.getByRole("status").getByText("Saved").waitFor();

      const secondGeneral = second.getByRole("region", { name: "General information" });
      await secondGeneral.getByLabel("Description").fill("written in the second tab");
      await secondGeneral.getByRole("button", { name: "Save changes" }).click();
      await secondGeneral.getByRole("alert").getByText("changed elsewhere").waitFor();

      const stored = await storedApplication(id);
      expect(stored?.name).toBe("Saved By The First Tab");
      expect(stored?.description).toBeNull();
      expect(stored?.version).toBe(2);

      // Reload shows what the first tab saved; the stale draft is gone.
      await secondGeneral.getByRole("button", { name: "Reload" }).click();
      await second.getByRole("heading", { name: "Saved By The First Tab", level: 1 }).waitFor();
      expect(
        await second
          .getByRole("region", { name: "General information" })
          .getByLabel("Description")
          .inputValue(),
      ).toBe("");
      await context.close();
    },
    { timeout: 60_000 },
  );

  test(
    "the server's field errors appear next to their fields, and nothing is saved",
    async () => {
      const context = await newContext();
      const page = await context.newPage();
      await signUp(page, "fields_dev");
      const id = await createApplication(page, "Fields App");
      const general = page.getByRole("region", { name: "General information" });
      await general.getByLabel("Name").fill("   ");
      await general.getByLabel("Terms of Service URL").fill("http://insecure.example/terms");
      await general.getByRole("button", { name: "Save changes" }).click();
      // Each message is the field's description, so a screen reader reads it with the field.
      const terms = general.getByLabel("Terms of Service URL");
      await general.getByText("Must be an absolute https URL").waitFor();
      expect(await terms.getAttribute("aria-invalid")).toBe("true");
      const describedBy = (await terms.getAttribute("aria-describedby")) ?? "";
      expect(await page.locator(`[id="${describedBy.split(" ").pop()}"]`).textContent()).toBe(
        "Must be an absolute https URL",
      );
      expect(await general.getByLabel("Name").getAttribute("aria-invalid")).toBe("true");
      await general.getByText("Name must be 1–100 characters").waitFor();

      const oauth2 = page.getByRole("region", { name: "OAuth2" });
      await oauth2.getByRole("button", { name: "Add redirect" }).click();
      await oauth2.getByLabel("Redirect 1", { exact: true }).fill("myapp://callback");
      await oauth2.getByRole("button", { name: "Save redirects" }).click();
      await oauth2.getByText("Redirect URI must be an absolute https URL").waitFor();

      const stored = await storedApplication(id);
      expect(stored?.name).toBe("Fields App");
      expect(stored?.terms_of_service_url).toBeNull();
      expect(stored?.redirect_uris).toEqual([]);
      expect(stored?.version).toBe(1);
      await context.close();
    },
    { timeout: 60_000 },
  );

  test(
    "reset secret and delete ask for the password; a wrong one changes nothing and says so",
    async () => {
      const context = await newContext();
      const page = await context.newPage();
      await signUp(page, "sudo_dev");
      const id = await createApplication(page, "Sudo App");
      const before = await storedApplication(id);

      const oauth2 = page.getByRole("region", { name: "OAuth2" });
      await oauth2.getByRole("button", { name: "Reset secret" }).click();
      await oauth2.getByLabel("Password").fill("not-my-password");
      await oauth2.getByRole("button", { name: "Confirm" }).click();
      await oauth2.getByText("Wrong password. Nothing was changed.").waitFor();
      expect((await storedApplication(id))?.client_secret_hash).toBe(before?.client_secret_hash as string);

      const danger = page.getByRole("region", { name: "Delete application" });
      await danger.getByLabel("Password").fill("not-my-password");
      await danger.getByRole("button", { name: "Delete application" }).click();
      await danger.getByText("Wrong password. Nothing was changed.").waitFor();
      expect(await storedApplication(id)).toBeDefined();

      // The right password: a new secret, shown once; then the application is gone.
      await oauth2.getByLabel("Password").fill("password123");
      await oauth2.getByRole("button", { name: "Confirm" }).click();
      const secret = await oauth2.getByLabel("Client secret", { exact: true }).inputValue();
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      await oauth2.getByText("shown only once").waitFor();
      expect((await storedApplication(id))?.client_secret_hash).toBe(hashToken(secret));

      await danger.getByLabel("Password").fill("password123");
      await danger.getByRole("button", { name: "Delete application" }).click();
      await page.waitForURL(`${issuer}/developers/applications`);
      await page.getByText("You have no applications yet.").waitFor();
      expect(await storedApplication(id)).toBeUndefined();
      await context.close();
    },
    { timeout: 60_000 },
  );

  test(
    "security events list a refresh token reuse and the family it revoked",
    async () => {
      const context = await newContext();
      const page = await context.newPage();
      await signUp(page, "events_dev");
      const id = await createApplication(page, "Events App");
      const secret = await page
        .getByRole("region", { name: "New credentials" })
        .getByLabel("Client secret", { exact: true })
        .inputValue();
      const oauth2 = page.getByRole("region", { name: "OAuth2" });
      await oauth2.getByRole("button", { name: "Add redirect" }).click();
      await oauth2.getByLabel("Redirect 1", { exact: true }).fill(redirectUri);
      await oauth2.getByRole("button", { name: "Save redirects" }).click();
      await oauth2.getByRole("status").getByText("Saved").waitFor();

      // Over HTTP, as a client would: consent (first-party JSON route), exchange, rotate, replay.
      const session = (await context.cookies(issuer)).find((cookie) => cookie.name === "flx_session");
      const consent = await fetch(`${issuer}/v1/oauth2/authorize/consent`, {
        method: "POST",
        headers: { authorization: session?.value ?? "", "content-type": "application/json" },
        body: JSON.stringify({
          client_id: id,
          redirect_uri: redirectUri,
          response_type: "code",
          scope: "identify",
        }),
      });
      const { redirect_to } = (await consent.json()) as { redirect_to: string };
      const code = new URL(redirect_to).searchParams.get("code") as string;
      const token = (form: Record<string, string>) =>
        fetch(`${issuer}/v1/oauth2/token`, {
          method: "POST",
          headers: { authorization: `Basic ${btoa(`${id}:${secret}`)}` },
          body: new URLSearchParams(form),
        });
      const issued = (await (
        await token({ grant_type: "authorization_code", code, redirect_uri: redirectUri })
      ).json()) as { refresh_token: string };
      expect((await token({ grant_type: "refresh_token", refresh_token: issued.refresh_token })).status).toBe(
        200,
      );
      const reuse = await token({ grant_type: "refresh_token", refresh_token: issued.refresh_token });
      expect(reuse.status).toBe(400);

      await page.reload();
      const events = page.getByRole("region", { name: "Security events" });
      await events.getByText("Refresh token reuse detected").waitFor();
      await events.getByText("Token family revoked").waitFor();
      await events.getByText("Redirect URIs changed").waitFor();
      await events.getByText("Because a used refresh token was presented again").waitFor();
      // Newest first: the revocation follows the detection, the redirect change came before both.
      const titles = await events.locator("li strong").allTextContents();
      expect(titles.indexOf("Redirect URIs changed")).toBeGreaterThan(
        titles.indexOf("Refresh token reuse detected"),
      );
      await screenshots(page, "security-events");
      await context.close();
    },
    { timeout: 60_000 },
  );

  test(
    "keyboard only: every control on every page is reachable by Tab and has an accessible name",
    async () => {
      const context = await newContext();
      const page = await context.newPage();
      const problems = recordProblems(page);
      await signUp(page, "keyboard_dev");
      const id = await createApplication(page, "Keyboard App");
      for (const path of [
        "/developers/applications",
        `/developers/applications/${id}`,
        "/settings/authorized-apps",
      ]) {
        await page.goto(`${issuer}${path}`);
        await page.getByRole("heading", { level: 1 }).waitFor();
        await page.waitForLoadState("networkidle");
        const { reached, total, unnamed } = await walkWithTab(page);
        expect({ path, reached }).toEqual({ path, reached: total });
        expect({ path, unnamed }).toEqual({ path, unnamed: [] });
      }
      expect(problems).toEqual([]);
      await context.close();
    },
    { timeout: 60_000 },
  );
});

/**
 * Marks every visible, enabled control, presses Tab until focus has gone round the page, and asks
 * Chromium's accessibility tree for each control's computed name.
 */
async function walkWithTab(page: Page): Promise<{ reached: number; total: number; unnamed: string[] }> {
  const total = await page.evaluate(() => {
    const controls = [
      ...document.querySelectorAll<HTMLElement>("a[href], button, input, select, textarea"),
    ].filter((element) => !(element as HTMLButtonElement).disabled && element.getClientRects().length > 0);
    controls.forEach((element, index) => {
      element.dataset.kb = String(index);
    });
    (document.activeElement as HTMLElement | null)?.blur();
    return controls.length;
  });
  // Every page has at least the navigation, the sign-out button and its own controls.
  expect(total).toBeGreaterThan(3);
  const reached = new Set<string>();
  for (let press = 0; press < total + 3; press++) {
    await page.keyboard.press("Tab");
    const mark = await page.evaluate(
      () => (document.activeElement as HTMLElement | null)?.dataset.kb ?? null,
    );
    if (mark !== null) reached.add(mark);
  }
  const cdp = await page.context().newCDPSession(page);
  const { root } = await cdp.send("DOM.getDocument", { depth: -1 });
  const { nodeIds } = await cdp.send("DOM.querySelectorAll", { nodeId: root.nodeId, selector: "[data-kb]" });
  const unnamed: string[] = [];
  for (const nodeId of nodeIds) {
    const { nodes } = await cdp.send("Accessibility.getPartialAXTree", { nodeId, fetchRelatives: false });
    const name = nodes[0]?.name?.value;
    if (typeof name !== "string" || name.trim() === "") {
      const { outerHTML } = await cdp.send("DOM.getOuterHTML", { nodeId });
      unnamed.push(outerHTML.slice(0, 120));
    }
  }
  await cdp.detach();
  return { reached: reached.size, total, unnamed };
}
