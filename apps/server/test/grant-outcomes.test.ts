// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import type { KyselyPlugin } from "kysely";
import { createApp } from "../src/app.ts";
import { hashToken } from "../src/crypto.ts";
import type { Deps } from "../src/deps.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp, TEST_ISSUER, type TestApp } from "./support/harness.ts";
import {
  bearerGet,
  exchangeCode,
  introspect,
  issueTokens,
  mintCode,
  refresh,
  setupClient,
  withEnv,
} from "./support/oauth-flow.ts";

/**
 * The writes of every grant outcome, checked in the database, and the outcomes that follow a lost
 * compare-and-swap (another request changed the state between this request's read and its write).
 */
const t = await createTestApp();
afterAll(() => t.close());
const { client } = await setupClient(t);
const alice = await registerUser(t);
const db = t.deps.db;

async function rowCounts() {
  const count = (table: "access_tokens" | "refresh_tokens" | "token_families" | "audit_events") =>
    db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow()
      .then((row) => Number(row.n));
  return {
    access: await count("access_tokens"),
    refresh: await count("refresh_tokens"),
    families: await count("token_families"),
    audit: await count("audit_events"),
  };
}

async function refreshRow(token: string) {
  return db
    .selectFrom("refresh_tokens")
    .selectAll()
    .where("token_hash", "=", hashToken(token))
    .executeTakeFirst();
}
async function accessRow(token: string) {
  return db
    .selectFrom("access_tokens")
    .selectAll()
    .where("token_hash", "=", hashToken(token))
    .executeTakeFirst();
}

/**
 * The same app, whose database runs `race` once, right after the grant's read of `table` returned:
 * the state changes between this request's decision and its write, deterministically.
 */
function racingApp(
  base: TestApp,
  table: "refresh_tokens" | "authorization_codes",
  race: () => Promise<unknown>,
) {
  let armed = true;
  const reads = new WeakSet<object>();
  const racing: KyselyPlugin = {
    transformQuery(args) {
      const node = args.node as any;
      const joins: any[] = node.joins ?? [];
      const readsTable = joins.some((join) => JSON.stringify(join.table).includes(`"${table}"`));
      if (armed && node.kind === "SelectQueryNode" && readsTable) reads.add(args.queryId);
      return args.node;
    },
    async transformResult(args) {
      if (armed && reads.has(args.queryId)) {
        armed = false;
        await race();
      }
      return args.result;
    },
  };
  const deps: Deps = { ...base.deps, db: base.deps.db.withPlugin(racing) };
  const app = createApp(deps);
  return {
    ...base,
    deps,
    app,
    request: (path: string, init?: RequestInit) => app.handle(new Request(new URL(path, TEST_ISSUER), init)),
    raced: () => !armed,
  };
}

describe("refresh: each outcome's writes", () => {
  test("rotate: the presented token is marked used; one new pair in the same family, generation + 1", async () => {
    const a = await issueTokens(t, client, alice.user.id);
    const before = await rowCounts();
    const b = await refresh(t, client, a.refresh_token);
    expect(b.status).toBe(200);
    const after = await rowCounts();
    expect(after).toEqual({ ...before, access: before.access + 1, refresh: before.refresh + 1 });
    const old = await refreshRow(a.refresh_token);
    const next = await refreshRow(b.body.refresh_token);
    expect(old?.used_at).not.toBeNull();
    expect(next).toMatchObject({
      family_id: old?.family_id,
      generation: (old?.generation ?? 0) + 1,
      used_at: null,
    });
    expect((await accessRow(b.body.access_token))?.family_id).toBe(old?.family_id ?? "");
  });

  test("scope narrows the new access token only; the new refresh token keeps the presented token's scope", async () => {
    const a = await issueTokens(t, client, alice.user.id, ["identify", "email"]);
    const narrowed = await refresh(t, client, a.refresh_token, { scope: "identify" });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe("identify");
    expect((await accessRow(narrowed.body.access_token))?.scopes).toEqual(["identify"]);
    expect((await refreshRow(narrowed.body.refresh_token))?.scopes).toEqual(["identify", "email"]);
    // Omitted scope on the next refresh = the originally granted scope, not the narrowed one.
    const next = await refresh(t, client, narrowed.body.refresh_token);
    expect(next.body.scope).toBe("identify email");
    expect((await bearerGet(t, "/v1/oauth2/userinfo", next.body.access_token)).body.email).toBeDefined();
    // And the original grant is still the limit.
    const wide = await refresh(t, client, next.body.refresh_token, { scope: "identify guilds" });
    expect(wide.body.error).toBe("invalid_scope");
  });

  test("refusals write nothing: unknown, revoked, expired, too wide a scope", async () => {
    const a = await issueTokens(t, client, alice.user.id);
    const before = await rowCounts();
    expect((await refresh(t, client, "x".repeat(43))).body.error).toBe("invalid_grant");
    expect((await refresh(t, client, a.refresh_token, { scope: "guilds" })).body.error).toBe("invalid_scope");
    const idle = withEnv(t, { REFRESH_TOKEN_IDLE_SECONDS: "60" });
    idle.clock.advance(61);
    expect((await refresh(idle, client, a.refresh_token)).body.error_description).toBe(
      "Refresh token expired",
    );
    expect(await rowCounts()).toEqual(before);
    expect((await refreshRow(a.refresh_token))?.used_at).toBeNull();
  });

  test("reuse: the family is revoked with reason refresh_reuse and two audit events", async () => {
    const a = await issueTokens(t, client, alice.user.id);
    await refresh(t, client, a.refresh_token);
    const before = await rowCounts();
    const reuse = await refresh(t, client, a.refresh_token);
    expect(reuse.body).toEqual({ error: "invalid_grant", error_description: "Refresh token already used" });
    const familyId = (await refreshRow(a.refresh_token))?.family_id ?? "";
    const family = await db
      .selectFrom("token_families")
      .selectAll()
      .where("id", "=", familyId)
      .executeTakeFirst();
    expect(family?.revoked_reason).toBe("refresh_reuse");
    expect(await rowCounts()).toEqual({ ...before, audit: before.audit + 2 });
    const types = await db
      .selectFrom("audit_events")
      .select("type")
      .where("family_id", "=", familyId)
      .execute();
    expect(types.map((row) => row.type).sort()).toEqual([
      "refresh_token.reuse_detected",
      "token_family.revoked",
    ]);
  });

  test("grace retry: the same pair, nothing written; a different scope is invalid_grant and revokes nothing", async () => {
    const grace = withEnv(t, { REFRESH_REUSE_GRACE_SECONDS: "30" });
    const a = await issueTokens(grace, client, alice.user.id, ["identify", "email"]);
    const first = await refresh(grace, client, a.refresh_token, { scope: "identify" });
    expect(first.status).toBe(200);
    const before = await rowCounts();
    const retry = await refresh(grace, client, a.refresh_token, { scope: "identify" });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({
      access_token: first.body.access_token,
      refresh_token: first.body.refresh_token,
      scope: "identify",
    });
    for (const scope of [undefined, "identify email", "email"]) {
      const other = await refresh(grace, client, a.refresh_token, scope === undefined ? {} : { scope });
      expect(other.body.error).toBe("invalid_grant");
      expect(other.body.error_description).toBe("A retry must ask for the same scope as the first request");
    }
    expect(await rowCounts()).toEqual(before);
    expect((await introspect(grace, client, first.body.refresh_token)).body.active).toBe(true);
  });
});

describe("refresh: a lost compare-and-swap is read and decided again", () => {
  test("without grace: the loser finds the token used — reuse, the family revoked", async () => {
    const a = await issueTokens(t, client, alice.user.id);
    let winner: any;
    const racing = racingApp(t, "refresh_tokens", async () => {
      winner = await refresh(t, client, a.refresh_token);
    });
    const loser = await refresh(racing, client, a.refresh_token);
    expect(racing.raced()).toBe(true);
    expect(winner.status).toBe(200);
    expect(loser.body.error_description).toBe("Refresh token already used");
    expect((await bearerGet(t, "/v1/oauth2/userinfo", winner.body.access_token)).status).toBe(401);
  });

  test("with grace: the loser returns the winner's pair (the success that only follows a lost race)", async () => {
    const grace = withEnv(t, { REFRESH_REUSE_GRACE_SECONDS: "30" });
    const a = await issueTokens(grace, client, alice.user.id);
    let winner: any;
    const racing = racingApp(grace, "refresh_tokens", async () => {
      winner = await refresh(grace, client, a.refresh_token);
    });
    const before = await rowCounts();
    const loser = await refresh(racing, client, a.refresh_token);
    expect(racing.raced()).toBe(true);
    expect(winner.status).toBe(200);
    expect(loser.status).toBe(200);
    expect(loser.body.access_token).toBe(winner.body.access_token);
    expect(loser.body.refresh_token).toBe(winner.body.refresh_token);
    // One pair in all: the loser wrote nothing.
    expect(await rowCounts()).toEqual({ ...before, access: before.access + 1, refresh: before.refresh + 1 });
    expect((await bearerGet(grace, "/v1/oauth2/userinfo", loser.body.access_token)).status).toBe(200);
  });

  test("a revocation between the read and the write: nothing issued, the refusal says revoked", async () => {
    const a = await issueTokens(t, client, alice.user.id);
    const racing = racingApp(t, "refresh_tokens", () =>
      db
        .updateTable("token_families")
        .set({ revoked_at: t.clock.now(), revoked_reason: "client_revocation" })
        .where("id", "=", (eb) =>
          eb
            .selectFrom("refresh_tokens")
            .select("family_id")
            .where("token_hash", "=", hashToken(a.refresh_token)),
        )
        .execute(),
    );
    const before = await rowCounts();
    const res = await refresh(racing, client, a.refresh_token);
    expect(racing.raced()).toBe(true);
    expect(res.body).toEqual({ error: "invalid_grant", error_description: "Refresh token revoked" });
    expect((await rowCounts()).access).toBe(before.access);
  });
});

describe("code exchange: each outcome's writes", () => {
  test("issue: the code is consumed; one family (with the code's hash) and its first pair", async () => {
    const code = await mintCode(t, client, alice.user.id, { scopes: ["identify"] });
    const before = await rowCounts();
    const res = await exchangeCode(t, client, code);
    expect(res.status).toBe(200);
    expect(await rowCounts()).toEqual({
      ...before,
      families: before.families + 1,
      access: before.access + 1,
      refresh: before.refresh + 1,
    });
    const row = await db
      .selectFrom("authorization_codes")
      .selectAll()
      .where("code_hash", "=", hashToken(code))
      .executeTakeFirst();
    // Consumed means deleted; the family remembers the code's hash for replays.
    expect(row).toBeUndefined();
    const family = await db
      .selectFrom("token_families")
      .selectAll()
      .where("code_hash", "=", hashToken(code))
      .executeTakeFirst();
    expect(family).toMatchObject({
      user_id: alice.user.id,
      application_id: client.id,
      scopes: ["identify"],
      grant_type: "authorization_code",
    });
    expect((await refreshRow(res.body.refresh_token))?.generation).toBe(0);
  });

  test("refusals (PKCE, redirect_uri, expiry) write nothing and leave the code usable", async () => {
    const code = await mintCode(t, client, alice.user.id);
    const before = await rowCounts();
    expect((await exchangeCode(t, client, code, { code_verifier: "x".repeat(43) })).body.error).toBe(
      "invalid_grant",
    );
    expect(
      (await exchangeCode(t, client, code, { redirect_uri: "https://elsewhere.example/cb" })).body.error,
    ).toBe("invalid_grant");
    expect(await rowCounts()).toEqual(before);
    expect((await exchangeCode(t, client, code)).status).toBe(200);
  });

  test("replay: the family is revoked with reason code_replay; the replay and the revocation are audited", async () => {
    const code = await mintCode(t, client, alice.user.id);
    const first = await exchangeCode(t, client, code);
    const before = await rowCounts();
    const replay = await exchangeCode(t, client, code);
    expect(replay.body).toEqual({
      error: "invalid_grant",
      error_description: "Authorization code already used",
    });
    expect(await rowCounts()).toEqual({ ...before, audit: before.audit + 2 });
    expect((await introspect(t, client, first.body.access_token)).body).toEqual({ active: false });
  });

  test("a lost race: the loser finds the code consumed — a replay that revokes the winner's family", async () => {
    const code = await mintCode(t, client, alice.user.id);
    let winner: any;
    const racing = racingApp(t, "authorization_codes", async () => {
      winner = await exchangeCode(t, client, code);
    });
    const loser = await exchangeCode(racing, client, code);
    expect(racing.raced()).toBe(true);
    expect(winner.status).toBe(200);
    expect(loser.body.error_description).toBe("Authorization code already used");
    expect((await bearerGet(t, "/v1/oauth2/userinfo", winner.body.access_token)).status).toBe(401);
  });
});
