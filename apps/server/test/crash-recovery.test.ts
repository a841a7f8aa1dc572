/**
 * Issue #6, acceptance 3: kill -9 a server process under a refresh load, restart it on the same
 * PostgreSQL database. Every pair a client received with a 200 still works or was rotated by a
 * request whose answer was lost; no half-written rotation is live; the new process starts cleanly.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createClient } from "../../../packages/client/src/index.ts";
import { hashToken } from "../src/crypto.ts";
import { type DatabaseHandle, postgresDatabase } from "../src/db/database.ts";
import {
  createScratchDatabase,
  issueTokensAt,
  type OAuthClient,
  refreshAt,
  type ScratchDatabase,
  type ServerProcess,
  startServerProcess,
  type TokenPair,
  userinfoAt,
} from "./support/server-process.ts";

const CHAINS = 8;
const LOAD_MS = 1500;

interface Chain {
  /** Every pair received with a 200, in order; [0] is from the code exchange. */
  pairs: TokenPair[];
  /** HTTP answers other than 200 (there must be none: the only failure allowed is a dead socket). */
  unexpected: { status: number; body: unknown }[];
  /** The network error that ended the loop (the kill). */
  ended: unknown;
  inFlight: boolean;
}

describe.skipIf(!process.env.DATABASE_URL)("crash recovery", () => {
  let database: ScratchDatabase | undefined;
  let db: DatabaseHandle | undefined;
  const processes: ServerProcess[] = [];

  afterAll(async () => {
    for (const server of processes) await server.kill("SIGKILL");
    await db?.close();
    await database?.drop();
  }, 20_000);

  test("kill -9 under a refresh load, restart: received pairs work or were rotated, nothing half-written", async () => {
    database = await createScratchDatabase();
    const env = {
      DATABASE_URL: database.url,
      REFRESH_REUSE_GRACE_SECONDS: "0",
      RATE_LIMITS: "off",
      WORKER_ID: "21",
    };
    const first = await startServerProcess(env);
    processes.push(first);

    const registered = await createClient({ url: first.url }).auth.register.mutate({
      username: "crash_test",
      email: "crash@example.com",
      password: "password123",
    });
    const redirectUri = "https://client.example/callback";
    const app = await createClient({ url: first.url, token: registered.token }).applications.create.mutate({
      name: "Crash test",
      redirect_uris: [redirectUri],
    });
    const client: OAuthClient = { id: app.id, secret: app.client_secret, redirectUri };

    const chains: Chain[] = [];
    for (let i = 0; i < CHAINS; i++)
      chains.push({
        pairs: [await issueTokensAt(first.url, registered.token, client)],
        unexpected: [],
        ended: null,
        inFlight: false,
      });

    // Each chain refreshes its latest pair in a loop, one request at a time, until the socket dies.
    const loops = chains.map(async (chain) => {
      for (;;) {
        const latest = chain.pairs.at(-1) as TokenPair;
        chain.inFlight = true;
        try {
          const res = await refreshAt(first.url, client, latest.refresh_token);
          if (res.status === 200) chain.pairs.push(res.body);
          else chain.unexpected.push({ status: res.status, body: res.body });
        } catch (error) {
          chain.ended = error;
          return;
        } finally {
          chain.inFlight = false;
        }
      }
    });

    await Bun.sleep(LOAD_MS);
    const inFlightAtKill = chains.filter((chain) => chain.inFlight).length;
    const exit = await first.kill("SIGKILL");
    await Promise.all(loops);

    // The process really died of SIGKILL (no exit code, no graceful shutdown) mid-load.
    expect(exit).toEqual({ exitCode: null, signalCode: "SIGKILL" });
    expect(first.output()).not.toContain('"level":"error"');
    expect(inFlightAtKill).toBeGreaterThan(0);
    for (const chain of chains) {
      expect(chain.unexpected).toEqual([]);
      expect(chain.ended).toBeInstanceOf(Error);
      // A real load: every chain rotated several times before the kill.
      expect(chain.pairs.length).toBeGreaterThan(3);
    }

    // Restart on the same database (same worker id: the same node coming back).
    const second = await startServerProcess(env);
    processes.push(second);

    const handle = postgresDatabase(database.url, { max: 2 });
    db = handle;
    const sqlDb = handle.db;
    const refreshRow = (token: string) =>
      sqlDb
        .selectFrom("refresh_tokens")
        .select(["family_id", "generation", "used_at"])
        .where("token_hash", "=", hashToken(token))
        .executeTakeFirstOrThrow();

    let lostAnswers = 0;
    for (const chain of chains) {
      const last = chain.pairs.at(-1) as TokenPair;
      // The access token of the last pair received with a 200 still works.
      const info = await userinfoAt(second.url, last.access_token);
      expect(info.status).toBe(200);
      expect(info.body.sub).toBe(registered.user.id);

      const row = await refreshRow(last.refresh_token);
      expect(row.generation).toBe(chain.pairs.length - 1);
      if (row.used_at === null) {
        // Never consumed: the refresh token works on the new process.
        const res = await refreshAt(second.url, client, last.refresh_token);
        expect(res.status).toBe(200);
        expect((await userinfoAt(second.url, res.body.access_token)).status).toBe(200);
      } else {
        // Consumed by the request in flight at the kill, whose answer was lost: that rotation
        // committed whole, so its successor (generation + 1) is there, unused.
        lostAnswers++;
        const successors = await sqlDb
          .selectFrom("refresh_tokens")
          .select(["generation", "used_at"])
          .where("family_id", "=", row.family_id)
          .where("generation", ">", row.generation)
          .execute();
        expect(successors).toEqual([{ generation: row.generation + 1, used_at: null }]);
      }
    }
    expect(lostAnswers).toBeLessThanOrEqual(inFlightAtKill);

    // Nothing half-written is live, in any family.
    const families = await sqlDb.selectFrom("token_families").select(["id", "revoked_at"]).execute();
    expect(families).toHaveLength(CHAINS);
    for (const family of families) expect(family.revoked_at).toBeNull();
    const refreshTokens = await sqlDb
      .selectFrom("refresh_tokens")
      .select(["family_id", "generation", "used_at"])
      .execute();
    const accessCounts = await sqlDb
      .selectFrom("access_tokens")
      .select((eb) => ["family_id", eb.fn.countAll<string>().as("count")])
      .groupBy("family_id")
      .execute();
    for (const family of families) {
      const rows = refreshTokens
        .filter((row) => row.family_id === family.id)
        .sort((x, y) => x.generation - y.generation);
      // Generations 0..n, once each: no duplicate or skipped rotation.
      expect(rows.map((row) => row.generation)).toEqual(rows.map((_, i) => i));
      // Exactly one unused refresh token, the newest; every older one was used.
      expect(rows.filter((row) => row.used_at === null)).toHaveLength(1);
      expect(rows.at(-1)?.used_at).toBeNull();
      for (const row of rows.slice(0, -1)) expect(row.used_at).not.toBeNull();
      // Every rotation wrote its access token and refresh token together.
      const access = accessCounts.find((row) => row.family_id === family.id);
      expect(Number(access?.count)).toBe(rows.length);
    }
    // No refresh was seen as a reuse (which would mean a rotation was applied twice).
    const reuse = await sqlDb
      .selectFrom("audit_events")
      .select("id")
      .where("type", "=", "refresh_token.reuse_detected")
      .execute();
    expect(reuse).toEqual([]);

    // The new process started cleanly and served everything above without an error.
    expect(second.output()).toContain('"msg":"server listening"');
    expect(second.output()).not.toContain('"level":"error"');
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
  }, 45_000);
});
