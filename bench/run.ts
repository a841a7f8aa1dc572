/**
 * `bun run bench`: starts the real server on PostgreSQL with rate limits off, prepares data, then runs
 * each scenario as a fixed-duration closed-loop load from a separate process (bench/load.ts) and writes
 * bench/results.json. Environment: BENCH_DATABASE_URL (admin URL, default the local PostgreSQL),
 * BENCH_DURATION (seconds per scenario, default 10), BENCH_CONNECTIONS (default 32),
 * BENCH_SCENARIOS (comma-separated subset).
 */
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { generateToken, hashToken } from "../apps/server/src/crypto.ts";
import { postgresDatabase } from "../apps/server/src/db/database.ts";
import { computeS256Challenge } from "../apps/server/src/oauth/pkce.ts";
import { createClient } from "../packages/client/src/index.ts";
import type { LoadResult, LoadSpec } from "./load.ts";

const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const port = Number(process.env.BENCH_PORT ?? 18181);
const url = `http://127.0.0.1:${port}`;
const redirectUri = "http://127.0.0.1/callback";
const scenarios = (
  process.env.BENCH_SCENARIOS ??
  "client_credentials,refresh,code_exchange,introspection,userinfo,trpc_applications_list"
).split(",");

// A fresh database per run, so figures never depend on leftovers.
const databaseName = "fluxer_bench";
const admin = postgresDatabase(adminUrl, { max: 1 });
await sql.raw(`drop database if exists ${databaseName} with (force)`).execute(admin.db);
await sql.raw(`create database ${databaseName}`).execute(admin.db);
await admin.close();
const benchUrl = new URL(adminUrl);
benchUrl.pathname = `/${databaseName}`;

const root = join(import.meta.dir, "..");
const server = Bun.spawn(["bun", "apps/server/src/index.ts"], {
  cwd: root,
  env: {
    ...process.env,
    PORT: String(port),
    ISSUER: url,
    DATABASE_URL: benchUrl.toString(),
    RATE_LIMITS: "off",
    LOG_LEVEL: "warn",
  },
  stdout: "inherit",
  stderr: "inherit",
});

async function waitReady(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {}
    await Bun.sleep(100);
  }
  throw new Error("server did not become ready");
}

try {
  await waitReady();
  const anonymous = createClient({ url });
  const { token: sessionToken, user } = await anonymous.auth.register.mutate({
    username: "bench",
    email: "bench@example.com",
    password: "bench-password",
  });
  const client = createClient({ url, token: sessionToken });
  const application = await client.applications.create.mutate({
    name: "Bench",
    redirect_uris: [redirectUri],
  });
  const clientId = application.id;
  const clientSecret = application.client_secret;

  // Pre-issued codes, inserted in bulk (the authorize endpoint is not what this measures).
  const db = postgresDatabase(benchUrl.toString(), { max: 2 }).db;
  async function issueCodes(count: number): Promise<{ code: string; verifier: string }[]> {
    const out: { code: string; verifier: string }[] = [];
    const now = new Date();
    for (let offset = 0; offset < count; offset += 1000) {
      const rows = Array.from({ length: Math.min(1000, count - offset) }, () => {
        const code = generateToken();
        const verifier = generateToken();
        out.push({ code, verifier });
        return {
          code_hash: hashToken(code),
          application_id: clientId,
          user_id: user.id,
          redirect_uri: redirectUri,
          scopes: ["identify", "email"],
          code_challenge: computeS256Challenge(verifier),
          code_challenge_method: "S256" as const,
          created_at: now,
          expires_at: new Date(now.getTime() + 3600_000),
          consumed_at: null,
        };
      });
      await db.insertInto("authorization_codes").values(rows).execute();
    }
    return out;
  }

  async function exchange(item: { code: string; verifier: string }) {
    const response = await fetch(`${url}/v1/oauth2/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${btoa(`${clientId}:${clientSecret}`)}`,
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: item.code,
        redirect_uri: redirectUri,
        code_verifier: item.verifier,
      }),
    });
    if (!response.ok) throw new Error(`exchange failed: ${response.status} ${await response.text()}`);
    return (await response.json()) as { access_token: string; refresh_token: string };
  }

  const pairs = [];
  for (const item of await issueCodes(Math.max(connections, 64))) pairs.push(await exchange(item));
  const accessTokens = pairs.map((pair) => pair.access_token);
  const refreshTokens = pairs.map((pair) => pair.refresh_token).slice(0, connections);

  const results: LoadResult[] = [];
  for (const scenario of scenarios) {
    // Enough codes for ~15,000 exchanges/s, so the scenario never runs dry (which would count as errors).
    const codes = scenario === "code_exchange" ? await issueCodes(Math.max(20_000, duration * 15_000)) : [];
    const spec: LoadSpec = {
      url,
      scenario,
      durationSeconds: duration,
      connections,
      clientId,
      clientSecret,
      redirectUri,
      sessionToken,
      accessTokens,
      refreshTokens,
      codes,
    };
    const specFile = join(root, "bench", `.spec-${scenario}.json`);
    await Bun.write(specFile, JSON.stringify(spec));
    const load = Bun.spawn(["bun", join(root, "bench", "load.ts"), specFile], {
      stdout: "pipe",
      stderr: "inherit",
    });
    const output = await new Response(load.stdout).text();
    await load.exited;
    await Bun.file(specFile).delete();
    const result = JSON.parse(output.trim().split("\n").at(-1) ?? "{}") as LoadResult;
    results.push(result);
    console.log(
      `${scenario.padEnd(24)} ${String(result.requestsPerSecond).padStart(7)} req/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  errors ${result.errors}${result.firstError ? ` (${result.firstError})` : ""}`,
    );
  }
  const { rows: versionRows } = await sql<{ server_version: string }>`show server_version`.execute(db);
  await db.destroy();

  const report = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(totalmem() / 2 ** 30),
    },
    database: `PostgreSQL ${versionRows[0]?.server_version ?? "unknown"} (local)`,
    connections,
    durationSeconds: duration,
    results,
  };
  await Bun.write(join(root, "bench", "results.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log("wrote bench/results.json");
} finally {
  server.kill();
  await server.exited;
}
