import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { createManualClock } from "../src/clock.ts";
import { cleanupExpired, startCleanupTimer } from "../src/domain/cleanup.ts";
import { createLogger } from "../src/logger.ts";
import { createSnowflakeGenerator } from "../src/snowflake.ts";
import { createTestDatabase } from "./support/database.ts";

const database = await createTestDatabase();
const db = database.db;
afterAll(() => database.close());

const NOW = new Date("2026-11-28T12:00:00.000Z");
const nextId = createSnowflakeGenerator(1);
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const HOUR = 3600;
const DAY = 24 * HOUR;

let userId = "";
let applicationId = "";

async function resetTables() {
  for (const table of [
    "audit_events",
    "access_tokens",
    "refresh_tokens",
    "token_families",
    "authorization_codes",
    "sessions",
    "rate_limits",
    "applications",
    "users",
  ] as const)
    await db.deleteFrom(table).execute();
  userId = nextId();
  applicationId = nextId();
  await db
    .insertInto("users")
    .values({
      id: userId,
      username: `cleanup${userId}`,
      discriminator: "0001",
      global_name: null,
      avatar: null,
      email: null,
      verified: false,
      flags: 0,
      bot: false,
      system: false,
      password_hash: null,
      created_at: at(-30 * DAY),
    })
    .execute();
  await db
    .insertInto("applications")
    .values({
      id: applicationId,
      owner_id: userId,
      name: "Cleanup",
      description: null,
      icon_hash: null,
      bot_user_id: null,
      bot_public: true,
      bot_require_code_grant: false,
      terms_of_service_url: null,
      privacy_policy_url: null,
      redirect_uris: ["https://client.example/cb"],
      client_secret_hash: "x",
      bot_token_hash: null,
      verify_key: "x",
      signing_key: "x",
      version: 1,
      created_at: at(-30 * DAY),
      updated_at: at(-30 * DAY),
    })
    .execute();
}

async function insertCode(hash: string, expiresAt: Date) {
  await db
    .insertInto("authorization_codes")
    .values({
      code_hash: hash,
      application_id: applicationId,
      user_id: userId,
      redirect_uri: "https://client.example/cb",
      scopes: ["identify"],
      code_challenge: null,
      code_challenge_method: null,
      created_at: at(-2 * HOUR),
      expires_at: expiresAt,
    })
    .execute();
}

async function insertSession(id: string, expiresAt: Date) {
  await db
    .insertInto("sessions")
    .values({ id, user_id: userId, token_hash: `s${id}`, created_at: at(-DAY), expires_at: expiresAt })
    .execute();
}

/**
 * A family with one access token expiring at `accessExpiresAt` and, for the authorization-code grant,
 * one refresh token (a client-credentials family has none).
 */
async function insertFamily(
  revokedAt: Date | null,
  accessExpiresAt: Date = at(HOUR),
  grantType: "authorization_code" | "client_credentials" = "authorization_code",
) {
  const id = nextId();
  await db
    .insertInto("token_families")
    .values({
      id,
      application_id: applicationId,
      user_id: userId,
      grant_type: grantType,
      scopes: ["identify"],
      code_hash: null,
      created_at: at(-60 * DAY),
      revoked_at: revokedAt,
      revoked_reason: revokedAt ? "test" : null,
    })
    .execute();
  if (grantType === "authorization_code")
    await db
      .insertInto("refresh_tokens")
      .values({
        token_hash: `r${id}`,
        family_id: id,
        generation: 0,
        scopes: ["identify"],
        created_at: at(-DAY),
        used_at: null,
      })
      .execute();
  await db
    .insertInto("access_tokens")
    .values({
      token_hash: `a${id}`,
      family_id: id,
      application_id: applicationId,
      user_id: userId,
      scopes: ["identify"],
      created_at: at(-DAY),
      expires_at: accessExpiresAt,
    })
    .execute();
  return id;
}

async function column<T extends "authorization_codes" | "sessions" | "token_families" | "access_tokens">(
  table: T,
): Promise<string[]> {
  const key = {
    authorization_codes: "code_hash",
    sessions: "id",
    token_families: "id",
    access_tokens: "token_hash",
  }[table];
  // biome-ignore lint/suspicious/noExplicitAny: one helper over four tables with different keys
  const rows = await (db as any).selectFrom(table).select(key).orderBy(key).execute();
  return rows.map((row: Record<string, string>) => row[key]);
}

beforeEach(resetTables);

describe("cleanupExpired", () => {
  test("a client-credentials family goes once its only access token has expired", async () => {
    const spent = await insertFamily(null, at(-DAY), "client_credentials");
    const live = await insertFamily(null, at(DAY), "client_credentials");
    const counts = await cleanupExpired(db, NOW);
    expect(counts.accessTokens).toBe(1);
    expect(counts.tokenFamilies).toBe(1);
    const families = await column("token_families");
    expect(families).toContain(live);
    expect(families).not.toContain(spent);
  });

  test("removes only what can no longer be used", async () => {
    await insertCode("code-expired-2h", at(-2 * HOUR));
    await insertCode("code-expired-10m", at(-600)); // kept an hour for replay detection
    await insertCode("code-live", at(300));
    await insertSession("101", at(-1));
    await insertSession("102", at(DAY));
    const revokedLongAgo = await insertFamily(at(-31 * DAY));
    const revokedRecently = await insertFamily(at(-DAY));
    const live = await insertFamily(null);
    const liveWithExpiredAccess = await insertFamily(null, at(-1));
    await db
      .insertInto("rate_limits")
      .values([
        { bucket: "oauth:token", key: "ip:stale", window_start: at(-3 * HOUR), count: 5 },
        { bucket: "oauth:token", key: "ip:current", window_start: at(-30), count: 5 },
        { bucket: "applications:create", key: "user:1", window_start: at(-50 * 60), count: 3 },
      ])
      .execute();

    const counts = await cleanupExpired(db, NOW);
    expect(counts).toEqual({
      authorizationCodes: 1,
      sessions: 1,
      accessTokens: 1,
      tokenFamilies: 1,
      usedRefreshTokens: 0,
      auditEvents: 0,
      rateLimits: 1,
    });

    expect(await column("authorization_codes")).toEqual(["code-expired-10m", "code-live"]);
    expect(await column("sessions")).toEqual(["102"]);
    expect(await column("token_families")).toEqual([revokedRecently, live, liveWithExpiredAccess].sort());
    // The old family's tokens went with it by cascade; the live family's expired access token too.
    expect(await column("access_tokens")).toEqual([`a${revokedRecently}`, `a${live}`].sort());
    const refresh = await db.selectFrom("refresh_tokens").select("family_id").execute();
    expect(refresh.map((row) => row.family_id).sort()).toEqual(
      [revokedRecently, live, liveWithExpiredAccess].sort(),
    );
    expect(refresh.map((row) => row.family_id)).not.toContain(revokedLongAgo);
    const limits = await db.selectFrom("rate_limits").select("key").orderBy("key").execute();
    expect(limits.map((row) => row.key)).toEqual(["ip:current", "user:1"]);

    // Nothing left to do: a second run deletes nothing.
    expect(Object.values(await cleanupExpired(db, NOW))).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  test("works through many rows in small batches, and a run's batch budget bounds it", async () => {
    for (let i = 0; i < 25; i++) await insertSession(String(1000 + i), at(-60));
    await insertSession("2000", at(60));
    expect((await cleanupExpired(db, NOW, { batchSize: 4, maxBatches: 3 })).sessions).toBe(12);
    expect(await column("sessions")).toHaveLength(14);
    expect((await cleanupExpired(db, NOW, { batchSize: 4 })).sessions).toBe(13);
    expect(await column("sessions")).toEqual(["2000"]);
  });

  test("retention periods are configurable", async () => {
    const family = await insertFamily(at(-2 * DAY));
    await insertCode("code", at(-120));
    expect(
      await cleanupExpired(db, NOW, { revokedFamilyRetentionSeconds: 3 * DAY, codeGraceSeconds: 300 }),
    ).toMatchObject({
      tokenFamilies: 0,
      authorizationCodes: 0,
    });
    expect(
      await cleanupExpired(db, NOW, { revokedFamilyRetentionSeconds: DAY, codeGraceSeconds: 60 }),
    ).toMatchObject({
      tokenFamilies: 1,
      authorizationCodes: 1,
    });
    expect(await column("token_families")).not.toContain(family);
  });
});

describe("retention (SPEC §4)", () => {
  test("used refresh tokens go USED_REFRESH_TOKEN_RETENTION_DAYS after their use; audit events after theirs", async () => {
    const family = await insertFamily(null);
    const tokens = [
      { token_hash: "used-31d", generation: 1, used_at: at(-31 * DAY) },
      { token_hash: "used-29d", generation: 2, used_at: at(-29 * DAY) },
      { token_hash: "unused", generation: 3, used_at: null },
    ];
    await db
      .insertInto("refresh_tokens")
      .values(
        tokens.map((token) => ({
          ...token,
          family_id: family,
          scopes: ["identify"],
          created_at: at(-40 * DAY),
        })),
      )
      .execute();
    const event = (id: string, createdAt: Date) => ({
      id,
      type: "token_family.revoked",
      user_id: userId,
      application_id: applicationId,
      family_id: family,
      data: { family_id: family, reason: "test" },
      created_at: createdAt,
    });
    await db
      .insertInto("audit_events")
      .values([event("91", at(-91 * DAY)), event("89", at(-89 * DAY))])
      .execute();

    expect(await cleanupExpired(db, NOW)).toMatchObject({ usedRefreshTokens: 1, auditEvents: 1 });
    const left = await db
      .selectFrom("refresh_tokens")
      .select("token_hash")
      .where("family_id", "=", family)
      .execute();
    expect(left.map((row) => row.token_hash).sort()).toEqual([`r${family}`, "unused", "used-29d"].sort());
    const events = await db.selectFrom("audit_events").select("id").execute();
    expect(events.map((row) => row.id)).toEqual(["89"]);
    // Shorter retention periods take more.
    expect(
      await cleanupExpired(db, NOW, {
        usedRefreshTokenRetentionSeconds: 7 * DAY,
        auditRetentionSeconds: 30 * DAY,
      }),
    ).toMatchObject({ usedRefreshTokens: 1, auditEvents: 1 });
  });
});

describe("startCleanupTimer", () => {
  test("cleans up periodically until stopped, logging what it deleted", async () => {
    const lines: string[] = [];
    const clock = createManualClock(NOW);
    const deps = { db, clock, log: createLogger("info", (line) => lines.push(line)) };
    await insertSession("301", at(-1));
    const stop = startCleanupTimer(deps, 10);
    try {
      // The run logs once it has been through every table, after the session is gone.
      const logged = () => lines.map((line) => JSON.parse(line)).find((entry) => entry.msg === "cleanup");
      for (let i = 0; i < 200 && !logged(); i++) await Bun.sleep(10);
      expect(await column("sessions")).toEqual([]);
      expect(logged().deleted).toMatchObject({ sessions: 1 });
    } finally {
      await stop();
    }

    // Stopped: a session expiring later is not removed any more.
    await insertSession("302", at(-1));
    await Bun.sleep(60);
    expect(await column("sessions")).toEqual(["302"]);
  });
});
