import { expect, test } from "bun:test";
import { createTestDatabase } from "./support/database.ts";

test("two test databases open at once are migrated and isolated from each other", async () => {
  const a = await createTestDatabase();
  const b = await createTestDatabase();
  try {
    await a.db.insertInto("server_secrets").values({ name: "probe", value: "a" }).execute();
    expect(await a.db.selectFrom("server_secrets").select("value").execute()).toEqual([{ value: "a" }]);
    expect(await b.db.selectFrom("server_secrets").select("value").execute()).toEqual([]);
  } finally {
    await a.close();
    await b.close();
  }
});
