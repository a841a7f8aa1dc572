/**
 * Load generator, run as its own process so it does not share the server's event loop.
 * Input: a JSON file describing one scenario. Output: one JSON line with the measurements.
 * Each of `connections` workers sends requests back to back for `durationSeconds` (closed loop), after
 * one untimed request each that opens its connection.
 */
export interface LoadSpec {
  url: string;
  scenario: string;
  durationSeconds: number;
  connections: number;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  sessionToken: string;
  accessTokens: string[];
  refreshTokens: string[];
  codes: { code: string; verifier: string }[];
}

export interface LoadResult {
  scenario: string;
  connections: number;
  durationSeconds: number;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  firstError: string | null;
  /** Every request's latency (ms), so slices of one scenario can be pooled. */
  latencies?: number[];
}

const spec = (await Bun.file(process.argv[2] ?? "").json()) as LoadSpec;
const basic = `Basic ${btoa(`${encodeURIComponent(spec.clientId)}:${encodeURIComponent(spec.clientSecret)}`)}`;
const form = { "content-type": "application/x-www-form-urlencoded", authorization: basic };

type Step = (worker: number) => Promise<Response>;
const refreshChains = [...spec.refreshTokens];
let nextCode = 0;
let nextToken = 0;

const steps: Record<string, Step> = {
  floor_insert: () => fetch(`${spec.url}/insert`, { method: "POST" }),
  floor_select: () =>
    fetch(`${spec.url}/select`, {
      headers: { authorization: `Bearer ${spec.accessTokens[nextToken++ % spec.accessTokens.length]}` },
    }),
  client_credentials: () =>
    fetch(`${spec.url}/v1/oauth2/token`, {
      method: "POST",
      headers: form,
      body: "grant_type=client_credentials&scope=identify",
    }),
  refresh: async (worker) => {
    const response = await fetch(`${spec.url}/v1/oauth2/token`, {
      method: "POST",
      headers: form,
      body: `grant_type=refresh_token&refresh_token=${refreshChains[worker]}`,
    });
    if (response.ok) {
      const body = (await response.clone().json()) as { refresh_token: string };
      refreshChains[worker] = body.refresh_token;
    }
    return response;
  },
  code_exchange: () => {
    const item = spec.codes[nextCode++];
    if (!item) throw new Error("ran out of pre-issued codes");
    return fetch(`${spec.url}/v1/oauth2/token`, {
      method: "POST",
      headers: form,
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: item.code,
        redirect_uri: spec.redirectUri,
        code_verifier: item.verifier,
      }).toString(),
    });
  },
  introspection: () =>
    fetch(`${spec.url}/v1/oauth2/introspect`, {
      method: "POST",
      headers: form,
      body: `token=${spec.accessTokens[nextToken++ % spec.accessTokens.length]}`,
    }),
  userinfo: () =>
    fetch(`${spec.url}/v1/oauth2/userinfo`, {
      headers: { authorization: `Bearer ${spec.accessTokens[nextToken++ % spec.accessTokens.length]}` },
    }),
  trpc_applications_list: () =>
    fetch(`${spec.url}/trpc/applications.list`, { headers: { authorization: spec.sessionToken } }),
};

const step = steps[spec.scenario];
if (!step) throw new Error(`unknown scenario ${spec.scenario}`);

const latencies: number[] = [];
let errors = 0;
let firstError: string | null = null;

/** One request per connection before the clock starts, so each connection is open (and counted if it fails). */
async function open(index: number): Promise<void> {
  try {
    const response = await (step as Step)(index);
    await response.text();
    if (!response.ok) {
      errors++;
      firstError ??= `${response.status} (opening request)`;
    }
  } catch (error) {
    errors++;
    firstError ??= String(error);
  }
}

// A slice lasts a second or two: 32 connections opened inside it would put their handshakes (a long
// run pays them once) into its p99. So every connection is opened first, and only then timed.
await Promise.all(Array.from({ length: spec.connections }, (_, i) => open(i)));
const deadline = performance.now() + spec.durationSeconds * 1000;

async function worker(index: number): Promise<void> {
  while (performance.now() < deadline) {
    const started = performance.now();
    try {
      const response = await (step as Step)(index);
      const text = await response.text();
      if (!response.ok) {
        errors++;
        firstError ??= `${response.status} ${text.slice(0, 200)}`;
      }
    } catch (error) {
      errors++;
      firstError ??= String(error);
      if (String(error).includes("ran out")) return;
    }
    latencies.push(performance.now() - started);
  }
}

const started = performance.now();
await Promise.all(Array.from({ length: spec.connections }, (_, i) => worker(i)));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
const result: LoadResult = {
  scenario: spec.scenario,
  connections: spec.connections,
  durationSeconds: Number(elapsed.toFixed(2)),
  requests: latencies.length,
  errors,
  requestsPerSecond: Math.round(latencies.length / elapsed),
  p50Ms: Number(at(0.5).toFixed(2)),
  p99Ms: Number(at(0.99).toFixed(2)),
  firstError,
  latencies: latencies.map((latency) => Math.round(latency * 100) / 100),
};
console.log(JSON.stringify(result));
