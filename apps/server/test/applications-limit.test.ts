import { afterAll, describe, expect, test } from "bun:test";
import { countRows, createApplicationOk, mutate } from "./support/applications.ts";
import { testDatabaseKind } from "./support/database.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";

// One test app per file: the PostgreSQL harness cannot hold two migrated schemas at once.
const t = await createTestApp({ MAX_APPLICATIONS: "3" });
afterAll(() => t.close());

async function ownedBy(userId: string): Promise<number> {
  const rows = await t.deps.db
    .selectFrom("applications")
    .select("id")
    .where("owner_id", "=", userId)
    .execute();
  return rows.length;
}

describe(`MAX_APPLICATIONS (${testDatabaseKind})`, () => {
  test("the limit refuses the next application and writes nothing; it is per user", async () => {
    const user = await registerUser(t);
    for (const name of ["one", "two", "three"]) await createApplicationOk(t, user.token, { name });
    const before = { apps: await countRows(t, "applications"), users: await countRows(t, "users") };
    const res = await mutate(t, "create", user.token, { name: "four" });
    expect(res.status).toBe(400);
    expect(res.body.error.data.apiCode).toBe("MAX_APPLICATIONS");
    expect({ apps: await countRows(t, "applications"), users: await countRows(t, "users") }).toEqual(before);

    const other = await registerUser(t);
    await createApplicationOk(t, other.token, { name: "theirs" });
    expect(await ownedBy(other.user.id)).toBe(1);
  });

  test("concurrent creates cannot overshoot the limit", async () => {
    const user = await registerUser(t);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => mutate(t, "create", user.token, { name: `racer ${i}` })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    for (const loser of results.filter((r) => r.status !== 200))
      expect(loser.body.error.data.apiCode).toBe("MAX_APPLICATIONS");
    expect(await ownedBy(user.user.id)).toBe(3);
  });
});
