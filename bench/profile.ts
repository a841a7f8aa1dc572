/**
 * Summarises a V8/JSC `.cpuprofile` (from `BENCH_PROFILE=<dir> bun run bench`, or `bun --cpu-prof`):
 * where the busy CPU time went, with idle time left out. Prints the top functions by self time, the
 * time per package (node_modules package, the server's own source by folder, or native), and the
 * inclusive time of the server's own functions.
 * Usage: bun bench/profile.ts <file.cpuprofile> [top N]
 */
export {};

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error("usage: bun bench/profile.ts <file.cpuprofile> [top N]");
const topN = Number(process.argv[3] ?? 25);
const profile = (await Bun.file(file).json()) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

const IDLE = new Set(["(idle)", "(program)", "(root)"]);
// Each sample counts once (one interval): a sample taken after the process slept carries the whole
// sleep as its time delta, which would charge idle time to whatever async frame was suspended.
const interval = median(profile.timeDeltas);
const selfTime = new Map<number, number>();
for (const id of profile.samples) selfTime.set(id, (selfTime.get(id) ?? 0) + interval);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 1000;
}

/** Which package a frame belongs to: an npm package, the server's folder, or the runtime. */
function packageOf(url: string): string {
  const match = url.match(/node_modules\/(?:\.bun\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/);
  if (match?.[1]) return match[1];
  const own = url.match(/apps\/server\/src\/(?:([^/]+)\/)?[^/]+$/);
  if (own) return `server:${own[1] ?? "."}`;
  if (url.startsWith("internal:") || url.startsWith("node:") || url.startsWith("bun:")) return "runtime (js)";
  return url === "" ? "native" : url;
}
const label = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url
    .replace(/.*node_modules\/(?:\.bun\/[^/]+\/node_modules\/)?/, "")
    .replace(/.*\/apps\//, "apps/");
  return `${functionName || "(anonymous)"} ${short ? `${short}:${lineNumber + 1}` : "[native]"}`;
};

let busy = 0;
const selfByFunction = new Map<string, number>();
const selfByPackage = new Map<string, number>();
const totalByOwnFunction = new Map<string, number>();
for (const [id, time] of selfTime) {
  const node = byId.get(id);
  if (!node || IDLE.has(node.callFrame.functionName)) continue;
  busy += time;
  const name = label(node);
  selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + time);
  // Native frames are charged to the nearest JavaScript caller's package.
  let owner: ProfileNode | undefined = node;
  while (owner && owner.callFrame.url === "" && parentOf.has(owner.id))
    owner = byId.get(parentOf.get(owner.id) ?? -1);
  const pkg = owner && owner.callFrame.url !== "" ? packageOf(owner.callFrame.url) : "native";
  selfByPackage.set(pkg, (selfByPackage.get(pkg) ?? 0) + time);
  // Inclusive time of the server's own functions, each counted once per sample.
  const seen = new Set<string>();
  for (let at: ProfileNode | undefined = node; at; at = byId.get(parentOf.get(at.id) ?? -1)) {
    if (!at.callFrame.url.includes("/apps/server/src/")) continue;
    const own = label(at);
    if (seen.has(own)) continue;
    seen.add(own);
    totalByOwnFunction.set(own, (totalByOwnFunction.get(own) ?? 0) + time);
  }
}

const pct = (time: number) => `${((time / busy) * 100).toFixed(1).padStart(5)} %`;
const printTop = (title: string, map: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [name, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n))
    console.log(`${pct(time)}  ${(time / 1000).toFixed(0).padStart(7)} ms  ${name}`);
};
console.log(
  `${profile.samples.length} samples, ~${(busy / 1e6).toFixed(2)} s of busy CPU (median interval ${interval} µs)`,
);
printTop("self time by package (native frames charged to their JavaScript caller)", selfByPackage, topN);
printTop("self time by function", selfByFunction, topN);
printTop("inclusive time of the server's own functions", totalByOwnFunction, topN);
