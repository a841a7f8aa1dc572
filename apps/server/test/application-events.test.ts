// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
/**
 * applications.events (SPEC §9): what the real actions record for an application, as its owner reads
 * it through the typed client — newest first, paged with `before`/`next`, owner only.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "kysely";
import { hashToken } from "../src/crypto.ts";
import * as auditEventData from "../src/db/migrations/2026-12-01T02-15-audit-event-data.ts";
import { createApplicationOk, mutate, query } from "./support/applications.ts";
import { testDatabaseKind } from "./support/database.ts";
import { snapshotDatabase } from "./support/db-snapshot.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";
import { type Client, exchangeCode, issueTokens, mintCode, refresh, withEnv } from "./support/oauth-flow.ts";
import { trpcHttp } from "./support/trpc-http.ts";

const t = await createTestApp();
afterAll(() => t.close());

const owner = await registerUser(t);
const alice = await registerUser(t);
const A = "https://client.example/a";
const B = "https://client.example/b";

async function events(token: string, input: Record<string, unknown>) {
  return query(t, "events", token, input);
}

async function allEvents(id: string): Promise<any[]> {
  const res = await events(owner.token, { id, limit: 100 });
  expect(res.status).toBe(200);
  expect(res.body.result.data.next).toBeNull();
  return res.body.result.data.events;
}

async function familyOf(accessToken: string): Promise<string> {
  const row = await t.deps.db
    .selectFrom("access_tokens")
    .select("family_id")
    .where("token_hash", "=", hashToken(accessToken))
    .executeTakeFirstOrThrow();
  return row.family_id;
}

/** Moves the clock a minute on and returns the new time as the wire shows it. */
function nextMinute(): string {
  t.clock.advance(60);
  return t.clock.now().toISOString();
}

/** One application taken through every audited action; the events it should show, oldest first. */
async function auditedApplication() {
  const created = await createApplicationOk(t, owner.token, { redirect_uris: [A] });
  const client: Client = { id: created.id, clientSecret: created.client_secret, redirectUris: [A] };
  const expected: { type: string; at: string; data: unknown }[] = [];
  const update = async (version: number, changes: Record<string, unknown>) => {
    const res = await mutate(t, "update", owner.token, { id: client.id, version, ...changes });
    expect(res.status).toBe(200);
  };

  let at = nextMinute();
  await update(1, { redirect_uris: [A, B] });
  expected.push({ type: "application.redirect_uris_changed", at, data: { added: [B], removed: [] } });
  // Reordering, or changing other fields, is no redirect URI change.
  nextMinute();
  await update(2, { redirect_uris: [B, A] });
  await update(3, { name: "Renamed" });
  at = nextMinute();
  await update(4, { redirect_uris: [A] });
  expected.push({ type: "application.redirect_uris_changed", at, data: { added: [], removed: [B] } });

  at = nextMinute();
  const secret = await mutate(t, "resetSecret", owner.token, { id: client.id, password: owner.password });
  expect(secret.status).toBe(200);
  client.clientSecret = secret.body.result.data.client_secret;
  expected.push({ type: "application.secret_reset", at, data: {} });
  at = nextMinute();
  const bot = await mutate(t, "resetBotToken", owner.token, { id: client.id, password: owner.password });
  expect(bot.status).toBe(200);
  expected.push({ type: "application.bot_token_reset", at, data: {} });

  // Refresh-token reuse: a → b → c, then b (generation 1) again.
  nextMinute();
  const a = await issueTokens(t, client, alice.user.id);
  const reused = await familyOf(a.access_token);
  const b = (await refresh(t, client, a.refresh_token)).body;
  const bUsedAt = nextMinute();
  expect((await refresh(t, client, b.refresh_token)).status).toBe(200);
  at = nextMinute();
  const reuse = await refresh(t, client, b.refresh_token);
  expect(reuse.body.error).toBe("invalid_grant");
  expected.push(
    { type: "token_family.revoked", at, data: { family_id: reused, reason: "refresh_reuse" } },
    {
      type: "refresh_token.reuse_detected",
      at,
      data: { family_id: reused, generation: 1, used_at: bUsedAt },
    },
  );

  // Code replay.
  nextMinute();
  const code = await mintCode(t, client, alice.user.id);
  const first = await exchangeCode(t, client, code);
  expect(first.status).toBe(200);
  const replayed = await familyOf(first.body.access_token);
  at = nextMinute();
  expect((await exchangeCode(t, client, code)).body.error).toBe("invalid_grant");
  expected.push(
    { type: "token_family.revoked", at, data: { family_id: replayed, reason: "code_replay" } },
    { type: "authorization_code.replayed", at, data: { revoked_families: [replayed] } },
  );

  // The user revokes their authorization of the application.
  nextMinute();
  const live = await familyOf((await issueTokens(t, client, alice.user.id)).access_token);
  at = nextMinute();
  const revoked = await trpcHttp(t, "authorizations.revoke", {
    token: alice.token,
    input: { application_id: client.id },
  });
  expect(revoked.status).toBe(200);
  expected.push(
    { type: "token_family.revoked", at, data: { family_id: live, reason: "authorization_revoked" } },
    { type: "authorization.revoked", at, data: { revoked_families: [live] } },
  );
  return { client, expected };
}

const audited = await auditedApplication();

describe(`applications.events (${testDatabaseKind})`, () => {
  test("every audited action appears for its application, newest first, with time and data", async () => {
    const list = await allEvents(audited.client.id);
    expect(list.map(({ type, at, data }) => ({ type, at, data }))).toEqual([...audited.expected].reverse());
    for (const event of list) expect(event.id).toMatch(/^[0-9]+$/);
    const ids = list.map((event) => BigInt(event.id));
    expect(ids).toEqual([...ids].sort((x, y) => (x > y ? -1 : x < y ? 1 : 0)));
  });

  test("another application's events stay with it", async () => {
    const other = await createApplicationOk(t, owner.token, { name: "Other" });
    expect(await allEvents(other.id)).toEqual([]);
    const at = nextMinute();
    await mutate(t, "resetSecret", owner.token, { id: other.id, password: owner.password });
    const list = await allEvents(other.id);
    expect(list.map(({ type, at, data }) => ({ type, at, data }))).toEqual([
      { type: "application.secret_reset", at, data: {} },
    ]);
    expect((await allEvents(audited.client.id)).map((event) => event.id)).not.toContain(list[0].id);
  });

  test("pages with before/next cover every event exactly once, in order", async () => {
    const all = (await allEvents(audited.client.id)).map((event) => event.id);
    expect(all.length).toBe(audited.expected.length);
    for (let limit = 1; limit <= all.length + 1; limit++) {
      const seen: string[] = [];
      let before: string | undefined;
      for (let pages = 0; pages <= all.length; pages++) {
        const res = await events(owner.token, { id: audited.client.id, limit, before });
        expect(res.status).toBe(200);
        const page = res.body.result.data;
        expect(page.events.length).toBeLessThanOrEqual(limit);
        seen.push(...page.events.map((event: any) => event.id));
        if (page.next === null) break;
        expect(page.next).toBe(page.events.at(-1).id);
        before = page.next;
      }
      expect(seen).toEqual(all);
    }
  });

  test("limit defaults to 50", async () => {
    const app = await createApplicationOk(t, owner.token, { redirect_uris: [A] });
    for (let version = 1; version <= 52; version++) {
      const uris = version % 2 === 1 ? [A, B] : [A];
      expect(
        (await mutate(t, "update", owner.token, { id: app.id, version, redirect_uris: uris })).status,
      ).toBe(200);
    }
    const first = (await events(owner.token, { id: app.id })).body.result.data;
    expect(first.events).toHaveLength(50);
    const rest = (await events(owner.token, { id: app.id, before: first.next })).body.result.data;
    expect(rest.events).toHaveLength(2);
    expect(rest.next).toBeNull();
  });

  test("someone else's application is ACCESS_DENIED, an unknown one UNKNOWN_APPLICATION", async () => {
    const stranger = await registerUser(t);
    const denied = await events(stranger.token, { id: audited.client.id });
    expect(denied.status).toBe(403);
    expect(denied.body.error.data.apiCode).toBe("ACCESS_DENIED");
    expect(JSON.stringify(denied.body)).not.toContain("redirect_uris_changed");
    // The user who authorized the application is not its owner either.
    expect((await events(alice.token, { id: audited.client.id })).body.error.data.apiCode).toBe(
      "ACCESS_DENIED",
    );
    const unknown = await events(owner.token, { id: "123456789012345678" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.data.apiCode).toBe("UNKNOWN_APPLICATION");
    const anonymous = await query(t, "events", undefined, { id: audited.client.id });
    expect(anonymous.status).toBe(401);
  });

  test.each([
    ["limit 0", { limit: 0 }],
    ["limit 101", { limit: 101 }],
    ["fractional limit", { limit: 1.5 }],
    ["limit as a string", { limit: "10" }],
    ["before not a number", { before: "abc" }],
    ["negative before", { before: "-1" }],
    ["before beyond int8", { before: "9223372036854775808" }],
    ["before as a number", { before: 123 }],
  ])("%s → BAD_REQUEST INVALID_FORM_BODY, nothing changes", async (_name, input) => {
    const before = await snapshotDatabase(t.deps.db);
    const res = await events(owner.token, { id: audited.client.id, ...input });
    expect(res.status).toBe(400);
    expect(res.body.error.data.code).toBe("BAD_REQUEST");
    expect(res.body.error.data.apiCode).toBe("INVALID_FORM_BODY");
    expect(await snapshotDatabase(t.deps.db)).toEqual(before);
  });

  test("counts against applications:list (60 per minute per user)", async () => {
    const limited = withEnv(t, { RATE_LIMITS: "on" });
    const user = await registerUser(t);
    const app = await createApplicationOk(t, user.token);
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++)
      statuses.push((await query(limited, "events", user.token, { id: app.id })).status);
    expect(new Set(statuses)).toEqual(new Set([200]));
    const denied = await query(limited, "events", user.token, { id: app.id });
    expect(denied.status).toBe(429);
    expect(denied.body.error.data.apiCode).toBe("RATE_LIMITED");
    expect((await query(limited, "list", user.token)).status).toBe(429);
  });
});

describe(`audit_events.data (${testDatabaseKind})`, () => {
  test("is a JSON object that SQL can read", async () => {
    const { rows } = await sql<{ kind: string; reason: string | null; generation: number | null }>`
      select jsonb_typeof(data) as kind, data->>'reason' as reason, (data->>'generation')::int as generation
      from audit_events where application_id = ${audited.client.id}
      order by id`.execute(t.deps.db);
    expect(new Set(rows.map((row) => row.kind))).toEqual(new Set(["object"]));
    expect(rows.map((row) => row.reason).filter((reason) => reason !== null)).toEqual([
      "refresh_reuse",
      "code_replay",
      "authorization_revoked",
    ]);
    expect(rows.map((row) => row.generation).filter((generation) => generation !== null)).toEqual([1]);
  });

  test("the migration turns JSON-string rows into objects and names the family in family events", async () => {
    const application = "987654321098765432";
    const family = "876543210987654321";
    const legacy = [
      ["token_family.revoked", { reason: "client_revocation" }],
      ["refresh_token.reuse_detected", { used_at: "2026-11-30T00:00:00.000Z" }],
      ["authorization.revoked", { revoked_families: [family] }],
    ] as const;
    for (const [type, data] of legacy) {
      // As rows were written before: a JSON string inside the jsonb column.
      await sql`insert into audit_events (id, type, application_id, family_id, data, created_at)
        values (${t.deps.nextId()}, ${type}, ${application}, ${family}, to_jsonb(${JSON.stringify(data)}::text), now())`.execute(
        t.deps.db,
      );
    }
    const typesBefore = await sql<{ kind: string }>`
      select jsonb_typeof(data) as kind from audit_events where application_id = ${application}`.execute(
      t.deps.db,
    );
    expect(typesBefore.rows.map((row) => row.kind)).toEqual(["string", "string", "string"]);
    const untouched = await sql<{ id: string; data: unknown }>`
      select id, data from audit_events where application_id <> ${application} or application_id is null
      order by id`.execute(t.deps.db);

    await auditEventData.down(t.deps.db);
    await auditEventData.up(t.deps.db);

    const { rows } = await sql<{ type: string; data: unknown; reason: string | null }>`
      select type, data, data->>'reason' as reason from audit_events where application_id = ${application}
      order by id`.execute(t.deps.db);
    expect(rows).toEqual([
      {
        type: "token_family.revoked",
        data: { reason: "client_revocation", family_id: family },
        reason: "client_revocation",
      },
      {
        type: "refresh_token.reuse_detected",
        data: { used_at: "2026-11-30T00:00:00.000Z", family_id: family, generation: null },
        reason: null,
      },
      { type: "authorization.revoked", data: { revoked_families: [family] }, reason: null },
    ]);
    // Rows that already were objects are left as they were.
    const after = await sql<{ id: string; data: unknown }>`
      select id, data from audit_events where application_id <> ${application} or application_id is null
      order by id`.execute(t.deps.db);
    expect(after.rows).toEqual(untouched.rows);
    const index = await sql<{ indexdef: string }>`
      select indexdef from pg_indexes where indexname = 'audit_events_application_idx'
        and schemaname = current_schema()`.execute(t.deps.db);
    expect(index.rows).toHaveLength(1);
  });
});
