/**
 * Deleting an application while its tokens are being refreshed and its codes exchanged: on PostgreSQL
 * the two lock the same rows in opposite orders and one becomes the deadlock victim. Neither side may
 * answer 500 or fail: the victim runs again and sees the other's outcome.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { retryOnConflict } from "../src/db/retry.ts";
import { removeApplication } from "../src/domain/applications.ts";
import { insertTestApplication, registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";
import { exchangeCode, issueTokens, mintCode, refresh } from "./support/oauth-flow.ts";

const t = await createTestApp();
afterAll(() => t.close());

describe.skipIf(!process.env.DATABASE_URL)("application delete racing token issuance (PostgreSQL)", () => {
  test("60 rounds of delete ∥ refresh ∥ code exchange: no 500, no failed delete", async () => {
    const owner = await registerUser(t);
    const outcomes: string[] = [];
    for (let round = 0; round < 60; round++) {
      const app = await insertTestApplication(t, { ownerId: owner.user.id });
      const tokens = await issueTokens(t, app, owner.user.id);
      const code = await mintCode(t, app, owner.user.id);
      const input = { id: app.id, user: owner.row, now: t.clock.now(), auditId: t.deps.nextId() };
      const [deleted, refreshed, exchanged] = await Promise.all([
        retryOnConflict(() => removeApplication(t.deps.db, input)).then(
          () => "deleted",
          (error: unknown) => `delete failed: ${String(error)}`,
        ),
        refresh(t, app, tokens.refresh_token),
        exchangeCode(t, app, code),
      ]);
      outcomes.push(deleted);
      for (const res of [refreshed, exchanged]) {
        expect(res.status).not.toBe(500);
        if (res.status !== 200) expect(["invalid_client", "invalid_grant"]).toContain(res.body.error);
      }
      const remaining = await t.deps.db
        .selectFrom("applications")
        .select("id")
        .where("id", "=", app.id)
        .execute();
      expect(remaining).toEqual([]);
    }
    expect(new Set(outcomes)).toEqual(new Set(["deleted"]));
  }, 60_000);
});
