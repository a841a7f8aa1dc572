import { afterAll, expect, test } from "bun:test";
import type { KyselyPlugin, LogEvent } from "kysely";
import { preparedQuery } from "../src/db/prepared-query.ts";
import { createTestDatabase } from "./support/database.ts";

const statements: LogEvent[] = [];
const handle = await createTestDatabase({
  log: (event) => {
    statements.push(event);
  },
});
afterAll(() => handle.close());
await handle.db
  .insertInto("server_secrets")
  .values([
    { name: "a", value: "1" },
    { name: "b", value: "2" },
  ])
  .execute();

const find = preparedQuery<{ name: string }>()((db, param) =>
  db
    .selectFrom("server_secrets")
    .select((eb) => ["value", eb.val("constant").as("fixed")])
    .where("name", "=", param("name")),
);

test("a prepared query runs with each call's parameters, and its fixed values stay", async () => {
  expect(await find(handle.db, { name: "a" })).toEqual([{ value: "1", fixed: "constant" }]);
  expect(await find(handle.db, { name: "b" })).toEqual([{ value: "2", fixed: "constant" }]);
  expect(await find(handle.db, { name: "c" })).toEqual([]);
});

test("each call is one statement in the query log, with the same SQL as the ordinary builder", async () => {
  statements.length = 0;
  await find(handle.db, { name: "a" });
  await handle.db
    .selectFrom("server_secrets")
    .select((eb) => ["value", eb.val("constant").as("fixed")])
    .where("name", "=", "a")
    .execute();
  expect(statements).toHaveLength(2);
  expect(statements[0]?.query.sql).toBe(statements[1]?.query.sql ?? "");
  expect(statements[0]?.query.parameters).toEqual(["constant", "a"]);
});

test("a handle with a plugin: each call is built again, and the plugin sees its query and result", async () => {
  const seen: { built: object[]; results: object[] } = { built: [], results: [] };
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      seen.built.push(args.queryId);
      return args.node;
    },
    async transformResult(args) {
      seen.results.push(args.queryId);
      return args.result;
    },
  };
  const withPlugin = handle.db.withPlugin(plugin);
  expect(await find(withPlugin, { name: "a" })).toEqual([{ value: "1", fixed: "constant" }]);
  expect(await find(withPlugin, { name: "b" })).toEqual([{ value: "2", fixed: "constant" }]);
  expect(seen.built).toHaveLength(2);
  expect(seen.results).toEqual(seen.built);
  expect(seen.built[0]).not.toBe(seen.built[1]);
});
