/**
 * Issue #6, acceptance 2: two real server processes (different WORKER_IDs) on one PostgreSQL
 * database. Refresh rotation is atomic across processes, reuse detected on one process kills the
 * family on the other, and rate-limit counters are shared.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "../../../packages/client/src/index.ts";
import { postgresDatabase } from "../src/db/database.ts";
import {
  clientForm,
  consentAt,
  createScratchDatabase,
  issueTokensAt,
  type OAuthClient,
  refreshAt,
  type ScratchDatabase,
  type ServerProcess,
  startServerProcess,
  userinfoAt,
  type WireResponse,
} from "./support/server-process.ts";

describe.skipIf(!process.env.DATABASE_URL)("two server processes on one PostgreSQL database", () => {
  let database: ScratchDatabase;
  let a: ServerProcess;
  let b: ServerProcess;
  let session: string;
  let userId: string;
  let client: OAuthClient;
  /** Hits on the `oauth:authorize` bucket (the consent route) made so far in this file. */
  let authorizeHits = 0;

  /** Hits on the `oauth:introspect` bucket (userinfo, @me, introspect, revoke) made so far. */
  let introspectHits = 0;

  const issueTokens = async (baseUrl: string) => {
    authorizeHits++;
    return issueTokensAt(baseUrl, session, client);
  };
  const userinfo = async (baseUrl: string, accessToken: string) => {
    introspectHits++;
    return userinfoAt(baseUrl, accessToken);
  };

  beforeAll(async () => {
    database = await createScratchDatabase();
    const env = { DATABASE_URL: database.url, REFRESH_REUSE_GRACE_SECONDS: "0", RATE_LIMITS: "on" };
    // One after the other: the first start creates the schema, the second finds it migrated.
    a = await startServerProcess({ ...env, WORKER_ID: "11" });
    b = await startServerProcess({ ...env, WORKER_ID: "12" });
    expect(a.url).not.toBe(b.url);

    // The account on A, the application on B: both processes see every row.
    const registered = await createClient({ url: a.url }).auth.register.mutate({
      username: "multi_process",
      email: "multi@example.com",
      password: "password123",
    });
    session = registered.token;
    userId = registered.user.id;
    const redirectUri = "https://client.example/callback";
    const app = await createClient({ url: b.url, token: session }).applications.create.mutate({
      name: "Multi-process",
      redirect_uris: [redirectUri],
    });
    client = { id: app.id, secret: app.client_secret, redirectUri };
  }, 40_000);

  afterAll(async () => {
    const exits = await Promise.all([a?.kill("SIGTERM"), b?.kill("SIGTERM")]);
    await database?.drop();
    // A clean shutdown on SIGTERM (index.ts stops the server and exits 0).
    for (const exit of exits) if (exit) expect(exit.exitCode).toBe(0);
  }, 20_000);

  test("20 concurrent refreshes of one token over both processes: exactly one succeeds (grace 0)", async () => {
    const pair = await issueTokens(a.url);
    // Both processes know the family before the race.
    expect((await userinfo(b.url, pair.access_token)).status).toBe(200);

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        refreshAt(i % 2 === 0 ? a.url : b.url, client, pair.refresh_token),
      ),
    );
    const winners = responses.filter((res) => res.status === 200);
    const losers = responses.filter((res) => res.status !== 200);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const res of losers) {
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("invalid_grant");
    }
    // Both processes answered losers (the race really was spread over both).
    const loserOrigins = responses.flatMap((res, i) => (res.status === 200 ? [] : [i % 2]));
    expect(new Set(loserOrigins)).toEqual(new Set([0, 1]));

    // The losers presented a used token: reuse detection revoked the family, winner's pair included.
    const winner = winners[0]?.body;
    expect(winner.refresh_token).not.toBe(pair.refresh_token);
    for (const url of [a.url, b.url]) {
      expect((await userinfo(url, winner.access_token)).status).toBe(401);
      expect((await userinfo(url, pair.access_token)).status).toBe(401);
    }
    const again = await refreshAt(b.url, client, winner.refresh_token);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe("invalid_grant");

    // One rotation in the database: generation 0 used, exactly one generation 1.
    const db = postgresDatabase(database.url, { max: 1 });
    try {
      const families = await db.db
        .selectFrom("token_families")
        .innerJoin("refresh_tokens", "refresh_tokens.family_id", "token_families.id")
        .select(["token_families.id", "token_families.revoked_reason", "refresh_tokens.generation"])
        .where("token_families.user_id", "=", userId)
        .execute();
      const familyIds = new Set(families.map((row) => row.id));
      expect(familyIds.size).toBe(1);
      expect(families.map((row) => row.generation).sort()).toEqual([0, 1]);
      expect(families[0]?.revoked_reason).toBe("refresh_reuse");
    } finally {
      await db.close();
    }
  }, 20_000);

  test("reuse detected on one process revokes the family on both", async () => {
    const first = await issueTokens(b.url);
    const rotated = await refreshAt(a.url, client, first.refresh_token);
    expect(rotated.status).toBe(200);
    const second = rotated.body;
    // The new pair works on both processes before the reuse.
    for (const url of [a.url, b.url]) {
      const info = await userinfo(url, second.access_token);
      expect(info.status).toBe(200);
      expect(info.body.sub).toBe(userId);
    }

    // R1 again, on the other process: reuse.
    const reuse = await refreshAt(b.url, client, first.refresh_token);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe("invalid_grant");

    // R2 was never used, yet it is dead on A: the whole family went with the reuse on B.
    const afterReuse = await refreshAt(a.url, client, second.refresh_token);
    expect(afterReuse.status).toBe(400);
    expect(afterReuse.body.error).toBe("invalid_grant");
    for (const url of [a.url, b.url]) {
      for (const token of [second.access_token, first.access_token]) {
        const info = await userinfo(url, token);
        expect(info.status).toBe(401);
        expect(info.headers.get("www-authenticate")).toContain('error="invalid_token"');
      }
    }
  }, 20_000);

  test("the oauth:introspect bucket (120/min per IP) is one counter for both processes and routes", async () => {
    // Successful answers carry no X-RateLimit-* headers (only 429s do), so the proof is the count:
    // separate counters would let 120 through on each process; one shared counter lets exactly the
    // rest of the 120 through, alternating processes and routes, then denies everywhere. The window
    // opened at this file's first userinfo call and lasts 60 s, longer than this file runs.
    const limit = 120;
    const pair = await issueTokens(a.url);
    const allowedBefore = limit - introspectHits;
    expect(allowedBefore).toBeGreaterThan(100);

    const answers: {
      process: "a" | "b";
      route: "userinfo" | "introspect";
      status: number;
      res: WireResponse;
    }[] = [];
    for (let i = 0; i < allowedBefore + 8; i++) {
      const side = i % 2 === 0 ? "a" : "b";
      const url = side === "a" ? a.url : b.url;
      const route = i % 4 < 2 ? "userinfo" : "introspect";
      let res: WireResponse;
      if (route === "userinfo") res = await userinfo(url, pair.access_token);
      else {
        introspectHits++;
        res = await clientForm(url, client, "/v1/oauth2/introspect", { token: pair.access_token });
      }
      answers.push({ process: side, route, status: res.status, res });
    }
    const allowed = answers.slice(0, allowedBefore);
    const denied = answers.slice(allowedBefore);
    for (const answer of allowed) {
      expect(answer.status).toBe(200);
      if (answer.route === "introspect") expect(answer.res.body.active).toBe(true);
      else expect(answer.res.body.sub).toBe(userId);
    }
    // The denials cover both processes and both routes.
    expect(new Set(denied.map((answer) => `${answer.process}:${answer.route}`))).toEqual(
      new Set(["a:userinfo", "b:userinfo", "a:introspect", "b:introspect"]),
    );
    const resets = new Set<string | null>();
    for (const { route, status, res } of denied) {
      expect(status).toBe(429);
      expect(res.headers.get("x-ratelimit-limit")).toBe(String(limit));
      expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // Introspection keeps the RFC body; the bearer resource answers Fluxer's.
      if (route === "introspect") expect(res.body.error).toBe("rate_limited");
      else expect(res.body.code).toBe("RATE_LIMITED");
      resets.add(res.headers.get("x-ratelimit-reset"));
    }
    // Both processes report the same window, and the retry hint counts down with it.
    expect(resets.size).toBe(1);
    const retryAfter = Number(denied.at(-1)?.res.headers.get("x-ratelimit-reset-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Another bucket is untouched: the token endpoint still answers on both processes.
    const rotated = await refreshAt(b.url, client, pair.refresh_token);
    expect(rotated.status).toBe(200);
    const again = await refreshAt(a.url, client, rotated.body.refresh_token);
    expect(again.status).toBe(200);

    const db = postgresDatabase(database.url, { max: 1 });
    try {
      const rows = await db.db
        .selectFrom("rate_limits")
        .select(["count"])
        .where("bucket", "=", "oauth:introspect")
        .execute();
      expect(rows).toEqual([{ count: introspectHits }]);
      expect(introspectHits).toBe(limit + 8);
    } finally {
      await db.close();
    }
  }, 20_000);

  test("the oauth:authorize rate limit (60/min per IP) is one counter for both processes", async () => {
    // The same proof on another bucket, through the JSON consent route. The window opened at this
    // file's first consent and lasts 60 s, longer than this file runs.
    const limit = 60;
    const allowedBefore = limit - authorizeHits;
    expect(allowedBefore).toBeGreaterThan(10);

    const statuses: number[] = [];
    const denials: { process: "a" | "b"; headers: Headers; body: unknown }[] = [];
    for (let i = 0; i < allowedBefore + 4; i++) {
      const onA = i % 2 === 0;
      const res = await consentAt(onA ? a.url : b.url, session, client);
      statuses.push(res.status);
      if (res.status === 429)
        denials.push({ process: onA ? "a" : "b", headers: res.headers, body: res.body });
      else expect(res.status).toBe(200);
    }
    // Separate counters would let 60 through on each process; one shared counter lets exactly the
    // rest of the 60 through, alternating, and then denies on both.
    expect(statuses.slice(0, allowedBefore).every((status) => status === 200)).toBe(true);
    expect(statuses.slice(allowedBefore)).toEqual([429, 429, 429, 429]);
    expect(new Set(denials.map((denial) => denial.process))).toEqual(new Set(["a", "b"]));
    const resets = new Set<string | null>();
    for (const denial of denials) {
      expect(denial.headers.get("x-ratelimit-limit")).toBe(String(limit));
      expect(denial.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(Number(denial.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(denial.body).toMatchObject({ code: "RATE_LIMITED" });
      resets.add(denial.headers.get("x-ratelimit-reset"));
    }
    // Both processes report the same window: the one row in rate_limits.
    expect(resets.size).toBe(1);

    const db = postgresDatabase(database.url, { max: 1 });
    try {
      const rows = await db.db
        .selectFrom("rate_limits")
        .select(["key", "count"])
        .where("bucket", "=", "oauth:authorize")
        .execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]?.count).toBe(limit + 4);
    } finally {
      await db.close();
    }
  }, 20_000);
});
