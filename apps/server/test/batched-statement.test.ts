// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
/**
 * Natural batching (src/db/batched-statement.ts): first the scheduler alone, with a `run` the test
 * releases by hand; then the client_credentials write it batches, on the real database.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { type LogEvent, sql } from "kysely";
import { generateToken, hashToken } from "../src/crypto.ts";
import { type BatchedStatementOptions, batchedStatement } from "../src/db/batched-statement.ts";
import type { Db } from "../src/db/database.ts";
import { createTestDatabase } from "./support/database.ts";
import { insertTestApplication, registerUser, type TestApplication } from "./support/fixtures.ts";
import { createTestAppOn } from "./support/harness.ts";
import { bearerGet, type Client, clientPost, introspect } from "./support/oauth-flow.ts";

interface Item {
  id: number;
  key?: string;
}

/** A batcher whose every statement is recorded and runs until the test releases it. */
function recordingBatcher(options: Omit<BatchedStatementOptions<Item, { row: string }>, "run"> = {}) {
  const batches: { ids: number[]; release: () => void }[] = [];
  const submit = batchedStatement<Item, { row: string }>({
    ...options,
    run: async (_db, items) => {
      const { promise, resolve } = Promise.withResolvers<void>();
      batches.push({ ids: items.map((item) => item.id), release: resolve });
      await promise;
      // Rows come back in another order than the items: each answer must follow its position.
      return items.map((item, position) => ({ position, row: `row ${item.id}` })).reverse();
    },
  });
  const lane = {} as Db;
  return { batches, submit: (id: number, key?: string) => submit(lane, { id, key }) };
}

/** Lets the batcher's queued microtasks and settled statements run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));
const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("scheduling", () => {
  test("a lone submission runs at once, as a batch of one", async () => {
    const { batches, submit } = recordingBatcher();
    const answer = submit(1);
    await Promise.resolve(); // one microtask: no timer, no next tick
    expect(batches.map((b) => b.ids)).toEqual([[1]]);
    batches[0]?.release();
    expect(await answer).toEqual({ row: "row 1" });
  });

  test("submissions in one tick go together; those arriving while maxInFlight run wait for the next", async () => {
    const { batches, submit } = recordingBatcher({ maxInFlight: 2 });
    const sameTick = ids(0, 10).map((id) => submit(id));
    await settle();
    expect(batches.map((b) => b.ids)).toEqual([ids(0, 10)]);
    const second = submit(10);
    await settle();
    // Two statements are in flight now: the next ten wait, however many ticks they arrive in.
    const waiting = [];
    for (const id of ids(11, 21)) {
      waiting.push(submit(id));
      if (id % 3 === 0) await settle();
    }
    await settle();
    expect(batches.map((b) => b.ids)).toEqual([ids(0, 10), [10]]);
    batches[1]?.release();
    await settle();
    expect(batches.map((b) => b.ids)).toEqual([ids(0, 10), [10], ids(11, 21)]);
    batches[0]?.release();
    batches[2]?.release();
    const answers = await Promise.all([...sameTick, second, ...waiting]);
    expect(answers).toEqual(ids(0, 21).map((id) => ({ row: `row ${id}` })));
  });

  test("maxItems caps a batch; the rest start as soon as a statement is free", async () => {
    const { batches, submit } = recordingBatcher({ maxInFlight: 2, maxItems: 3 });
    const answers = Promise.all(ids(0, 7).map((id) => submit(id)));
    await settle();
    expect(batches.map((b) => b.ids)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    batches[1]?.release();
    await settle();
    expect(batches.map((b) => b.ids)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    batches[0]?.release();
    batches[2]?.release();
    expect((await answers).map((answer) => answer?.row)).toEqual(ids(0, 7).map((id) => `row ${id}`));
  });

  test("items with the same conflictKey never share a batch, and each is run", async () => {
    const { batches, submit } = recordingBatcher({ maxInFlight: 1, conflictKey: (item) => item.key ?? "" });
    const keys = ["a", "a", "b", "a", "b", "c"];
    const answers = Promise.all(keys.map((key, id) => submit(id, key)));
    for (const batch of [0, 1, 2]) {
      await settle();
      batches[batch]?.release();
    }
    expect(batches.map((b) => b.ids)).toEqual([[0, 2, 5], [1, 4], [3]]);
    expect((await answers).map((answer) => answer?.row)).toEqual(keys.map((_, id) => `row ${id}`));
  });

  test("a failed batch runs each item alone: only the failing item rejects", async () => {
    const failing = new Error("item 2 fails");
    const batches: number[][] = [];
    const submit = batchedStatement<Item, { row: string }>({
      run: async (_db, items) => {
        batches.push(items.map((item) => item.id));
        await settle();
        if (items.some((item) => item.id === 2)) throw failing;
        return items.map((item, position) => ({ position, row: `row ${item.id}` }));
      },
    });
    const lane = {} as Db;
    const answers = await Promise.allSettled(ids(0, 4).map((id) => submit(lane, { id })));
    expect(batches).toEqual([[0, 1, 2, 3], [0], [1], [2], [3]]);
    expect(answers).toEqual([
      { status: "fulfilled", value: { row: "row 0" } },
      { status: "fulfilled", value: { row: "row 1" } },
      { status: "rejected", reason: failing },
      { status: "fulfilled", value: { row: "row 3" } },
    ]);
  });

  test("an item the statement returned no row for gets undefined", async () => {
    const submit = batchedStatement<Item, { row: string }>({
      run: async (_db, items) => [{ position: 1, row: `row ${items[1]?.id}` }],
    });
    const lane = {} as Db;
    expect(await Promise.all([submit(lane, { id: 7 }), submit(lane, { id: 8 })])).toEqual([
      undefined,
      { row: "row 8" },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------
// The client_credentials write, batched on the real database.

const statements: LogEvent[] = [];
const database = await createTestDatabase({
  log: (event) => {
    statements.push(event);
  },
});
afterAll(() => database.close());
const t = await createTestAppOn(database);
const owner = await registerUser(t);
const onPostgres = database.kind === "postgres";

/** The client-credentials writes the log saw since `from` (the only statement over unnest arrays). */
const ccWrites = (from: number) =>
  statements
    .slice(from)
    .filter((e) => e.query.sql.includes("unnest(") && e.query.sql.includes('insert into "token_families"'));
/** Whether a write statement carried an item of each of these clients (its `client_id` array). */
const carried = (event: LogEvent, ...clients: Client[]) =>
  event.query.parameters.some((p) => Array.isArray(p) && clients.every((c) => p.includes(c.id)));

/** How many items a write statement carried (the length of its column arrays). */
const itemCount = (event: LogEvent) =>
  (event.query.parameters.find((p) => Array.isArray(p)) as unknown[] | undefined)?.length ?? 0;

/** Applications whose client authentication is cached already (one request each). */
async function warmApplications(n: number): Promise<TestApplication[]> {
  const apps = [];
  for (let i = 0; i < n; i++) {
    const app = await insertTestApplication(t, { ownerId: owner.user.id });
    expect((await token(app)).status).toBe(200);
    apps.push(app);
  }
  return apps;
}

const token = (client: Client) =>
  clientPost(t, client, "/v1/oauth2/token", { grant_type: "client_credentials" });

/** Each token answers at userinfo (as its application's bot user) and introspection (active). */
async function expectWorking(app: { botUserId: string } & Client, accessToken: string) {
  const me = await bearerGet(t, "/v1/oauth2/userinfo", accessToken);
  expect(me.status).toBe(200);
  expect(me.body.sub).toBe(app.botUserId);
  expect((await introspect(t, app, accessToken)).body).toMatchObject({ active: true, client_id: app.id });
}

describe(`client_credentials in batches (${database.kind})`, () => {
  test("40 parallel requests all succeed with distinct, working tokens", async () => {
    const apps = await warmApplications(4);
    const from = statements.length;
    const requests = ids(0, 40).map((i) => apps[i % apps.length] as TestApplication);
    const results = await Promise.all(requests.map(token));
    expect(results.map((r) => r.status)).toEqual(Array(40).fill(200));
    const tokens = results.map((r) => r.body.access_token as string);
    expect(new Set(tokens).size).toBe(40);
    const writes = ccWrites(from);
    expect(writes.every((e) => e.level === "query")).toBe(true);
    // Each request was written once, in some statement.
    expect(writes.map(itemCount).reduce((sum, n) => sum + n, 0)).toBe(40);
    // PostgreSQL answers over a socket, so requests arrive while two statements run and share the next.
    if (onPostgres) expect(writes.length).toBeLessThan(40);
    await Promise.all(requests.map((app, i) => expectWorking(app, tokens[i] as string)));
  });
});

describe(`a stale application in a batch (${database.kind})`, () => {
  test("a secret reset after its client was cached: the others get tokens, it gets 401", async () => {
    const [a, b, stale] = (await warmApplications(3)) as [TestApplication, TestApplication, TestApplication];
    await t.deps.db
      .updateTable("applications")
      .set({ client_secret_hash: hashToken(generateToken()) })
      .where("id", "=", stale.id)
      .execute();
    const from = statements.length;
    const apps = [a, stale, b, a, b];
    const results = await Promise.all(apps.map(token));
    expect(results.map((r) => r.status)).toEqual([200, 401, 200, 200, 200]);
    expect(results[1]?.body.error).toBe("invalid_client");
    await Promise.all(
      apps.map((app, i) => (i === 1 ? null : expectWorking(app, results[i]?.body.access_token))),
    );
    if (onPostgres) expect(ccWrites(from).some((e) => carried(e, a, stale, b))).toBe(true);
  });

  // PGlite has one connection: nothing can hold a lock while the batch runs.
  test.skipIf(!onPostgres)(
    "deleted while its batch runs: the batch fails, each item reruns alone, only it gets 401",
    async () => {
      const [blocker, victim, ...others] = (await warmApplications(4)) as [TestApplication, TestApplication];
      // T1 holds the blocker's row: two requests of the blocker occupy both statements of the lane.
      const t1 = await t.deps.db.startTransaction().execute();
      // T2 deletes the victim, uncommitted: the batch's join still sees it, its foreign key check waits.
      const t2 = await t.deps.db.startTransaction().execute();
      try {
        await sql`select id from applications where id = ${blocker.id} for update`.execute(t1);
        await t2.deleteFrom("applications").where("id", "=", victim.id).execute();
        const from = statements.length;
        const blocked = [];
        for (const n of [1, 2]) {
          blocked.push(token(blocker));
          await waitUntilBlockedBy(t1, n);
        }
        const batched = Promise.all([victim, ...others].map(token));
        await settle(); // queued behind the blocker's two statements
        await t1.commit().execute();
        await waitUntilBlockedBy(t2, 1);
        await t2.commit().execute();
        const [victimResult, ...otherResults] = await batched;
        expect((await Promise.all(blocked)).map((r) => r.status)).toEqual([200, 200]);
        expect(victimResult?.status).toBe(401);
        expect(victimResult?.body.error).toBe("invalid_client");
        expect(otherResults.map((r) => r.status)).toEqual(others.map(() => 200));
        await Promise.all(others.map((app, i) => expectWorking(app, otherResults[i]?.body.access_token)));
        // One statement carried the victim with the others and failed; then the victim ran alone.
        const writes = ccWrites(from);
        const failed = writes.filter((e) => e.level === "error");
        expect(failed.map((e) => carried(e, victim, ...others))).toEqual([true]);
        expect(writes.filter((e) => carried(e, victim)).map(itemCount)).toEqual([1 + others.length, 1]);
      } finally {
        for (const trx of [t1, t2]) if (!trx.isCommitted) await trx.rollback().execute();
      }
    },
  );
});

/** PostgreSQL: waits until `count` statements wait for a lock the transaction holds. */
async function waitUntilBlockedBy(trx: Db, count: number) {
  const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
  for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
    const waiting = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity where ${rows[0]?.pid} = any(pg_blocking_pids(pid))`.execute(
      t.deps.db,
    );
    if ((waiting.rows[0]?.n ?? 0) >= count) return;
    await Bun.sleep(2);
  }
  throw new Error(`fewer than ${count} statements waited for the lock`);
}
