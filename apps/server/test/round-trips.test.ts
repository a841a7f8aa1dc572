// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { generateToken, hashToken } from "../src/crypto.ts";
import { createPGlite, type DatabaseHandle, pgliteDatabase, postgresDatabase } from "../src/db/database.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestAppOn } from "./support/harness.ts";
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
import { trpcHttp } from "./support/trpc-http.ts";

/**
 * Database round trips per request on the benchmarked hot paths (README "Benchmarks"): every statement
 * Kysely sends, BEGIN and COMMIT included, counted by Kysely's query log. A regression here is a
 * regression in throughput.
 */
let statements = 0;
const log = () => {
  statements += 1;
};

/** A counting handle, plus a second handle on the same database: another process, with its own caches. */
async function countingDatabase(): Promise<DatabaseHandle & { otherProcess: DatabaseHandle }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const pglite = createPGlite();
    const handle = pgliteDatabase(pglite, { log });
    await migrateToLatest(handle.db);
    return { ...handle, otherProcess: pgliteDatabase(pglite) };
  }
  const schema = `test_${crypto.randomUUID().replaceAll("-", "")}`;
  const admin = postgresDatabase(url, { max: 1 });
  await sql`create schema ${sql.id(schema)}`.execute(admin.db);
  await admin.close();
  const handle = postgresDatabase(url, { searchPath: schema, max: 4, log });
  await migrateToLatest(handle.db, { schema });
  const otherProcess = postgresDatabase(url, { searchPath: schema, max: 2 });
  return {
    ...handle,
    otherProcess,
    close: async () => {
      await otherProcess.close();
      await sql`drop schema ${sql.id(schema)} cascade`.execute(handle.db);
      await handle.close();
    },
  };
}

const database = await countingDatabase();
afterAll(() => database.close());
const t = await createTestAppOn(database);

const { owner, client } = await setupClient(t);
const alice = await registerUser(t);

/** BEGIN and COMMIT: PostgreSQL's dialect sends them as statements; PGlite's runs them itself, unlogged. */
const TRANSACTION = database.kind === "postgres" ? 2 : 0;

/** Statements one call sends (caches already warm). */
async function countStatements(call: () => Promise<{ status: number }>) {
  statements = 0;
  const { status } = await call();
  return { status, statements };
}

/** Round trips of one call, after a warm-up call (process-wide secrets and caches are loaded once). */
async function roundTrips(call: () => Promise<{ status: number }>): Promise<number> {
  expect((await call()).status).toBe(200);
  statements = 0;
  expect((await call()).status).toBe(200);
  return statements;
}

describe("database round trips per request", () => {
  test("client_credentials", async () => {
    const n = await roundTrips(() =>
      clientPost(t, client, "/v1/oauth2/token", { grant_type: "client_credentials" }),
    );
    expect(n).toBe(1); // was 5: client auth SELECT, BEGIN, INSERT family, INSERT access token, COMMIT
  });

  // Read (token + family + the application's secret hash) → decide → one compare-and-swap write.
  test("refresh rotation, unscoped and scoped: the read and the write", async () => {
    let current = (await issueTokens(t, client, alice.user.id)).refresh_token;
    const n = await roundTrips(async () => {
      const res = await refresh(t, client, current);
      current = res.body?.refresh_token;
      return res;
    });
    expect(n).toBe(2);
    const scoped = await countStatements(() => refresh(t, client, current, { scope: "identify" }));
    expect(scoped).toEqual({ status: 200, statements: 2 });
  });

  test("refresh grace retry: the read only (the first attempt wrote the pair)", async () => {
    const grace = withEnv(t, { REFRESH_REUSE_GRACE_SECONDS: "30" });
    const tokens = await issueTokens(grace, client, alice.user.id);
    expect((await refresh(grace, client, tokens.refresh_token)).status).toBe(200);
    const retry = await countStatements(() => refresh(grace, client, tokens.refresh_token));
    expect(retry).toEqual({ status: 200, statements: 1 });
  });

  test("refresh reuse: the read, then BEGIN, revoke the family, two audit events, COMMIT", async () => {
    const tokens = await issueTokens(t, client, alice.user.id);
    expect((await refresh(t, client, tokens.refresh_token)).status).toBe(200);
    const reuse = await countStatements(() => refresh(t, client, tokens.refresh_token));
    expect(reuse).toEqual({ status: 400, statements: 4 + TRANSACTION });
  });

  for (const pkce of ["S256", "plain", null] as const) {
    test(`code exchange with PKCE ${pkce ?? "none"}: the read and the write`, async () => {
      const code = await mintCode(t, client, alice.user.id, { pkce });
      const extra: Record<string, string> = pkce === null ? { code_verifier: "" } : {};
      expect(await countStatements(() => exchangeCode(t, client, code, extra))).toEqual({
        status: 200,
        statements: 2,
      });
    });
  }

  test("code replay: the read, then BEGIN, revoke the family, two audit events, COMMIT", async () => {
    const code = await mintCode(t, client, alice.user.id);
    expect((await exchangeCode(t, client, code)).status).toBe(200);
    expect(await countStatements(() => exchangeCode(t, client, code))).toEqual({
      status: 400,
      statements: 4 + TRANSACTION,
    });
  });

  test("introspection of an access token", async () => {
    const tokens = await issueTokens(t, client, alice.user.id);
    const n = await roundTrips(() => introspect(t, client, tokens.access_token));
    expect(n).toBe(1); // was 2: client auth, token lookup
  });

  test("userinfo", async () => {
    const tokens = await issueTokens(t, client, alice.user.id);
    const n = await roundTrips(() => bearerGet(t, "/v1/oauth2/userinfo", tokens.access_token));
    expect(n).toBe(1); // token + family + user in one indexed query
  });

  test("tRPC applications.list", async () => {
    const n = await roundTrips(() => trpcHttp(t, "applications.list", { token: owner.token, query: true }));
    expect(n).toBe(2); // session + user, then the applications
  });
});

describe("cached client authentication across processes", () => {
  const other = database.otherProcess.db;
  type Issued = { access_token: string; refresh_token: string; code: string };
  type Call = (c: typeof client, issued: Issued) => Promise<number>;
  const calls: Record<string, Call> = {
    client_credentials: async (c) =>
      (await clientPost(t, c, "/v1/oauth2/token", { grant_type: "client_credentials" })).status,
    refresh: async (c, tokens) => (await refresh(t, c, tokens.refresh_token)).status,
    // The 401 must leave the code unconsumed: the renewed client then exchanges it.
    code_exchange: async (c, issued) => (await exchangeCode(t, c, issued.code)).status,
    introspection: async (c, tokens) => (await introspect(t, c, tokens.access_token)).status,
    revocation: async (c, tokens) =>
      (await clientPost(t, c, "/v1/oauth2/token/revoke", { token: tokens.access_token })).status,
    // A grant error is reported as invalid_client when the client is no longer current.
    grant_error: async (c) =>
      (await clientPost(t, c, "/v1/oauth2/token", { grant_type: "authorization_code" })).status,
  };

  /** A client whose secret this process has cached (one successful call), and a live token pair. */
  async function cachedClient() {
    const { client: c } = await setupClient(t);
    const tokens = await issueTokens(t, c, alice.user.id);
    const issued = { ...tokens, code: await mintCode(t, c, alice.user.id) };
    expect(await calls.client_credentials?.(c, issued)).toBe(200);
    return { c, tokens: issued };
  }

  for (const [name, call] of Object.entries(calls)) {
    test(`${name}: a secret reset in another process takes effect at once; the new secret works`, async () => {
      const { c, tokens } = await cachedClient();
      const secret = generateToken();
      await other
        .updateTable("applications")
        .set({ client_secret_hash: hashToken(secret) })
        .where("id", "=", c.id)
        .execute();
      expect(await call(c, tokens)).toBe(401);
      const renewed = { ...c, clientSecret: secret };
      expect(await call(renewed, tokens)).toBe(name === "grant_error" ? 400 : 200);
    });

    test(`${name}: deleting the application in another process takes effect at once`, async () => {
      const { c, tokens } = await cachedClient();
      await other.deleteFrom("applications").where("id", "=", c.id).execute();
      expect(await call(c, tokens)).toBe(401);
    });
  }
});
