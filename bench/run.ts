/**
 * `bun run bench`: starts the real server on PostgreSQL (rate limits off, LOG_LEVEL=warn), next to it
 * the floor server (bench/floor.ts: Bun.serve + postgres.js doing only the unavoidable query), and the
 * server again with the limiter on (limits × RATE_LIMIT_MULTIPLIER so nothing is refused), once with
 * counters in PostgreSQL and once in Redis. Each scenario is a closed-loop load from a separate process
 * (bench/load.ts), run in BENCH_SLICES slices that alternate with its floor and its limiter-on runs, so
 * the machine's load varies alike for a figure and for what it is compared with. Reported: the token
 * grants as a ratio to the INSERT floor, introspection and userinfo to the SELECT floor, limiter-on
 * figures to the limiter-off one, and the serving process's CPU per request. Writes
 * bench/results.json (`bun bench/table.ts` prints it as the README's tables).
 * Environment: BENCH_DATABASE_URL (admin URL, default the local PostgreSQL), BENCH_REDIS_URL (default
 * redis://127.0.0.1:6379; "off" skips the Redis run), BENCH_DURATION (seconds per scenario and
 * target, default 10), BENCH_SLICES (default 5), BENCH_CONNECTIONS (default 32), BENCH_PORT (the
 * server's, default 18181; the floor's is the next one, the limiter-on servers' the two after),
 * BENCH_DATABASE_NAME (default fluxer_bench; dropped and recreated), BENCH_SCENARIOS and
 * BENCH_LIMITER_SCENARIOS (subsets, BENCH_LIMITER_SCENARIOS=none skips the limiter runs),
 * BENCH_LIMITER_STORES (default "postgresql,redis"), BENCH_WARMUP (seconds of unmeasured load on every
 * target before a scenario's slices, default 1),
 * BENCH_BACKGROUND_GRANTS (families, each with tokens, in the database before the first request,
 * default 100,000), BENCH_PROFILE=<dir> (the limiter-off server runs under `bun --cpu-prof` and writes its CPU profile
 * there on exit; `bun bench/profile.ts <file>` sums it up).
 */
import { readdirSync, readFileSync } from "node:fs";
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
const sliceCount = Math.max(1, Number(process.env.BENCH_SLICES ?? 5));
const warmUpSeconds = Math.max(0, Number(process.env.BENCH_WARMUP ?? 1));
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
/** Which server BENCH_PROFILE profiles: the limiter-off one, or the one with counters in Redis. */
const profiled = process.env.BENCH_PROFILE_TARGET === "redis" ? "redis" : "off";
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
type Measured = Omit<LoadResult, "latencies"> & {
  serverCpuMicrosPerRequest: number | null;
  databaseCpuMicrosPerRequest: number | null;
};
type Slice = { result: LoadResult; cpuMicros: number | null; databaseCpuMicros: number | null };
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

/** The servers a run measures: the floor, the server with the limiter off, and with it on per store. */
type Target = "floor" | "off" | "postgresql" | "redis";
const LIMITER_STORES = (["postgresql", "redis"] as const).filter(
  (store) =>
    list(process.env.BENCH_LIMITER_STORES, "postgresql,redis").includes(store) &&
    (store !== "redis" || redisUrl !== "off"),
);

async function startServer(
  serverPort: number,
  env: Record<string, string>,
  options: { profile?: boolean } = {},
): Promise<Subprocess> {
  const profile = options.profile && profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const server = Bun.spawn(["bun", ...profile, "apps/server/src/index.ts"], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(serverPort),
      ISSUER: url,
      DATABASE_URL: benchUrl.toString(),
      SECRET_KEY,
      RATE_LIMITS: "off",
      LOG_LEVEL: "warn",
      ...env,
    },
    stdout: serverPort === port ? "inherit" : "ignore",
    stderr: "inherit",
  });
  await waitReady(`http://127.0.0.1:${serverPort}`, "/readyz");
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

/**
 * User + system CPU time of every PostgreSQL process so far, in µs (Linux /proc; null elsewhere or when
 * PostgreSQL is not local). The machine's cores are shared by the server, PostgreSQL and the load, so
 * a request's database work is as much a cost as the server's own.
 */
function databaseCpuMicros(): number | null {
  try {
    let ticks = 0;
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue;
      }
      if (!stat.includes("(postgres)")) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks === 0 ? null : (ticks / CLOCK_TICKS_PER_SECOND) * 1e6;
  } catch {
    return null;
  }
}

async function stop(process: Subprocess | null): Promise<void> {
  if (!process) return;
  process.kill("SIGTERM");
  await process.exited;
}

const processes: Partial<Record<Target, Subprocess>> = {};
const urls: Record<Target, string> = {
  floor: floorUrl,
  off: url,
  postgresql: `http://127.0.0.1:${port + 2}`,
  redis: `http://127.0.0.1:${port + 3}`,
};
try {
  // Every server process shares the database: each needs its own WORKER_ID (snowflake ids).
  processes.off = await startServer(port, { WORKER_ID: "1" }, { profile: profiled === "off" });
  processes.floor = Bun.spawn(
    ["bun", join(root, "bench", "floor.ts"), String(floorPort), benchUrl.toString()],
    {
      cwd: join(root, "bench"),
      stdout: "ignore",
      stderr: "inherit",
    },
  );
  await waitReady(floorUrl, "/");
  if (limiterScenarios.length > 0) {
    const limiterOn = { RATE_LIMITS: "on", RATE_LIMIT_MULTIPLIER: String(LIMIT_MULTIPLIER) };
    processes.postgresql = await startServer(port + 2, { ...limiterOn, WORKER_ID: "2" });
    if (LIMITER_STORES.includes("redis"))
      processes.redis = await startServer(
        port + 3,
        { ...limiterOn, WORKER_ID: "3", REDIS_URL: redisUrl },
        { profile: profiled === "redis" },
      );
  }

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

  // A deployment that has been running: BENCH_BACKGROUND_GRANTS families of the same application, each
  // with an access and a refresh token, and a used refresh token before it. PostgreSQL plans a
  // statement for the table sizes it sees when it first runs it: measured on near-empty tables, a
  // plan that reads a whole table is the cheapest, and stays cached while the table grows.
  const backgroundGrants = Number(process.env.BENCH_BACKGROUND_GRANTS ?? 100_000);
  await sql`
    insert into token_families (id, application_id, user_id, grant_type, scopes, code_hash, created_at)
    select i, ${clientId}, ${user.id}, 'authorization_code', '{identify}', md5('code' || i) || md5(i::text), now()
    from generate_series(1, ${backgroundGrants}::int) as i`.execute(db);
  await sql`
    insert into access_tokens (token_hash, family_id, application_id, user_id, scopes, created_at, expires_at)
    select md5('access' || i) || md5(i::text), i, ${clientId}, ${user.id}, '{identify}', now(), now() + interval '1 hour'
    from generate_series(1, ${backgroundGrants}::int) as i`.execute(db);
  await sql`
    insert into refresh_tokens (token_hash, family_id, generation, scopes, created_at, used_at)
    select md5('refresh' || i || '-' || g) || md5(i::text), i, g, '{identify}', now(), case when g = 0 then now() end
    from generate_series(1, ${backgroundGrants}::int) as i, generate_series(0, 1) as g`.execute(db);
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

  interface SliceInput {
    pairs: { access_token: string; refresh_token: string }[];
    codes: { code: string; verifier: string }[];
  }

  /** What one slice consumes: fresh token pairs, and for code_exchange enough codes for ~10,000/s. */
  async function prepareSlice(scenario: string, seconds: number): Promise<SliceInput> {
    return {
      pairs: await issuePairs(),
      codes:
        scenario === "code_exchange" ? await issueCodes(Math.max(10_000, Math.ceil(seconds * 10_000))) : [],
    };
  }

  /** One slice of load on one target: the result, its latencies and the serving process's CPU. */
  async function runSlice(
    scenario: string,
    target: Target,
    seconds: number,
    input: SliceInput,
  ): Promise<Slice> {
    const { pairs, codes } = input;
    const spec: LoadSpec = {
      url: urls[target],
      scenario,
      durationSeconds: seconds,
      connections,
      clientId,
      clientSecret,
      redirectUri,
      sessionToken,
      accessTokens: pairs.map((pair) => pair.access_token),
      refreshTokens: pairs.map((pair) => pair.refresh_token).slice(0, connections),
      codes,
    };
    const specFile = join(root, "bench", `.spec-${scenario}-${target}.json`);
    await Bun.write(specFile, JSON.stringify(spec));
    const serving = processes[target] ?? null;
    const cpuBefore = cpuMicros(serving);
    const databaseBefore = databaseCpuMicros();
    const load = Bun.spawn(["bun", join(root, "bench", "load.ts"), specFile], {
      stdout: "pipe",
      stderr: "inherit",
    });
    const output = await new Response(load.stdout).text();
    await load.exited;
    const cpuAfter = cpuMicros(serving);
    const databaseAfter = databaseCpuMicros();
    await Bun.file(specFile).delete();
    const result = JSON.parse(output.trim().split("\n").at(-1) ?? "{}") as LoadResult;
    const difference = (before: number | null, after: number | null) =>
      before !== null && after !== null ? after - before : null;
    return {
      result,
      cpuMicros: difference(cpuBefore, cpuAfter),
      databaseCpuMicros: difference(databaseBefore, databaseAfter),
    };
  }

  /** Slices of one scenario on one target, as one figure (latencies pooled, CPU per request). */
  function merge(scenario: string, slices: Slice[]): Measured {
    const requests = slices.reduce((sum, slice) => sum + slice.result.requests, 0);
    const seconds = slices.reduce((sum, slice) => sum + slice.result.durationSeconds, 0);
    const latencies = slices.flatMap((slice) => slice.result.latencies ?? []).sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    const total = (of: (slice: Slice) => number | null) =>
      slices.every((slice) => of(slice) !== null)
        ? slices.reduce((sum, slice) => sum + (of(slice) ?? 0), 0)
        : null;
    const cpu = total((slice) => slice.cpuMicros);
    const databaseCpu = total((slice) => slice.databaseCpuMicros);
    return {
      scenario,
      connections,
      durationSeconds: Math.round(seconds * 100) / 100,
      requests,
      errors: slices.reduce((sum, slice) => sum + slice.result.errors, 0),
      requestsPerSecond: Math.round(requests / seconds),
      p50Ms: Number(at(0.5).toFixed(2)),
      p99Ms: Number(at(0.99).toFixed(2)),
      firstError: slices.find((slice) => slice.result.firstError)?.result.firstError ?? null,
      serverCpuMicrosPerRequest: cpu === null || requests === 0 ? null : Math.round(cpu / requests),
      databaseCpuMicrosPerRequest:
        databaseCpu === null || requests === 0 ? null : Math.round(databaseCpu / requests),
    };
  }

  const ratio = (value: number, of: number | undefined) => (of ? Math.round((value / of) * 100) / 100 : null);
  const line = (label: string, result: Measured, note = "") =>
    console.log(
      `${label.padEnd(34)} ${String(result.requestsPerSecond).padStart(7)} req/s  p50 ${result.p50Ms} ms  p99 ${result.p99Ms} ms  errors ${result.errors}${result.firstError ? ` (${result.firstError})` : ""}  cpu ${result.serverCpuMicrosPerRequest ?? "?"} µs/req, PostgreSQL ${result.databaseCpuMicrosPerRequest ?? "?"} µs/req${note}`,
    );

  // Each scenario runs in slices, alternating with its floor and its limiter-on runs, so a change in
  // the machine's load during the run weighs on a figure and on what it is compared with alike.
  const loadBefore = loadavg()[0] ?? 0;
  const floorSlices: Record<string, Slice[]> = {};
  const results = [];
  const limiterRuns: Record<string, unknown[]> = {};
  for (const scenario of scenarios) {
    const floorName = FLOOR_OF[scenario];
    const targets: Target[] = ["off"];
    if (floorName) targets.unshift("floor");
    if (limiterScenarios.includes(scenario)) targets.push(...LIMITER_STORES);
    const slices = new Map<Target, Slice[]>(targets.map((target) => [target, []]));
    const seconds = duration / sliceCount;
    // Every slice's tokens and codes are written before the first slice runs, and flushed to disk, so
    // no slice pays for the writes of another's setup.
    const inputs: SliceInput[] = [];
    for (let i = 0; i < sliceCount * targets.length; i++)
      inputs.push(await prepareSlice(targets[i % targets.length] === "floor" ? "" : scenario, seconds));
    const warmUpInputs: SliceInput[] = [];
    for (const target of targets)
      warmUpInputs.push(await prepareSlice(target === "floor" ? "" : scenario, warmUpSeconds));
    // Planner statistics as autovacuum keeps them for a running deployment: a statement planned while a
    // table looked empty could otherwise keep a plan for an empty table for the whole slice.
    await sql`analyze`.execute(db);
    await sql`checkpoint`.execute(db).catch(() => {});
    // An unmeasured slice on every target first: a server that has not served this request yet would
    // otherwise spend part of its first measured slice compiling hot paths and opening connections.
    for (const [t, target] of targets.entries())
      if (warmUpSeconds > 0)
        await runSlice(
          target === "floor" ? (floorName ?? "") : scenario,
          target,
          warmUpSeconds,
          warmUpInputs[t] ?? { pairs: [], codes: [] },
        );
    for (let i = 0; i < sliceCount; i++)
      for (const [t, target] of targets.entries()) {
        const input = inputs[i * targets.length + t] ?? { pairs: [], codes: [] };
        const name = target === "floor" ? (floorName ?? "") : scenario;
        slices.get(target)?.push(await runSlice(name, target, seconds, input));
      }
    const off = merge(scenario, slices.get("off") ?? []);
    let note = "";
    let floorFigure: Measured | null = null;
    if (floorName) {
      floorSlices[floorName] = [...(floorSlices[floorName] ?? []), ...(slices.get("floor") ?? [])];
      floorFigure = merge(floorName, slices.get("floor") ?? []);
      line(`${floorName} (next to ${scenario})`, floorFigure);
      note = `  × floor ${ratio(off.requestsPerSecond, floorFigure.requestsPerSecond)}`;
    }
    line(scenario, off, note);
    results.push({
      ...off,
      floor: floorName ?? null,
      floorRequestsPerSecond: floorFigure?.requestsPerSecond ?? null,
      ratioToFloor: floorFigure ? ratio(off.requestsPerSecond, floorFigure.requestsPerSecond) : null,
    });
    for (const store of LIMITER_STORES) {
      const storeSlices = slices.get(store);
      if (!storeSlices) continue;
      const on = merge(scenario, storeSlices);
      const ratioToLimiterOff = ratio(on.requestsPerSecond, off.requestsPerSecond);
      limiterRuns[store] = [...(limiterRuns[store] ?? []), { ...on, ratioToLimiterOff }];
      line(`${scenario} (limiter on, ${store})`, on, `  × limiter off ${ratioToLimiterOff}`);
    }
  }
  const floors = Object.fromEntries(
    Object.entries(floorSlices).map(([name, slices]) => [name, merge(name, slices)]),
  );

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
    slices: sliceCount,
    floors,
    results,
    limiterOn: { rateLimitMultiplier: LIMIT_MULTIPLIER, ...limiterRuns },
  };
  await Bun.write(join(root, "bench", "results.json"), `${JSON.stringify(report, null, 2)}\n`);
  console.log("wrote bench/results.json");
} finally {
  for (const process of Object.values(processes)) await stop(process);
}
