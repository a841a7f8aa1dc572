/**
 * The server-rendered pages as a first-time user meets them, in Chromium at 1280 and 375 px:
 * consent page focus order and account switching, sign-in and sign-up forms, plain-words error pages with a way home, the HTML
 * 404, the favicon, and no console errors anywhere.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, ConsoleMessage, Locator, Page } from "playwright-core";
import { hashToken } from "../src/crypto.ts";
import { createSession, validateSessionToken } from "../src/domain/sessions.ts";
import { createUser } from "../src/domain/users.ts";
import { sessionCsrfToken } from "../src/http/csrf.ts";
import { launchChromium, pickFreePort } from "./support/browser.ts";
import { insertTestApplication, type TestApplication } from "./support/fixtures.ts";
import { startTestServer, type TestApp } from "./support/harness.ts";

const port = pickFreePort();
const issuer = `http://127.0.0.1:${port}`;
const server = await startTestServer({ PORT: String(port), ISSUER: issuer });

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
const PASSWORD = "password123";
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 375, height: 740 };

let browser: Browser;
let application: TestApplication;
let aliceId: string;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
  const now = server.deps.clock.now();
  const owner = await createUser(server.deps.db, {
    id: server.deps.nextId(),
    username: "pages_owner",
    email: "pages_owner@example.com",
    password: PASSWORD,
    now,
  });
  await createUser(server.deps.db, {
    id: server.deps.nextId(),
    username: "bob",
    email: "bob@example.com",
    password: PASSWORD,
    now,
  });
  aliceId = (
    await createUser(server.deps.db, {
      id: server.deps.nextId(),
      username: "alice",
      email: "alice@example.com",
      password: PASSWORD,
      now,
    })
  ).id;
  const t = { deps: server.deps, clock: server.deps.clock } as unknown as TestApp;
  application = await insertTestApplication(t, {
    ownerId: owner.id,
    name: "Pages Test App",
    description: "Shows your name in the Pages Test App.",
    redirectUris: [redirectUri],
  });
  await server.deps.db
    .updateTable("applications")
    .set({
      terms_of_service_url: "https://pages.example/terms",
      privacy_policy_url: "https://pages.example/privacy",
    })
    .where("id", "=", application.id)
    .execute();
});

afterAll(async () => {
  await browser?.close();
  callback.stop(true);
  await server.stop();
});

function authorizeUrl(overrides: Record<string, string> = {}): string {
  const params = new URLSearchParams({
    client_id: application.id,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "identify email guilds",
    state: "st-pages",
    code_challenge: "E9Melhoe2OwvFrEMTJguCQGfYmOYw-zxY6H5jkmjhyk",
    code_challenge_method: "S256",
    ...overrides,
  });
  return `${issuer}/v1/oauth2/authorize?${params}`;
}

async function signIn(page: Page, username: string): Promise<void> {
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** A fresh browser profile signed in as `username` (through the sign-in form). */
async function signedInContext(username: string, viewport = WIDE): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${issuer}/login`);
  await signIn(page, username);
  await page.waitForURL(`${issuer}/`);
  await page.close();
  return context;
}

async function box(locator: Locator) {
  const found = await locator.boundingBox();
  if (!found) throw new Error(`not rendered: ${locator}`);
  return found;
}

/** The card keeps ≥ 12 px on both sides and nothing scrolls sideways. */
async function expectFitsNarrowScreen(page: Page): Promise<void> {
  const card = await box(page.getByRole("main"));
  const viewport = page.viewportSize()?.width ?? 0;
  expect(viewport).toBe(NARROW.width);
  expect(card.x).toBeGreaterThanOrEqual(12);
  expect(viewport - (card.x + card.width)).toBeGreaterThanOrEqual(12);
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(widths.scroll).toBeLessThanOrEqual(widths.client);
}

describe("consent page", () => {
  test("Tab order follows the on-screen order, Authorize last; identify is marked required", async () => {
    const context = await signedInContext("bob");
    const page = await context.newPage();
    await page.goto(authorizeUrl());
    await expect(page.getByRole("heading", { name: "Pages Test App" }).isVisible()).resolves.toBe(true);

    const identify = page.getByRole("checkbox", { name: /Know your username, avatar and user id/ });
    expect(await identify.isChecked()).toBe(true);
    expect(await identify.isDisabled()).toBe(true);
    // Said in words, inside the checkbox's own label, not only by the grey of a disabled control.
    expect(await identify.getAttribute("disabled")).not.toBeNull();
    expect(await page.getByRole("checkbox", { name: /required/ }).count()).toBe(1);
    expect(await page.getByRole("checkbox", { name: /Know your email address$/ }).isEnabled()).toBe(true);

    // The controls in reading order, as a sighted user sees them.
    const expected: [string, Locator][] = [
      ["Switch account", page.getByRole("button", { name: "Switch account" })],
      ["email", page.getByRole("checkbox", { name: "Know your email address" })],
      ["guilds", page.getByRole("checkbox", { name: "Know which communities you are in" })],
      ["Terms of Service", page.getByRole("link", { name: "Terms of Service" })],
      ["Privacy Policy", page.getByRole("link", { name: "Privacy Policy" })],
      ["Cancel", page.getByRole("button", { name: "Cancel" })],
      ["Authorize", page.getByRole("button", { name: "Authorize" })],
    ];
    // That list is every focusable control on the page…
    const focusable = page.locator("a[href], button, input:not([type=hidden]):not([disabled])");
    expect(await focusable.count()).toBe(expected.length);
    // …and it is the on-screen order: each control is below the previous one, or on its row to the right.
    const boxes = await Promise.all(expected.map(([, locator]) => box(locator)));
    for (let i = 1; i < boxes.length; i++) {
      const [before, after] = [boxes[i - 1], boxes[i]] as [(typeof boxes)[0], (typeof boxes)[0]];
      const sameRow =
        Math.abs(before.y + before.height / 2 - (after.y + after.height / 2)) < before.height / 2;
      if (sameRow) expect(after.x).toBeGreaterThan(before.x);
      else expect(after.y).toBeGreaterThan(before.y);
    }
    // Cancel and Authorize share a row, Authorize on the right.
    const [cancel, authorize] = boxes.slice(-2) as [(typeof boxes)[0], (typeof boxes)[0]];
    expect(Math.abs(cancel.y - authorize.y)).toBeLessThan(2);
    expect(authorize.x).toBeGreaterThan(cancel.x);

    // Tab visits them in that same order.
    const sequence: string[] = [];
    for (const [name, locator] of expected) {
      await page.keyboard.press("Tab");
      const focused = await locator.evaluate((element) => element === document.activeElement);
      sequence.push(focused ? name : `not ${name}`);
    }
    expect(sequence).toEqual(expected.map(([name]) => name));
    await page.screenshot({ path: `${artifacts}consent-1280.png`, fullPage: true });
    await context.close();
  }, 60_000);

  test("Switch account signs out and returns to the same request, signed in as someone else", async () => {
    const context = await signedInContext("bob");
    const [bobCookie] = (await context.cookies()).filter((cookie) => cookie.name === "flx_session");
    expect(bobCookie?.value).toMatch(/^flx_/);
    const page = await context.newPage();
    const request = authorizeUrl({ state: "st-switch", scope: "identify email" });
    await page.goto(request);
    expect(await page.getByRole("main").textContent()).toContain("Signed in as bob");

    await page.getByRole("button", { name: "Switch account" }).click();
    await page.waitForURL((url) => url.pathname === "/login");
    // bob's session is over on the server, not only forgotten by the browser.
    expect(
      await validateSessionToken(server.deps.db, bobCookie?.value ?? "", server.deps.clock.now()),
    ).toBeNull();
    const returnTo = new URL(page.url()).searchParams.get("return_to");
    expect(`${issuer}${returnTo}`).toBe(request);

    await signIn(page, "alice");
    await page.waitForURL(request);
    expect(page.url()).toBe(request);
    expect(await page.getByRole("main").textContent()).toContain("Signed in as alice");
    await page.getByRole("button", { name: "Authorize" }).click();
    await page.waitForURL((url) => url.port === String(callback.port));
    const landed = new URL(page.url());
    expect(landed.searchParams.get("state")).toBe("st-switch");
    const code = await server.deps.db
      .selectFrom("authorization_codes")
      .select(["user_id", "scopes"])
      .where("code_hash", "=", hashToken(landed.searchParams.get("code") ?? ""))
      .executeTakeFirstOrThrow();
    expect(code.user_id).toBe(aliceId);
    expect(code.scopes).toEqual(["identify", "email"]);
    await context.close();
  }, 60_000);

  test("at 375 px the card keeps 12 px margins and nothing scrolls sideways", async () => {
    const context = await signedInContext("bob", NARROW);
    const page = await context.newPage();
    await page.goto(authorizeUrl());
    await expectFitsNarrowScreen(page);
    const cancel = await box(page.getByRole("button", { name: "Cancel" }));
    const authorize = await box(page.getByRole("button", { name: "Authorize" }));
    expect(authorize.x).toBeGreaterThan(cancel.x);
    await page.screenshot({ path: `${artifacts}consent-375.png`, fullPage: true });
    await context.close();
  }, 60_000);

  test("sign-out follows only a same-origin return_to (no open redirect)", async () => {
    const bob = await server.deps.db
      .selectFrom("users")
      .select("id")
      .where("username", "=", "bob")
      .executeTakeFirstOrThrow();
    const signOut = async (returnTo: string) => {
      const { token } = await createSession(server.deps.db, {
        id: server.deps.nextId(),
        userId: bob.id,
        now: server.deps.clock.now(),
        ttlSeconds: 3600,
      });
      const res = await fetch(`${issuer}/logout`, {
        method: "POST",
        redirect: "manual",
        headers: {
          origin: issuer,
          cookie: `flx_session=${token}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ csrf_token: sessionCsrfToken(token), return_to: returnTo }).toString(),
      });
      expect(res.status).toBe(303);
      expect(await validateSessionToken(server.deps.db, token, server.deps.clock.now())).toBeNull();
      return res.headers.get("location");
    };
    const request = new URL(authorizeUrl());
    expect(await signOut(request.pathname + request.search)).toBe(request.pathname + request.search);
    for (const hostile of [
      "//evil.example/x",
      "https://evil.example/",
      "/\\evil.example",
      "javascript:alert(1)",
    ])
      expect(await signOut(hostile)).toBe("/");
  });
});

describe("error pages", () => {
  const cases = [
    {
      name: "unknown-client",
      url: () => authorizeUrl({ client_id: "123456789012345678" }),
      status: 400,
      heading: "This link to sign in with an app is broken or out of date",
      words: "Fluxer does not know the app that sent you here",
      detail: "invalid_client: Unknown client_id",
    },
    {
      name: "redirect-mismatch",
      url: () => authorizeUrl({ redirect_uri: "https://evil.example/cb" }),
      status: 400,
      heading: "This link to sign in with an app is broken or out of date",
      words: "would send you back to an address the app never registered",
      detail: "invalid_request: redirect_uri is not registered for this client",
    },
    {
      name: "not-found",
      url: () => `${issuer}/nope/deeper?x=1`,
      status: 404,
      heading: "Page not found",
      words: "There is nothing at this address",
      detail: "404 Not Found: GET /nope/deeper",
    },
  ];

  for (const viewport of [WIDE, NARROW])
    for (const c of cases)
      test(`${c.name} at ${viewport.width} px: plain words, detail in small print, a link home`, async () => {
        const context = await browser.newContext({ viewport });
        const page = await context.newPage();
        const response = await page.goto(c.url());
        expect(response?.status()).toBe(c.status);
        // Never redirected to the client (SPEC §7.1): the browser stays on our page.
        expect(new URL(page.url()).origin).toBe(issuer);
        const headers = response?.headers() ?? {};
        expect(headers["content-type"]).toStartWith("text/html");
        expect(headers["content-security-policy"]).toContain("default-src 'none'");
        expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
        expect(headers["x-frame-options"]).toBe("DENY");
        expect(headers["x-content-type-options"]).toBe("nosniff");
        expect(headers["referrer-policy"]).toBe("no-referrer");

        expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(c.heading);
        const main = page.getByRole("main");
        const all = ((await main.textContent()) ?? "").replace(/\s+/g, " ");
        expect(all).toContain(c.words);
        const detail = ((await main.locator(".detail").textContent()) ?? "").replace(/\s+/g, " ");
        expect(detail).toBe(`For developers: ${c.detail}`);
        // The jargon lives only in the small print.
        const plain = all.replace(detail, "");
        for (const jargon of ["client_id", "redirect_uri", "invalid_", "NOT_FOUND", "404"])
          expect(plain).not.toContain(jargon);
        const fontSize = (locator: Locator) =>
          locator.evaluate((element) => Number.parseFloat(getComputedStyle(element).fontSize));
        expect(await fontSize(main.locator(".detail"))).toBeLessThan(
          await fontSize(main.locator("p").first()),
        );

        if (viewport === NARROW) await expectFitsNarrowScreen(page);
        await page.screenshot({ path: `${artifacts}error-${c.name}-${viewport.width}.png`, fullPage: true });

        await page.getByRole("link", { name: "Go to the Fluxer home page" }).click();
        await page.waitForURL(`${issuer}/`);
        expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Fluxer");
        await context.close();
      }, 60_000);
});

describe("sign-in and sign-up pages", () => {
  const forms = [
    {
      name: "login",
      heading: "Sign in",
      labels: ["Username or email", "Password"],
      button: "Sign in",
      other: { name: "Create one", href: "/register?return_to=%2Fdevelopers%2Fapplications" },
    },
    {
      name: "register",
      heading: "Create an account",
      labels: ["Username", "Email", "Password (at least 8 characters)"],
      button: "Create account",
      other: { name: "Sign in", href: "/login?return_to=%2Fdevelopers%2Fapplications" },
    },
  ];
  for (const viewport of [WIDE, NARROW])
    for (const form of forms)
      test(`${form.name} at ${viewport.width} px: labelled fields, the other form keeps return_to`, async () => {
        const context = await browser.newContext({ viewport });
        const page = await context.newPage();
        const response = await page.goto(`${issuer}/${form.name}?return_to=%2Fdevelopers%2Fapplications`);
        expect(response?.status()).toBe(200);
        expect(response?.headers()["x-frame-options"]).toBe("DENY");
        expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(form.heading);
        for (const label of form.labels)
          await expect(page.getByLabel(label, { exact: true }).isVisible()).resolves.toBe(true);
        await expect(page.getByRole("button", { name: form.button }).isVisible()).resolves.toBe(true);
        expect(
          await page.getByRole("link", { name: form.other.name, exact: true }).getAttribute("href"),
        ).toBe(form.other.href);
        if (viewport === NARROW) await expectFitsNarrowScreen(page);
        await page.screenshot({ path: `${artifacts}${form.name}-${viewport.width}.png`, fullPage: true });
        await context.close();
      }, 60_000);
});

describe("unknown paths and the favicon", () => {
  test("an API client keeps the JSON 404 envelope; a browser's Accept gets the HTML page", async () => {
    for (const accept of ["application/json", "*/*", null]) {
      const res = await fetch(`${issuer}/nope`, { headers: accept ? { accept } : {} });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(await res.json()).toEqual({ code: "NOT_FOUND", message: "Not found" });
    }
    const html = await fetch(`${issuer}/nope`, {
      headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" },
    });
    expect(html.status).toBe(404);
    expect(html.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html.headers.get("x-frame-options")).toBe("DENY");
    const body = await html.text();
    expect(body).toContain("<h1>Page not found</h1>");
    expect(body).not.toContain("<script");
    // A route that exists still wins for a browser.
    const login = await fetch(`${issuer}/login`, { headers: { accept: "text/html" } });
    expect(login.status).toBe(200);
  });

  test("the path shown on the 404 page is escaped", async () => {
    const res = await fetch(`${issuer}/%3Cscript%3Ealert(1)%3C/script%3E`, {
      headers: { accept: "text/html" },
    });
    expect(res.status).toBe(404);
    const body = await res.text();
    expect(body).not.toContain("<script>alert(1)");
  });

  test("/favicon.svg and /favicon.ico answer an SVG with long caching; every page links it", async () => {
    for (const path of ["/favicon.svg", "/favicon.ico"]) {
      const res = await fetch(`${issuer}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/svg+xml");
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const svg = await res.text();
      expect(svg).toStartWith('<svg xmlns="http://www.w3.org/2000/svg"');
      expect(svg).not.toContain("<script");
    }
    for (const path of ["/", "/login", "/register", "/nope"]) {
      const res = await fetch(`${issuer}${path}`, { headers: { accept: "text/html" } });
      expect(await res.text()).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml">');
    }
  });
});

describe("home", () => {
  test("signed in: Applications, Authorized apps and Sign out; signed out: sign in or sign up", async () => {
    const context = await signedInContext("bob", NARROW);
    const page = await context.newPage();
    await page.goto(`${issuer}/`);
    await expectFitsNarrowScreen(page);
    await page.screenshot({ path: `${artifacts}home-signed-in-375.png`, fullPage: true });
    expect(await page.getByRole("link", { name: "Applications", exact: true }).getAttribute("href")).toBe(
      "/developers/applications",
    );
    expect(await page.getByRole("link", { name: "Authorized apps" }).getAttribute("href")).toBe(
      "/settings/authorized-apps",
    );
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${issuer}/`);
    expect(await page.getByRole("link", { name: "Sign in" }).getAttribute("href")).toBe("/login");
    expect(await page.getByRole("link", { name: "create an account" }).getAttribute("href")).toBe(
      "/register",
    );
    expect(await page.getByRole("link", { name: "Applications", exact: true }).count()).toBe(0);
    await context.close();
  }, 60_000);
});

describe("console", () => {
  test("no page logs a console error, the favicon included", async () => {
    // Listeners on the context before its first page: Chromium asks for a favicon once per profile
    // and remembers a failure, so a 404 on the very first page would otherwise go unseen.
    const context = await browser.newContext({ viewport: WIDE });
    const consoleErrors: ConsoleMessage[] = [];
    const problems: string[] = [];
    const favicons: number[] = [];
    context.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") consoleErrors.push(message);
    });
    context.on("weberror", (error) => problems.push(`page error: ${error.error().message}`));
    context.on("requestfailed", (request) => problems.push(`failed: ${request.url()}`));
    context.on("response", (response) => {
      if (new URL(response.url()).pathname === "/favicon.svg") favicons.push(response.status());
    });
    const page = await context.newPage();

    // Documents that answer an error status on purpose (SPEC §7.1: 400; unknown path: 404).
    const deliberate = new Map<string, number>();
    const visit = async (url: string, status: number) => {
      const response = await page.goto(url);
      expect(response?.status()).toBe(status);
      await page.waitForLoadState("networkidle");
      if (status >= 400) deliberate.set(url, status);
    };
    await visit(`${issuer}/`, 200);
    await visit(`${issuer}/register`, 200);
    await visit(`${issuer}/nope`, 404);
    await visit(authorizeUrl({ client_id: "123456789012345678" }), 400);
    await visit(authorizeUrl({ redirect_uri: "https://evil.example/cb" }), 400);
    await visit(`${issuer}/login`, 200);
    await signIn(page, "bob");
    await page.waitForURL(`${issuer}/`);
    await page.waitForLoadState("networkidle");
    await visit(authorizeUrl(), 200);

    // Chromium itself reports a document answered with an error status ("Failed to load resource:
    // ... status of 404") at the document's own URL. Those statuses are deliberate; any other
    // message (a subresource such as the favicon, a CSP violation, a script error) is a defect.
    for (const message of consoleErrors) {
      const status = deliberate.get(message.location().url);
      if (status !== undefined && message.text().includes(`status of ${status}`)) continue;
      problems.push(`${message.location().url}: ${message.text()}`);
    }
    expect(problems).toEqual([]);
    // Chromium did ask for the icon, and got it.
    expect(favicons.length).toBeGreaterThan(0);
    expect(favicons.every((status) => status === 200)).toBe(true);
    await context.close();
  }, 90_000);
});
