import { afterAll, describe, expect, test } from "bun:test";
import { decodeHex } from "@oslojs/encoding";
import { authenticateClient } from "../src/domain/client-authentication.ts";
import { signInteraction } from "../src/domain/interaction-signing.ts";
import { applicationRow, createApplicationOk, mutate, query } from "./support/applications.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";

const t = await createTestApp();
afterAll(() => t.close());
const owner = await registerUser(t);

function currentApplication(authorization: string | null, path = "/v1/applications/@me") {
  return t.request(path, { headers: authorization === null ? {} : { authorization } });
}

async function auditTypes(applicationId: string): Promise<string[]> {
  const rows = await t.deps.db
    .selectFrom("audit_events")
    .select("type")
    .where("application_id", "=", applicationId)
    .execute();
  return rows.map((row) => row.type);
}

describe("client secret", () => {
  test("after resetSecret the old secret no longer authenticates and the new one does", async () => {
    const app = await createApplicationOk(t, owner.token);
    expect((await authenticateClient(t.deps.db, app.id, app.client_secret))?.id).toBe(app.id);
    const res = await mutate(t, "resetSecret", owner.token, { id: app.id, password: owner.password });
    expect(res.status).toBe(200);
    const fresh = res.body.result.data.client_secret;
    expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fresh).not.toBe(app.client_secret);
    expect(await authenticateClient(t.deps.db, app.id, app.client_secret)).toBeNull();
    expect((await authenticateClient(t.deps.db, app.id, fresh))?.id).toBe(app.id);
    expect(await auditTypes(app.id)).toEqual(["application.secret_reset"]);
    // The secret is shown once: reads never return it.
    const got = await query(t, "get", owner.token, { id: app.id });
    expect(JSON.stringify(got.body)).not.toContain(fresh);
  });
});

describe("Bot token and GET /v1/applications/@me", () => {
  test("the bot token reads the current application on both paths, without secrets", async () => {
    const app = await createApplicationOk(t, owner.token, { redirect_uris: ["https://bot.example/cb"] });
    for (const path of ["/v1/applications/@me", "/v1/oauth2/applications/@me"]) {
      const res = await currentApplication(`Bot ${app.bot_token}`, path);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body).toMatchObject({
        id: app.id,
        name: app.name,
        owner_id: owner.user.id,
        owner: { id: owner.user.id },
        bot_user_id: app.bot_user_id,
        verify_key: app.verify_key,
      });
      const text = JSON.stringify(body);
      expect(text).not.toContain("client_secret");
      expect(text).not.toContain("signing_key");
      expect(text).not.toContain(app.bot_token);
    }
  });

  test.each([
    ["no header", null, "UNAUTHORIZED"],
    ["garbage", "Bot garbage", "INVALID_TOKEN"],
    ["an id out of int8 range", "Bot 99999999999999999999.abc", "INVALID_TOKEN"],
    ["an unknown application", "Bot 1234567890.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", "INVALID_TOKEN"],
    ["a session token as Bearer", "Bearer flx_000000000000000000000000000000000000", "INVALID_TOKEN"],
  ])("%s → 401 with a Bot challenge", async (_name, header, code) => {
    const res = await currentApplication(header);
    expect(res.status).toBe(401);
    // The Bot scheme is always challenged (a Bearer challenge may be offered alongside it).
    expect(res.headers.get("www-authenticate")).toMatch(/(^|,\s*)Bot(,|\s|$)/);
    expect((await res.json()).code).toBe(code);
  });

  test("after resetBotToken the old bot token gets 401 and the new one works", async () => {
    const app = await createApplicationOk(t, owner.token);
    const res = await mutate(t, "resetBotToken", owner.token, { id: app.id, password: owner.password });
    expect(res.status).toBe(200);
    const fresh = res.body.result.data.bot_token;
    expect(fresh).toMatch(new RegExp(`^${app.id}\\.[A-Za-z0-9_-]{43}$`));
    const old = await currentApplication(`Bot ${app.bot_token}`);
    expect(old.status).toBe(401);
    expect(await old.json()).toMatchObject({ code: "INVALID_TOKEN" });
    expect((await currentApplication(`Bot ${fresh}`)).status).toBe(200);
    // The client secret is untouched by a bot token reset.
    expect(await authenticateClient(t.deps.db, app.id, app.client_secret)).not.toBeNull();
    expect(await auditTypes(app.id)).toEqual(["application.bot_token_reset"]);
  });
});

describe("applications.delete", () => {
  test("removes it from list, get is NOT_FOUND, its bot token, secret, bot user and tokens are gone", async () => {
    const app = await createApplicationOk(t, owner.token);
    const familyId = t.deps.nextId();
    const now = t.clock.now();
    await t.deps.db
      .insertInto("token_families")
      .values({
        id: familyId,
        application_id: app.id,
        user_id: owner.user.id,
        grant_type: "authorization_code",
        scopes: ["identify"],
        code_hash: null,
        created_at: now,
        revoked_at: null,
        revoked_reason: null,
      })
      .execute();
    await t.deps.db
      .insertInto("access_tokens")
      .values({
        token_hash: "f".repeat(64),
        family_id: familyId,
        application_id: app.id,
        user_id: owner.user.id,
        scopes: ["identify"],
        created_at: now,
        expires_at: new Date(now.getTime() + 3600_000),
      })
      .execute();

    const res = await mutate(t, "delete", owner.token, { id: app.id, password: owner.password });
    expect(res.status).toBe(200);

    const list = await query(t, "list", owner.token);
    expect(list.body.result.data.map((a: { id: string }) => a.id)).not.toContain(app.id);
    const got = await query(t, "get", owner.token, { id: app.id });
    expect(got.status).toBe(404);
    expect(got.body.error.data.apiCode).toBe("UNKNOWN_APPLICATION");
    expect((await currentApplication(`Bot ${app.bot_token}`)).status).toBe(401);
    expect(await authenticateClient(t.deps.db, app.id, app.client_secret)).toBeNull();
    expect(await applicationRow(t, app.id)).toBeUndefined();
    const bot = await t.deps.db.selectFrom("users").select("id").where("id", "=", app.bot_user_id).execute();
    expect(bot).toEqual([]);
    const families = await t.deps.db
      .selectFrom("token_families")
      .select("id")
      .where("id", "=", familyId)
      .execute();
    expect(families).toEqual([]);
    const tokens = await t.deps.db
      .selectFrom("access_tokens")
      .select("token_hash")
      .where("family_id", "=", familyId)
      .execute();
    expect(tokens).toEqual([]);
    expect(await auditTypes(app.id)).toEqual(["application.deleted"]);

    const again = await mutate(t, "delete", owner.token, { id: app.id, password: owner.password });
    expect(again.body.error.data.apiCode).toBe("UNKNOWN_APPLICATION");
  });
});

describe("verify_key", () => {
  test("is the public half of the key the server signs interaction payloads with", async () => {
    const app = await createApplicationOk(t, owner.token);
    const other = await createApplicationOk(t, owner.token);
    expect(app.verify_key).toMatch(/^[0-9a-f]{64}$/);
    expect(other.verify_key).not.toBe(app.verify_key);

    const payload = new TextEncoder().encode(`1700000000{"type":1,"id":"${app.id}"}`);
    const signature = await signInteraction(t.deps.db, t.deps.keys, app.id, payload);
    expect(signature).toMatch(/^[0-9a-f]{128}$/);
    const verifyKey = await crypto.subtle.importKey(
      "raw",
      new Uint8Array(decodeHex(app.verify_key)),
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    const sig = new Uint8Array(decodeHex(signature));
    expect(await crypto.subtle.verify("Ed25519", verifyKey, sig, payload)).toBe(true);
    const tampered = new TextEncoder().encode(`1700000000{"type":2,"id":"${app.id}"}`);
    expect(await crypto.subtle.verify("Ed25519", verifyKey, sig, tampered)).toBe(false);
    const otherKey = await crypto.subtle.importKey(
      "raw",
      new Uint8Array(decodeHex(other.verify_key)),
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    expect(await crypto.subtle.verify("Ed25519", otherKey, sig, payload)).toBe(false);
  });
});
