/**
 * `bun run bench`: starts the real server on PostgreSQL (rate limits off, LOG_LEVEL=warn) and, next to
 * it, the floor server (bench/floor.ts: Bun.serve + postgres.js doing only the unavoidable query).
 * Each scenario runs as a fixed-duration closed-loop load from a separate process (bench/load.ts) and
 * is reported as a ratio to its floor measured in the same run: the token grants to the INSERT floor,
 * introspection and userinfo to the SELECT floor. Then the server is restarted with the limiter on
 * (limits × RATE_LIMIT_MULTIPLIER so nothing is refused), once with counters in PostgreSQL and once in
 * Redis, and those runs are reported as ratios to the limiter-off figures. Writes bench/results.json.
 * Environment: BENCH_DATABASE_URL (admin URL, default the local PostgreSQL), BENCH_REDIS_URL (default
 * redis://127.0.0.1:6379; "off" skips the Redis run), BENCH_DURATION (seconds per scenario, default
 * 10), BENCH_CONNECTIONS (default 32), BENCH_PORT (the server's; the floor's is the next one, default
 * 18181), BENCH_DATABASE_NAME (default fluxer_bench; dropped and recreated), BENCH_SCENARIOS and BENCH_LIMITER_SCENARIOS (subsets,
 * BENCH_LIMITER_SCENARIOS=none skips the limiter runs), BENCH_PROFILE=<dir> (the limiter-off server
 * runs under `bun --cpu-prof` and writes its CPU profile there on exit; `bun bench/profile.ts <file>` sums it up).
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { sql } from "kysely";
import { generateToken, hashToken } from "../apps/server/src/crypto.ts";
import { postgresDatabase } from "../apps/server/src/db/database.ts";
import { computeS256Challenge } from "../apps/server/src/oauth/pkce.ts";
import { createClient } from "../packages/client/src/index.ts";
import type { LoadResult, LoadSpec } from "./load.ts";

const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const port = Number(process.env.BENCH_PORT ?? 18181);
const floorPort = port + 1;
const url = `http://127.0.0.1:${port}`;
const floorUrl = `http://127.0.0.1:${floorPort}`;
const redirectUri = "http://127.0.0.1/callback";
const list = (value: string | undefined, fallback: string) => (value ?? fallback).split(",").filter(Boolean);
const scenarios = list(
  process.env.BENCH_SCENARIOS,
  "client_credentials,refresh,code_exchange,introspection,userinfo,trpc_applications_list",
);
const limiterScenarios = list(
  process.env.BENCH_LIMITER_SCENARIOS,
  "client_credentials,refresh,code_exchange,introspection,userinfo",
).filter((name) => name !== "none");
const profileDir = process.env.BENCH_PROFILE ?? null;
/** Which floor each scenario is measured against (tRPC has none: it is not on the token path). */
const FLOOR_OF: Record<string, "floor_insert" | "floor_select"> = {
  client_credentials: "floor_insert",
  refresh: "floor_insert",
  code_exchange: "floor_insert",
  introspection: "floor_select",
  userinfo: "floor_select",
};
/** Limits × this in the limiter-on runs: counted like production, never refused. */
const LIMIT_MULTIPLIER = 100_000;
type Measured = LoadResult & { serverCpuMicrosPerRequest: number | null };
/** Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_SECOND = 100;
const SECRET_KEY = "YmVuY2gtb25seS1zZWNyZXQta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE";

// A fresh database per run, so figures never depend on leftovers.
const databaseName = process.env.BENCH_DATABASE_NAME ?? "fluxer_bench";
const admin = postgresDatabase(adminUrl, { max: 1 });
await sql.raw(`drop database if exists ${databaseName} with (force)`).execute(admin.db);
await sql.raw(`create database ${databaseName}`).execute(admin.db);
await admin.close();
const benchUrl = new URL(adminUrl);
benchUrl.pathname = `/${databaseName}`;
const root = join(import.meta.dir, "..");

async function waitReady(base: string, path: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${base}${path}`)).status < 500) return;
    } catch {}
    await Bun.sleep(100);
  }
  throw new Error(`${base} did not become ready`);
}

async function startServer(env: Record<string, string>, options: { profile?: boolean } = {}) {
  const profile = options.profile && profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const server = Bun.spawn(["bun", ...profile, "apps/server/src/index.ts"], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      ISSUER: url,
      DATABASE_URL: benchUrl.toString(),
      SECRET_KEY,
      RATE_LIMITS: "off",
      LOG_LEVEL: "warn",
      ...env,
    },
    stdout: "inherit",
    stderr: "inherit",
  });
  await waitReady(url, "/readyz");
  return server;
}

/** User + system CPU time of a process so far, in µs (Linux /proc; null elsewhere). */
function cpuMicros(process: Subprocess | null): number | null {
  if (!process) return null;
  try {
    const stat = readFileSync(`/proc/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1e6;
  } catch {
    return null;
  }
}

async function stop(process: Subprocess | null): Promise<void> {
  if (!process) return;
  process.kill("SIGTERM");
  await process.exited;
}

let server: Subprocess | null = null;
let floor: Subprocess | null = null;
try {
  server = await startServer({}, { profile: true });
  floor = Bun.spawn(["bun", join(root, "bench", "floor.ts"), String(floorPort), benchUrl.toString()], {
    cwd: join(root, "bench"),
    stdout: "ignore",
    stderr: "inherit",
  });
  await waitReady(floorUrl, "/");

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

  /** Fresh token pairs: the refresh scenario consumes its chains, so each phase starts new ones. */
  async function issuePairs() {
    const pairs = [];
    for (const item of await issueCodes(Math.max(connections, 64))) pairs.push(await exchange(item));
    return pairs;
  }

  /** Scenario result plus the CPU the process serving it spent per request (µs; server or floor). */
  async function runScenario(
    scenario: string,
  ): Promise<LoadResult & { serverCpuMicrosPerRequest: number | null }> {
    const pairs = await issuePairs();
    // Enough codes for ~15,000 exchanges/s, so the scenario never runs dry (which would count as errors).
    const codes = scenario === "code_exchange" ? await issueCodes(Math.max(20_000, duration * 15_000)) : [];
    const spec: LoadSpec = {
      url: scenario.startsWith("floor_") ? floorUrl : url,
      scenario,
      durationSeconds: duration,
      connections,
      clientId,
      clientSecret,
      redirectUri,
      sessionToken,
      accessTokens: pairs.map((pair) => pair.access_token),
      refreshTokens: pairs.map((pair) => pair.refresh_token).slice(0, connections),
      codes,
    };
    const specFile = join(root, "bench", `.spec-${scenario}.json`);
    await Bun.write(specFile, JSON.stringify(spec));
    const serving = scenario.startsWith("floor_") ? floor : server;
    const cpuBefore = cpuMicros(serving);
    const load = Bun.spawn(["bun", join(root, "bench", "load.ts"), specFile], {
      stdout: "pipe",
      stderr: "inherit",
    });
    const output = await new Response(load.stdout).text();
    await load.exited;
    const cpuAfter = cpuMicros(serving);
    await Bun.file(specFile).delete();
    const result = JSON.parse(output.trim().split("\n").at(-1) ?? "{}") as LoadResult;
    const cpu = cpuBefore !== null && cpuAfter !== null && result.requests > 0 ? cpuAfter - cpuBefore : null;
    return { ...result, serverCpuMicrosPerRequest: cpu === null ? null : Math.round(cpu / result.requests) };
  }

  const ratio = (value: number, of: number | undefined) => (of ? Math.round((value / of) * 100) / 100 : null);
  const line = (label: string, result: Measured, note = "") =>
    console.log(
      `${label.padEnd(34)} ${String(result.requestsPerSecond).padStart(7)} req/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  errors ${result.errors}${result.firstError ? ` (${result.firstError})` : ""}  cpu ${result.serverCpuMicrosPerRequest ?? "?"} µs/req${note}`,
    );

  const loadBefore = loadavg()[0] ?? 0;
  const floors: Record<string, Measured> = {};
  for (const name of ["floor_insert", "floor_select"]) {
    floors[name] = await runScenario(name);
    line(name, floors[name]);
  }

  const results = [];
  for (const scenario of scenarios) {
    const result = await runScenario(scenario);
    const floorName = FLOOR_OF[scenario];
    const floorRps = floorName ? floors[floorName]?.requestsPerSecond : undefined;
    const ratioToFloor = ratio(result.requestsPerSecond, floorRps);
    results.push({ ...result, floor: floorName ?? null, ratioToFloor });
    line(scenario, result, ratioToFloor === null ? "" : `  × floor ${ratioToFloor}`);
  }

  const limiterRuns: Record<string, unknown[]> = {};
  const stores: [string, Record<string, string>][] = [["postgresql", {}]];
  if (redisUrl !== "off") stores.push(["redis", { REDIS_URL: redisUrl }]);
  for (const [store, env] of limiterScenarios.length > 0 ? stores : []) {
    await stop(server);
    server = null;
    server = await startServer({
      RATE_LIMITS: "on",
      RATE_LIMIT_MULTIPLIER: String(LIMIT_MULTIPLIER),
      ...env,
    });
    limiterRuns[store] = [];
    for (const scenario of limiterScenarios) {
      const result = await runScenario(scenario);
      const off = results.find((entry) => entry.scenario === scenario)?.requestsPerSecond;
      const ratioToLimiterOff = ratio(result.requestsPerSecond, off);
      limiterRuns[store]?.push({ ...result, ratioToLimiterOff });
      line(`${scenario} (limiter on, ${store})`, result, `  × limiter off ${ratioToLimiterOff}`);
    }
  }

  const { rows: versionRows } = await sql<{ server_version: string }>`show server_version`.execute(db);
  await db.destroy();

  const report = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      loadAverageBefore: Math.round(loadBefore * 100) / 100,
      loadAverageAfter: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    },
    database: `PostgreSQL ${versionRows[0]?.server_version ?? "unknown"} (local)`,
    connections,
    durationSeconds: duration,
    floors,
    results,
    limiterOn: { rateLimitMultiplier: LIMIT_MULTIPLIER, ...limiterRuns },
  };
  await Bun.write(join(root, "bench", "results.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log("wrote bench/results.json");
} finally {
  await stop(server);
  await stop(floor);
}
