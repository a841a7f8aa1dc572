// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import { createMetrics } from "../src/metrics.ts";
import { startServer } from "../src/server.ts";
import { createTestDatabase } from "./support/database.ts";
import { startTestServer, testConfig } from "./support/harness.ts";
import { VERIFIER } from "./support/oauth-flow.ts";
import { clientForm, consentAt, type OAuthClient, refreshAt } from "./support/server-process.ts";
import { createTestLogger } from "./support/test-log.ts";

/**
 * GET /metrics on METRICS_PORT, scraped over a real socket after real traffic on the OAuth port:
 * each outcome is counted under its labels, and no credential or identifier leaks into a label.
 */
const metrics = createMetrics();
const database = await createTestDatabase({ observer: metrics.database });
const server = await startServer(testConfig({ PORT: "0", METRICS_PORT: "0", RATE_LIMITS: "on" }), {
  database,
  metrics,
  log: createTestLogger(),
});
afterAll(async () => {
  await server.stop();
  await database.close();
});
const base = server.url.replace("://localhost:", "://127.0.0.1:");

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format's sample lines (`name{a="b",...} value`); comments skipped. */
function parseSamples(text: string): Sample[] {
  return text.split("\n").flatMap((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) return [];
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
      labels[key as string] = value as string;
    return [{ name: match[1] as string, labels, value: Number(match[3]) }];
  });
}

/** The value of the one sample of `name` carrying (at least) these labels; 0 when absent. */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value ?? 0;
}

async function trpc(path: string, input: unknown, token?: string): Promise<any> {
  const response = await fetch(`${base}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: token } : {}) },
    body: JSON.stringify(input),
  });
  const body: any = await response.json();
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return body.result.data;
}

async function scrape(): Promise<{ status: number; contentType: string | null; text: string }> {
  if (!server.metricsUrl) throw new Error("METRICS_PORT was set but no metrics endpoint started");
  const response = await fetch(server.metricsUrl.replace("://localhost:", "://127.0.0.1:"));
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    text: await response.text(),
  };
}

describe("GET /metrics", () => {
  test("counts a code flow, a refresh, a reuse, a code replay, a revocation and a 429 under their labels", async () => {
    const password = "password123";
    const { token: session, user } = await trpc("auth.register", {
      username: "metrics_user",
      email: "metrics@example.com",
      password,
    });
    const created = await trpc(
      "applications.create",
      { name: "Metrics App", redirect_uris: ["https://client.example/callback"] },
      session,
    );
    const client: OAuthClient = {
      id: created.id,
      secret: created.client_secret,
      redirectUri: "https://client.example/callback",
    };
    const exchange = (code: string) =>
      clientForm(base, client, "/v1/oauth2/token", {
        grant_type: "authorization_code",
        code,
        redirect_uri: client.redirectUri,
        code_verifier: VERIFIER,
      });
    const codeOf = async () =>
      new URL((await consentAt(base, session, client)).body.redirect_to).searchParams.get("code") ?? "";

    // A code flow; the code presented again is a replay (it revokes the family it produced).
    const code = await codeOf();
    const first = await exchange(code);
    expect(first.status).toBe(200);
    expect((await exchange(code)).body.error).toBe("invalid_grant");

    // A second family: a refresh (rotation), then the used refresh token again (reuse).
    const second = await exchange(await codeOf());
    expect(second.status).toBe(200);
    const rotated = await refreshAt(base, client, second.body.refresh_token);
    expect(rotated.status).toBe(200);
    expect((await refreshAt(base, client, second.body.refresh_token)).body.error).toBe("invalid_grant");

    // A third family, revoked by its client (RFC 7009).
    const third = await exchange(await codeOf());
    const revoke = await clientForm(base, client, "/v1/oauth2/token/revoke", {
      token: third.body.access_token,
    });
    expect(revoke.status).toBe(200);

    // The authorize bucket (60 a minute per IP, consents included) until it refuses.
    let refused = 0;
    for (let i = 0; i < 70 && refused === 0; i++) {
      const response = await fetch(`${base}/v1/oauth2/authorize?client_id=${client.id}`, {
        redirect: "manual",
      });
      await response.arrayBuffer();
      if (response.status === 429) refused += 1;
    }
    expect(refused).toBe(1);
    // A route with ids in its path and a path no route matches.
    await (await fetch(`${base}/icons/${client.id}/${"ab".repeat(16)}`)).arrayBuffer();
    await (
      await fetch(`${base}/no/such/${user.id}`, { headers: { accept: "application/json" } })
    ).arrayBuffer();

    const { status, contentType, text } = await scrape();
    expect(status).toBe(200);
    expect(contentType).toStartWith("text/plain; version=0.0.4");
    const samples = parseSamples(text);

    expect(
      sampleValue(samples, "fluxer_oauth_tokens_issued_total", { grant_type: "authorization_code" }),
    ).toBe(3);
    expect(sampleValue(samples, "fluxer_oauth_tokens_issued_total", { grant_type: "refresh_token" })).toBe(1);
    expect(
      sampleValue(samples, "fluxer_oauth_tokens_issued_total", { grant_type: "client_credentials" }),
    ).toBe(0);
    expect(sampleValue(samples, "fluxer_oauth_refresh_rotations_total")).toBe(1);
    expect(sampleValue(samples, "fluxer_oauth_refresh_reuse_detected_total")).toBe(1);
    expect(sampleValue(samples, "fluxer_oauth_code_replays_total")).toBe(1);
    for (const reason of ["refresh_reuse", "code_replay", "client_revocation"])
      expect(sampleValue(samples, "fluxer_oauth_token_families_revoked_total", { reason })).toBe(1);
    expect(sampleValue(samples, "fluxer_rate_limited_total", { bucket: "oauth:authorize" })).toBe(1);

    const requests = (method: string, route: string, status: string) =>
      sampleValue(samples, "fluxer_http_request_duration_seconds_count", { method, route, status });
    expect(requests("POST", "/v1/oauth2/token", "200")).toBe(4);
    expect(requests("POST", "/v1/oauth2/token", "400")).toBe(2);
    expect(requests("POST", "/v1/oauth2/token/revoke", "200")).toBe(1);
    expect(requests("POST", "/v1/oauth2/authorize/consent", "200")).toBe(3);
    expect(requests("GET", "/v1/oauth2/authorize", "429")).toBe(1);
    expect(requests("POST", "/trpc/*", "200")).toBe(2);
    expect(requests("GET", "/icons/:applicationId/:iconHash", "404")).toBe(1);
    expect(requests("GET", "unmatched", "404")).toBe(1);
    const routes = new Set(
      samples
        .filter((s) => s.name === "fluxer_http_request_duration_seconds_count")
        .map((s) => s.labels.route),
    );
    expect([...routes].every((route) => route === "unmatched" || route?.startsWith("/"))).toBe(true);

    // Database statements by kind, and the pool they ran on.
    expect(
      sampleValue(samples, "fluxer_db_query_duration_seconds_count", { statement: "select", outcome: "ok" }),
    ).toBeGreaterThan(0);
    expect(
      sampleValue(samples, "fluxer_db_query_duration_seconds_count", { statement: "with", outcome: "ok" }),
    ).toBeGreaterThan(0);
    expect(sampleValue(samples, "fluxer_db_connections_max")).toBeGreaterThanOrEqual(1);
    // Idle after the traffic: every connection taken was given back.
    expect(sampleValue(samples, "fluxer_db_connections_in_use")).toBe(0);
    // Process metrics (prom-client's defaults).
    expect(sampleValue(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(sampleValue(samples, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);

    // No credential and no identifier anywhere in the output.
    const secrets = {
      session,
      client_id: client.id,
      client_secret: client.secret,
      user_id: user.id,
      username: "metrics_user",
      bot_token: created.bot_token,
      code,
      access_token: first.body.access_token,
      refresh_token: second.body.refresh_token,
      rotated_refresh_token: rotated.body.refresh_token,
      rotated_access_token: rotated.body.access_token,
    };
    for (const [name, value] of Object.entries(secrets)) {
      expect(typeof value === "string" && value.length > 8, name).toBe(true);
      expect(text.includes(value), name).toBe(false);
    }
  });

  test("only /metrics is served on the metrics port, and the OAuth port has no /metrics", async () => {
    const url = new URL(server.metricsUrl ?? "");
    url.hostname = "127.0.0.1";
    url.pathname = "/healthz";
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { headers: { accept: "application/json" } })).status).toBe(404);
  });
});

describe("without METRICS_PORT", () => {
  test("there is no metrics endpoint at all", async () => {
    const plain = await startTestServer();
    try {
      expect(plain.metricsUrl).toBeNull();
      expect((await fetch(`http://127.0.0.1:${plain.port}/metrics`)).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});
