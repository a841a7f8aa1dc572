/**
 * Prints the README's benchmark tables (Markdown) from bench/results.json, so the README shows exactly
 * the figures of one `bun run bench` run. Usage: bun bench/table.ts [results.json]
 */
import { join } from "node:path";

interface Figure {
  scenario: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  serverCpuMicrosPerRequest: number | null;
  databaseCpuMicrosPerRequest?: number | null;
  floor?: string | null;
  ratioToFloor?: number | null;
  floorRequestsPerSecond?: number | null;
  ratioToLimiterOff?: number | null;
}
interface Results {
  date: string;
  machine: {
    cpus: number;
    model: string;
    memoryGiB: number;
    loadAverageBefore: number;
    loadAverageAfter: number;
  };
  database: string;
  connections: number;
  durationSeconds: number;
  floors: Record<string, Figure>;
  results: Figure[];
  limiterOn: { rateLimitMultiplier: number; postgresql?: Figure[]; redis?: Figure[] };
}

/** Acceptance targets of issue 10: each scenario's ratio to its floor. */
const TARGET: Record<string, number> = {
  client_credentials: 0.6,
  refresh: 0.4,
  code_exchange: 0.4,
  introspection: 0.6,
  userinfo: 0.6,
};
const LIMITER_TARGET = 0.8;
const P99_LIMIT_MS = 25;

const file = process.argv[2] ?? join(import.meta.dir, "results.json");
const run = (await Bun.file(file).json()) as Results;

const n = (value: number) => value.toLocaleString("en-US");
const ms = (value: number) => `${value.toFixed(2)} ms`;
const cpu = (figure: Figure) =>
  figure.serverCpuMicrosPerRequest === null ? "–" : `${figure.serverCpuMicrosPerRequest} µs`;
const databaseCpu = (figure: Figure) =>
  figure.databaseCpuMicrosPerRequest == null ? "–" : `${figure.databaseCpuMicrosPerRequest} µs`;
const mark = (ok: boolean) => (ok ? "✔" : "✘");

console.log(
  `${run.date.slice(0, 10)}, ${run.machine.cpus} vCPUs (${run.machine.model}), ${run.machine.memoryGiB} GiB, ${run.database}; ` +
    `${run.connections} connections, ${run.durationSeconds} s per scenario; 1-minute load average ${run.machine.loadAverageBefore} before, ${run.machine.loadAverageAfter} after.\n`,
);
console.log(
  "| scenario | req/s | p50 | p99 | errors | server CPU / request | PostgreSQL CPU / request | floor next to it | × floor | target |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
for (const [name, figure] of Object.entries(run.floors))
  console.log(
    `| ${name} (all its slices) | ${n(figure.requestsPerSecond)} | ${ms(figure.p50Ms)} | ${ms(figure.p99Ms)} | ${figure.errors} | ${cpu(figure)} | ${databaseCpu(figure)} | — | 1 | — |`,
  );
for (const figure of run.results) {
  const target = TARGET[figure.scenario];
  const ratio = figure.ratioToFloor ?? null;
  const verdict =
    target === undefined || ratio === null
      ? "—"
      : `≥ ${target} ${mark(ratio >= target)}, p99 ${mark(figure.p99Ms < P99_LIMIT_MS)}`;
  console.log(
    `| ${figure.scenario} | ${n(figure.requestsPerSecond)} | ${ms(figure.p50Ms)} | ${ms(figure.p99Ms)} | ${figure.errors} | ${cpu(figure)} | ${databaseCpu(figure)} | ${figure.floorRequestsPerSecond ? `${n(figure.floorRequestsPerSecond)} (${figure.floor})` : "—"} | ${ratio ?? "—"} | ${verdict} |`,
  );
}

const stores = (["postgresql", "redis"] as const).filter((store) => run.limiterOn[store]);
if (stores.length > 0) {
  console.log(
    `\nLimiter on (limits × ${n(run.limiterOn.rateLimitMultiplier)}), as a ratio to the limiter-off figure:\n`,
  );
  console.log(
    `| scenario | ${stores.map((store) => `counters in ${store === "redis" ? "Redis" : "PostgreSQL"}`).join(" | ")} |`,
  );
  console.log(`| --- | ${stores.map(() => "---:").join(" | ")} |`);
  const names = run.limiterOn[stores[0] ?? "redis"]?.map((figure) => figure.scenario) ?? [];
  for (const name of names) {
    const cells = stores.map((store) => {
      const figure = run.limiterOn[store]?.find((entry) => entry.scenario === name);
      if (!figure) return "—";
      const ratio = figure.ratioToLimiterOff ?? 0;
      const verdict = store === "redis" ? ` ${mark(ratio >= LIMITER_TARGET)}` : "";
      return `${n(figure.requestsPerSecond)} req/s, p99 ${ms(figure.p99Ms)}, × ${ratio}${verdict}`;
    });
    console.log(`| ${name} | ${cells.join(" | ")} |`);
  }
}
