import { afterAll, describe, expect, test } from "bun:test";
import { applicationRow, createApplicationOk, mutate } from "./support/applications.ts";
import { testDatabaseKind } from "./support/database.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";
import { exchangeCode, mintCode } from "./support/oauth-flow.ts";

const t = await createTestApp();
afterAll(() => t.close());
const owner = await registerUser(t);

describe(`applications.update (${testDatabaseKind})`, () => {
  test("changes the given fields only and increments version", async () => {
    const app = await createApplicationOk(t, owner.token, { description: "keep me" });
    const res = await mutate(t, "update", owner.token, {
      id: app.id,
      version: 1,
      name: "Renamed",
      redirect_uris: ["https://new.example/cb"],
      bot_public: false,
      terms_of_service_url: "https://new.example/tos",
    });
    expect(res.status).toBe(200);
    expect(res.body.result.data).toMatchObject({
      name: "Renamed",
      description: "keep me",
      redirect_uris: ["https://new.example/cb"],
      bot_public: false,
      terms_of_service_url: "https://new.example/tos",
      version: 2,
    });
    expect(res.body.result.data).not.toHaveProperty("client_secret");

    const cleared = await mutate(t, "update", owner.token, { id: app.id, version: 2, description: null });
    expect(cleared.body.result.data).toMatchObject({ description: null, name: "Renamed", version: 3 });
    expect((await applicationRow(t, app.id))?.version).toBe(3);
  });

  test("a stale version is CONFLICT VERSION_CONFLICT and writes nothing", async () => {
    const app = await createApplicationOk(t, owner.token);
    await mutate(t, "update", owner.token, { id: app.id, version: 1, name: "First" });
    const before = await applicationRow(t, app.id);
    const res = await mutate(t, "update", owner.token, { id: app.id, version: 1, name: "Second" });
    expect(res.status).toBe(409);
    expect(res.body.error.data.code).toBe("CONFLICT");
    expect(res.body.error.data.apiCode).toBe("VERSION_CONFLICT");
    expect(await applicationRow(t, app.id)).toEqual(before);
  });

  test.each([
    ["blank name", { name: "  " }, "INVALID_FORM_BODY", 400],
    ["custom-scheme redirect URI", { redirect_uris: ["app://cb"] }, "INVALID_FORM_BODY", 400],
    ["http privacy URL", { privacy_policy_url: "http://x.example/p" }, "INVALID_FORM_BODY", 400],
    ["version beyond int4", { version: 2 ** 31 }, "INVALID_FORM_BODY", 400],
    ["fractional version", { version: 1.5 }, "INVALID_FORM_BODY", 400],
    ["missing version", { version: undefined }, "INVALID_FORM_BODY", 400],
    ["non-image icon", { icon: Buffer.from("hello, not an image").toString("base64") }, "INVALID_ICON", 400],
  ])("%s → %s, nothing written", async (_name, input, apiCode, status) => {
    const app = await createApplicationOk(t, owner.token);
    const before = await applicationRow(t, app.id);
    const res = await mutate(t, "update", owner.token, { id: app.id, version: 1, ...input });
    expect(res.status).toBe(status);
    expect(res.body.error.data.apiCode).toBe(apiCode);
    expect(await applicationRow(t, app.id)).toEqual(before);
  });

  test("unknown and malformed ids are UNKNOWN_APPLICATION", async () => {
    for (const id of ["1", "nope", "99999999999999999999"]) {
      const res = await mutate(t, "update", owner.token, { id, version: 1, name: "x" });
      expect(res.status).toBe(404);
      expect(res.body.error.data.apiCode).toBe("UNKNOWN_APPLICATION");
    }
  });

  test("concurrent updates carrying the same version: exactly one wins, version +1", async () => {
    const app = await createApplicationOk(t, owner.token);
    const names = ["A", "B", "C", "D", "E"];
    const results = await Promise.all(
      names.map((name) => mutate(t, "update", owner.token, { id: app.id, version: 1, name })),
    );
    const winners = results.filter((r) => r.status === 200);
    const losers = results.filter((r) => r.status !== 200);
    expect(winners).toHaveLength(1);
    expect(losers.map((r) => r.body.error.data.apiCode)).toEqual(Array(4).fill("VERSION_CONFLICT"));
    const row = await applicationRow(t, app.id);
    expect(row?.version).toBe(2);
    expect(row?.name).toBe(winners[0]?.body.result.data.name);
  });
});

test("removing a redirect URI cancels the codes issued for it that are not yet exchanged", async () => {
  const app = await createApplicationOk(t, owner.token, {
    redirect_uris: ["https://old.example/cb", "https://kept.example/cb"],
  });
  const client = { id: app.id, clientSecret: app.client_secret, redirectUris: ["https://old.example/cb"] };
  const oldCode = await mintCode(t, client, owner.user.id, { redirectUri: "https://old.example/cb" });
  const keptCode = await mintCode(t, client, owner.user.id, { redirectUri: "https://kept.example/cb" });
  const updated = await mutate(t, "update", owner.token, {
    id: app.id,
    version: app.version,
    redirect_uris: ["https://kept.example/cb"],
  });
  expect(updated.status).toBe(200);
  const refused = await exchangeCode(t, client, oldCode);
  expect(refused.status).toBe(400);
  expect(refused.body.error).toBe("invalid_grant");
  const kept = await exchangeCode(t, { ...client, redirectUris: ["https://kept.example/cb"] }, keptCode);
  expect(kept.status).toBe(200);
});
