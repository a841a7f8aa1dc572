import { afterAll, describe, expect, test } from "bun:test";
import { hashToken } from "../src/crypto.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";
import {
  bearerGet,
  clientPost,
  exchangeCode,
  introspect,
  issueTokens,
  mintCode,
  refresh,
  setupClient,
  withEnv,
} from "./support/oauth-flow.ts";

// On PostgreSQL the harness pool has 10 connections, so these races are real; PGlite serialises them.
const t = await createTestApp();
afterAll(() => t.close());
const { client } = await setupClient(t);
const alice = await registerUser(t);
const N = 20;

describe("concurrency", () => {
  test("20 parallel refreshes with one token and grace 0 → exactly one 200", async () => {
    const a = await issueTokens(t, client, alice.user.id);
    const results = await Promise.all(Array.from({ length: N }, () => refresh(t, client, a.refresh_token)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) {
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_grant");
    }
    // Exactly one successor was ever written.
    const rows = await t.deps.db
      .selectFrom("refresh_tokens")
      .innerJoin("access_tokens", "access_tokens.family_id", "refresh_tokens.family_id")
      .select("refresh_tokens.generation")
      .where("access_tokens.token_hash", "=", hashToken(a.access_token))
      .execute();
    expect(rows.map((r) => r.generation).sort()).toEqual([0, 1]);
  });

  test("20 parallel refreshes with grace 30 → all 200 with the identical pair", async () => {
    const grace = withEnv(t, { REFRESH_REUSE_GRACE_SECONDS: "30" });
    const a = await issueTokens(grace, client, alice.user.id);
    const results = await Promise.all(
      Array.from({ length: N }, () => refresh(grace, client, a.refresh_token)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(N).fill(200));
    const first = results[0]?.body;
    for (const r of results) {
      expect(r.body.access_token).toBe(first.access_token);
      expect(r.body.refresh_token).toBe(first.refresh_token);
    }
    expect((await bearerGet(grace, "/v1/users/@me", first.access_token)).status).toBe(200);
    expect((await refresh(grace, client, first.refresh_token)).status).toBe(200);
  });

  test("20 parallel exchanges of one code → exactly one 200, and that family ends revoked", async () => {
    const code = await mintCode(t, client, alice.user.id);
    const results = await Promise.all(Array.from({ length: N }, () => exchangeCode(t, client, code)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expect(r.body.error).toBe("invalid_grant");
    const winner = ok[0]?.body;
    expect((await bearerGet(t, "/v1/oauth2/userinfo", winner.access_token)).status).toBe(401);
    expect((await introspect(t, client, winner.refresh_token)).body).toEqual({ active: false });
    const family = await t.deps.db
      .selectFrom("token_families")
      .selectAll()
      .where("code_hash", "=", hashToken(code))
      .execute();
    expect(family).toHaveLength(1);
    expect(family[0]?.revoked_reason).toBe("code_replay");
  });

  test("a revoke racing a refresh never leaves a live token in the family", async () => {
    for (let round = 0; round < 10; round++) {
      const a = await issueTokens(t, client, alice.user.id);
      const [rotated] = await Promise.all([
        refresh(t, client, a.refresh_token),
        clientPost(t, client, "/v1/oauth2/token/revoke", { token: a.access_token }),
      ]);
      const candidates = [a.access_token, a.refresh_token];
      if (rotated.status === 200) candidates.push(rotated.body.access_token, rotated.body.refresh_token);
      for (const token of candidates)
        expect((await introspect(t, client, token)).body).toEqual({ active: false });
      if (rotated.status === 200) {
        expect((await bearerGet(t, "/v1/users/@me", rotated.body.access_token)).status).toBe(401);
        expect((await refresh(t, client, rotated.body.refresh_token)).status).toBe(400);
      }
    }
  });
});
