import { afterAll, describe, expect, test } from "bun:test";
import { authenticateClient } from "../src/domain/client-authentication.ts";
import { applicationRow, countRows, createApplicationOk, mutate, query } from "./support/applications.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";

const t = await createTestApp();
afterAll(() => t.close());
const owner = await registerUser(t);
const stranger = await registerUser(t);
const app = await createApplicationOk(t, owner.token, {
  name: "Owned",
  description: "private description",
  redirect_uris: ["https://owned.example/cb"],
});

async function botTokenWorks(token: string): Promise<boolean> {
  const res = await t.request("/v1/applications/@me", { headers: { authorization: `Bot ${token}` } });
  return res.status === 200;
}

describe("a non-owner gets nothing of someone else's application", () => {
  test("get is FORBIDDEN ACCESS_DENIED without any of its data; list omits it", async () => {
    const res = await query(t, "get", stranger.token, { id: app.id });
    expect(res.status).toBe(403);
    expect(res.body.error.data.apiCode).toBe("ACCESS_DENIED");
    const text = JSON.stringify(res.body);
    for (const secretish of ["Owned", "private description", "owned.example", app.verify_key])
      expect(text).not.toContain(secretish);
    const list = await query(t, "list", stranger.token);
    expect(list.body.result.data).toEqual([]);
  });

  test.each([
    ["update", { version: 1, name: "Hijacked", redirect_uris: ["https://evil.example/cb"] }],
    ["delete", { password: "password123" }],
    ["resetSecret", { password: "password123" }],
    ["resetBotToken", { password: "password123" }],
  ])(
    "%s is ACCESS_DENIED (even with the stranger's own correct password) and changes nothing",
    async (path, input) => {
      const before = { row: await applicationRow(t, app.id), audits: await countRows(t, "audit_events") };
      const res = await mutate(t, path, stranger.token, { id: app.id, ...input });
      expect(res.status).toBe(403);
      expect(res.body.error.data.apiCode).toBe("ACCESS_DENIED");
      expect(JSON.stringify(res.body)).not.toContain("Owned");
      expect({ row: await applicationRow(t, app.id), audits: await countRows(t, "audit_events") }).toEqual(
        before,
      );
      expect(await authenticateClient(t.deps.db, app.id, app.client_secret)).not.toBeNull();
      expect(await botTokenWorks(app.bot_token)).toBe(true);
    },
  );
});

describe("sudo: delete and resets need the owner's password", () => {
  test.each(["delete", "resetSecret", "resetBotToken"])(
    "%s with a wrong password is INVALID_PASSWORD and changes nothing",
    async (path) => {
      const before = { row: await applicationRow(t, app.id), audits: await countRows(t, "audit_events") };
      const res = await mutate(t, path, owner.token, { id: app.id, password: "wrong password" });
      expect(res.status).toBe(403);
      expect(res.body.error.data.apiCode).toBe("INVALID_PASSWORD");
      expect({ row: await applicationRow(t, app.id), audits: await countRows(t, "audit_events") }).toEqual(
        before,
      );
      expect(await authenticateClient(t.deps.db, app.id, app.client_secret)).not.toBeNull();
    },
  );

  test.each(["delete", "resetSecret", "resetBotToken"])(
    "%s with an empty password is INVALID_FORM_BODY",
    async (path) => {
      const res = await mutate(t, path, owner.token, { id: app.id, password: "" });
      expect(res.status).toBe(400);
      expect(res.body.error.data.apiCode).toBe("INVALID_FORM_BODY");
      expect(await applicationRow(t, app.id)).toBeDefined();
    },
  );
});
