import { afterAll, describe, expect, test } from "bun:test";
import { hashToken } from "../src/crypto.ts";
import { applicationRow, countRows, createApplicationOk, mutate, query } from "./support/applications.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";

const t = await createTestApp();
afterAll(() => t.close());
const owner = await registerUser(t);

describe("applications.create", () => {
  test("returns the §5 object with client_secret and bot token once; stores only their SHA-256", async () => {
    const app = await createApplicationOk(t, owner.token, {
      name: "  Spaced Name  ",
      description: "What it does",
      redirect_uris: ["https://client.example/cb?x=1"],
      terms_of_service_url: "https://client.example/tos",
      privacy_policy_url: "https://client.example/privacy",
    });
    expect(app).toMatchObject({
      name: "Spaced Name",
      description: "What it does",
      owner_id: owner.user.id,
      owner: { id: owner.user.id, username: owner.user.username },
      bot_public: true,
      bot_require_code_grant: false,
      redirect_uris: ["https://client.example/cb?x=1"],
      icon_hash: null,
      version: 1,
    });
    expect(app.owner).not.toHaveProperty("email");
    expect(app.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(app.bot_token).toMatch(new RegExp(`^${app.id}\\.[A-Za-z0-9_-]{43}$`));
    expect(app.verify_key).toMatch(/^[0-9a-f]{64}$/);

    const row = await applicationRow(t, app.id);
    expect(row?.client_secret_hash).toBe(hashToken(app.client_secret));
    expect(row?.bot_token_hash).toBe(hashToken(app.bot_token));
    expect(JSON.stringify(row)).not.toContain(app.client_secret);

    const bot = await t.deps.db
      .selectFrom("users")
      .selectAll()
      .where("id", "=", app.bot_user_id)
      .executeTakeFirst();
    expect(bot).toMatchObject({ bot: true, password_hash: null, email: null });
  });

  test("get and list never return client_secret or the bot token", async () => {
    const app = await createApplicationOk(t, owner.token);
    const got = await query(t, "get", owner.token, { id: app.id });
    expect(got.status).toBe(200);
    expect(got.body.result.data.id).toBe(app.id);
    const list = await query(t, "list", owner.token);
    expect(list.body.result.data.map((a: { id: string }) => a.id)).toContain(app.id);
    for (const body of [got.body, list.body]) {
      const text = JSON.stringify(body);
      expect(text).not.toContain(app.client_secret);
      expect(text).not.toContain(app.bot_token);
      expect(text).not.toContain("client_secret");
      expect(text).not.toContain("signing_key");
    }
  });

  test("requires a session", async () => {
    const before = await countRows(t, "applications");
    const res = await mutate(t, "create", undefined, { name: "Anon" });
    expect(res.status).toBe(401);
    expect(res.body.error.data.apiCode).toBe("UNAUTHORIZED");
    expect(await countRows(t, "applications")).toBe(before);
  });

  const tooMany = Array.from({ length: 11 }, (_, i) => `https://client.example/cb${i}`);
  test.each([
    ["empty name", { name: "" }, "name"],
    ["blank name", { name: "   " }, "name"],
    ["101-char name", { name: "x".repeat(101) }, "name"],
    ["name of wrong type", { name: 42 }, "name"],
    ["401-char description", { description: "d".repeat(401) }, "description"],
    ["11 redirect URIs", { redirect_uris: tooMany }, "redirect_uris"],
    [
      "257-char redirect URI",
      { redirect_uris: [`https://client.example/${"a".repeat(234)}`] },
      "redirect_uris",
    ],
    ["http redirect URI off loopback", { redirect_uris: ["http://client.example/cb"] }, "redirect_uris"],
    [
      "http on a host that only starts with localhost",
      { redirect_uris: ["http://localhost.evil.example/cb"] },
      "redirect_uris",
    ],
    ["custom scheme", { redirect_uris: ["myapp://callback"] }, "redirect_uris"],
    ["fragment", { redirect_uris: ["https://client.example/cb#frag"] }, "redirect_uris"],
    ["empty fragment", { redirect_uris: ["https://client.example/cb#"] }, "redirect_uris"],
    ["relative URI", { redirect_uris: ["/callback"] }, "redirect_uris"],
    ["URI with whitespace", { redirect_uris: [" https://client.example/cb"] }, "redirect_uris"],
    ["javascript: URI", { redirect_uris: ["javascript:alert(1)"] }, "redirect_uris"],
    [
      "duplicate redirect URIs",
      { redirect_uris: ["https://a.example/cb", "https://a.example/cb"] },
      "redirect_uris",
    ],
    ["http terms URL", { terms_of_service_url: "http://client.example/tos" }, "terms_of_service_url"],
    ["relative privacy URL", { privacy_policy_url: "privacy.html" }, "privacy_policy_url"],
    [
      "2049-char terms URL",
      { terms_of_service_url: `https://client.example/${"t".repeat(2026)}` },
      "terms_of_service_url",
    ],
    ["bot_public of wrong type", { bot_public: "yes" }, "bot_public"],
  ])("%s is INVALID_FORM_BODY and creates nothing", async (_name, input, field) => {
    const before = { apps: await countRows(t, "applications"), users: await countRows(t, "users") };
    const res = await mutate(t, "create", owner.token, { name: "Valid", ...input });
    expect(res.status).toBe(400);
    expect(res.body.error.data.apiCode).toBe("INVALID_FORM_BODY");
    expect(res.body.error.data.zodIssues.fieldErrors[field]).toBeArray();
    expect({ apps: await countRows(t, "applications"), users: await countRows(t, "users") }).toEqual(before);
  });

  test("accepts https and loopback http redirect URIs, a 100-char name and limits at their edges", async () => {
    const uris = [
      "http://localhost:8080/cb",
      "http://app.localhost/cb",
      "http://127.0.0.1/cb",
      "http://[::1]:3000/cb",
      `https://client.example/${"a".repeat(256 - 23)}`,
    ];
    const app = await createApplicationOk(t, owner.token, {
      name: "n".repeat(100),
      description: "d".repeat(400),
      redirect_uris: uris,
      terms_of_service_url: `https://client.example/${"t".repeat(2048 - 23)}`,
      bot_public: false,
      bot_require_code_grant: true,
    });
    expect(app.redirect_uris).toEqual(uris);
    expect(app).toMatchObject({ bot_public: false, bot_require_code_grant: true });
  });
});

describe("applications.get / getPublic", () => {
  test("unknown and malformed ids are NOT_FOUND UNKNOWN_APPLICATION, never a 500", async () => {
    for (const id of ["123", "abc", "99999999999999999999", "-1"]) {
      const res = await query(t, "get", owner.token, { id });
      expect(res.status).toBe(404);
      expect(res.body.error.data.apiCode).toBe("UNKNOWN_APPLICATION");
      const pub = await query(t, "getPublic", undefined, { id });
      expect(pub.status).toBe(404);
      expect(pub.body.error.data.apiCode).toBe("UNKNOWN_APPLICATION");
    }
  });

  test("getPublic needs no session and shows what a consent screen needs, nothing more", async () => {
    const app = await createApplicationOk(t, owner.token, {
      name: "Public",
      description: "desc",
      redirect_uris: ["https://secret-host.example/cb"],
      privacy_policy_url: "https://client.example/privacy",
    });
    const res = await query(t, "getPublic", undefined, { id: app.id });
    expect(res.status).toBe(200);
    expect(res.body.result.data).toEqual({
      id: app.id,
      name: "Public",
      icon_hash: null,
      description: "desc",
      owner: app.owner,
      bot_public: true,
      bot_require_code_grant: false,
      terms_of_service_url: null,
      privacy_policy_url: "https://client.example/privacy",
      verify_key: app.verify_key,
    });
  });
});
