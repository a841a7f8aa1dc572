/**
 * Database writes per request on PostgreSQL (README "Scaling"): each phase runs N requests on a fresh
 * connection pool in a schema of its own, closes the pool (its backends flush their statistics) and
 * reads the per-table insert/update/delete counters (pg_stat_user_tables), plus the statements sent.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bun apps/server/scripts/measure-writes.ts
 */
import { sql } from "kysely";
import { postgresDatabase } from "../src/db/database.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { registerUser } from "../test/support/fixtures.ts";
import { createTestAppOn, type TestApp } from "../test/support/harness.ts";
import {
  bearerGet,
  clientPost,
  exchangeCode,
  introspect,
  issueTokens,
  mintCode,
  refresh,
  setupClient,
} from "../test/support/oauth-flow.ts";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("DATABASE_URL is required (PostgreSQL)");
const N = 200;
const schema = `measure_${crypto.randomUUID().replaceAll("-", "")}`;
const admin = postgresDatabase(url, { max: 1 });
await sql`create schema ${sql.id(schema)}`.execute(admin.db);

type Counters = Map<string, { ins: number; upd: number; del: number }>;
async function counters(): Promise<Counters> {
  const { rows } = await sql<{ relname: string; ins: string; upd: string; del: string }>`
    select relname, n_tup_ins::text as ins, n_tup_upd::text as upd, n_tup_del::text as del
    from pg_stat_user_tables where schemaname = ${schema}`.execute(admin.db);
  return new Map(
    rows.map((r) => [r.relname, { ins: Number(r.ins), upd: Number(r.upd), del: Number(r.del) }]),
  );
}

let statements: string[] = [];
async function phase<T>(
  prepare: (t: TestApp) => Promise<T>,
  run: (t: TestApp, input: T, i: number) => Promise<unknown>,
  env: Record<string, string> = {},
) {
  const handle = postgresDatabase(url as string, {
    searchPath: schema,
    max: 4,
    log: (event) => {
      if (event.level === "query")
        statements.push(event.query.sql.trimStart().split(/\s/)[0]?.toLowerCase() ?? "");
    },
  });
  const t = await createTestAppOn(handle);
  const input = await prepare(t);
  await handle.close();
  await Bun.sleep(300);
  const before = await counters();
  const measured = postgresDatabase(url as string, {
    searchPath: schema,
    max: 4,
    log: (event) => {
      if (event.level === "query")
        statements.push(event.query.sql.trimStart().split(/\s/)[0]?.toLowerCase() ?? "");
    },
  });
  const m = await createTestAppOn(measured, env);
  statements = [];
  for (let i = 0; i < N; i++) await run(m, input, i);
  const sent = statements.length;
  await measured.close();
  await Bun.sleep(500);
  const after = await counters();
  const perTable: string[] = [];
  let rows = 0;
  for (const [table, a] of after) {
    const b = before.get(table) ?? { ins: 0, upd: 0, del: 0 };
    const d = { ins: a.ins - b.ins, upd: a.upd - b.upd, del: a.del - b.del };
    const total = d.ins + d.upd + d.del;
    if (total === 0) continue;
    rows += total;
    const parts = [
      d.ins && `${d.ins / N} ins`,
      d.upd && `${d.upd / N} upd`,
      d.del && `${d.del / N} del`,
    ].filter(Boolean);
    perTable.push(`${table} ${parts.join("/")}`);
  }
  return { statements: sent / N, rows: rows / N, perTable: perTable.join(", ") };
}

// Setup data once (migrations on the first pool).
{
  const handle = postgresDatabase(url, { searchPath: schema, max: 1 });
  await migrateToLatest(handle.db, { schema });
  await handle.close();
}

const results: Record<string, Awaited<ReturnType<typeof phase>>> = {};
const base = async (t: TestApp) => {
  const { client } = await setupClient(t);
  const user = await registerUser(t);
  return { client, user };
};
results["code exchange"] = await phase(
  async (t) => {
    const b = await base(t);
    const codes: string[] = [];
    for (let i = 0; i < N; i++) codes.push(await mintCode(t, b.client, b.user.user.id));
    return { ...b, codes };
  },
  (t, input, i) => exchangeCode(t, input.client, input.codes[i] ?? ""),
);
results["refresh rotation"] = await phase(
  async (t) => {
    const b = await base(t);
    return { ...b, current: (await issueTokens(t, b.client, b.user.user.id)).refresh_token };
  },
  async (t, input) => {
    const res = await refresh(t, input.client, input.current);
    input.current = res.body.refresh_token;
  },
);
results["refresh, rate limits on"] = await phase(
  async (t) => {
    const b = await base(t);
    return { ...b, current: (await issueTokens(t, b.client, b.user.user.id)).refresh_token };
  },
  async (t, input) => {
    const res = await refresh(t, input.client, input.current);
    input.current = res.body.refresh_token;
  },
  { RATE_LIMITS: "on", RATE_LIMIT_MULTIPLIER: "1000" },
);
results.client_credentials = await phase(base, (t, input) =>
  clientPost(t, input.client, "/v1/oauth2/token", { grant_type: "client_credentials" }),
);
results.introspection = await phase(
  async (t) => {
    const b = await base(t);
    return { ...b, token: (await issueTokens(t, b.client, b.user.user.id)).access_token };
  },
  (t, input) => introspect(t, input.client, input.token),
);
results.userinfo = await phase(
  async (t) => {
    const b = await base(t);
    return { ...b, token: (await issueTokens(t, b.client, b.user.user.id)).access_token };
  },
  (t, input) => bearerGet(t, "/v1/oauth2/userinfo", input.token),
);
results.revocation = await phase(
  async (t) => {
    const b = await base(t);
    const tokens: string[] = [];
    for (let i = 0; i < N; i++) tokens.push((await issueTokens(t, b.client, b.user.user.id)).access_token);
    return { ...b, tokens };
  },
  (t, input, i) => clientPost(t, input.client, "/v1/oauth2/token/revoke", { token: input.tokens[i] ?? "" }),
);

await sql`drop schema ${sql.id(schema)} cascade`.execute(admin.db);
await admin.close();
console.log(`per request, mean of ${N} (PostgreSQL, RATE_LIMITS off, warm process caches):`);
for (const [name, r] of Object.entries(results))
  console.log(
    `${name.padEnd(20)} statements ${r.statements.toFixed(2)}  rows written ${r.rows.toFixed(2)}  (${r.perTable || "none"})`,
  );
