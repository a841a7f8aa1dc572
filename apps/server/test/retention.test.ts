import { afterAll, expect, test } from "bun:test";
import { cleanupExpired } from "../src/domain/cleanup.ts";
import { createTestApp } from "./support/harness.ts";
import { bearerGet, issueTokens, refresh, setupClient } from "./support/oauth-flow.ts";

const t = await createTestApp();
afterAll(() => t.close());

test("a used refresh token removed after its retention is unknown: invalid_grant, nothing revoked", async () => {
  const { owner, client } = await setupClient(t);
  const first = await issueTokens(t, client, owner.user.id);
  const second = await refresh(t, client, first.refresh_token);
  expect(second.status).toBe(200);
  // Within the retention period the reuse is recognised (and would revoke the family); after it, the
  // used token is gone and is refused like any unknown token.
  t.clock.advance(31 * 24 * 3600);
  expect((await cleanupExpired(t.deps.db, t.clock.now())).usedRefreshTokens).toBeGreaterThanOrEqual(1);
  const replay = await refresh(t, client, first.refresh_token);
  expect(replay.status).toBe(400);
  expect(replay.body).toMatchObject({ error: "invalid_grant", error_description: "Invalid refresh token" });
  const family = await t.deps.db
    .selectFrom("token_families")
    .innerJoin("refresh_tokens", "refresh_tokens.family_id", "token_families.id")
    .select("token_families.revoked_at")
    .where("refresh_tokens.generation", "=", 1)
    .where("token_families.application_id", "=", client.id)
    .executeTakeFirstOrThrow();
  expect(family.revoked_at).toBeNull();
  const third = await refresh(t, client, second.body.refresh_token);
  expect(third.status).toBe(200);
  expect((await bearerGet(t, "/v1/oauth2/@me", third.body.access_token)).status).toBe(200);
});

test("Strict-Transport-Security on https issuers only", async () => {
  const https = await createTestApp({ ISSUER: "https://auth.example.com" });
  try {
    const response = await https.app.handle(new Request("https://auth.example.com/healthz"));
    expect(response.headers.get("strict-transport-security")).toBe("max-age=63072000");
  } finally {
    await https.close();
  }
  expect((await t.request("/healthz")).headers.get("strict-transport-security")).toBeNull();
});
