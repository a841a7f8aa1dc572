// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, expect, test } from "bun:test";
import { sql } from "kysely";
import { computeS256Challenge } from "../src/oauth/pkce.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";
import { basicAuth, postForm, VERIFIER, withEnv } from "./support/oauth-flow.ts";
import { trpcHttp } from "./support/trpc-http.ts";

const t = await createTestApp();
afterAll(() => t.close());

test("after a full flow no text column holds a plaintext token, code or secret", async () => {
  const grace = withEnv(t, { REFRESH_REUSE_GRACE_SECONDS: "30" });
  const secrets: string[] = [];
  const owner = await registerUser(grace, { password: "owner-password-123" });
  const alice = await registerUser(grace, { password: "alice-password-123" });
  secrets.push(owner.token, alice.token, owner.password, alice.password);
  const redirectUri = "https://client.example/cb";
  const created = (
    await trpcHttp(grace, "applications.create", {
      token: owner.token,
      input: { name: "Scan", redirect_uris: [redirectUri] },
    })
  ).body.result.data;
  secrets.push(created.client_secret, created.bot_token, created.bot_token.split(".")[1]);

  const consent = await grace.request("/v1/oauth2/authorize/consent", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: alice.token },
    body: JSON.stringify({
      client_id: created.id,
      redirect_uri: redirectUri,
      response_type: "code",
      scope: "identify email",
      code_challenge: computeS256Challenge(VERIFIER),
      code_challenge_method: "S256",
    }),
  });
  const code = new URL(((await consent.json()) as any).redirect_to).searchParams.get("code") as string;
  secrets.push(code, VERIFIER);
  const auth = { authorization: basicAuth(created.id, created.client_secret) };
  const tokens = (
    await postForm(
      grace,
      "/v1/oauth2/token",
      { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: VERIFIER },
      auth,
    )
  ).body;
  // Replay (revokes nothing useful here but writes audit rows) comes after the rotations below.
  const rotated = (
    await postForm(
      grace,
      "/v1/oauth2/token",
      { grant_type: "refresh_token", refresh_token: tokens.refresh_token },
      auth,
    )
  ).body;
  const retried = (
    await postForm(
      grace,
      "/v1/oauth2/token",
      { grant_type: "refresh_token", refresh_token: tokens.refresh_token },
      auth,
    )
  ).body;
  expect(retried.refresh_token).toBe(rotated.refresh_token);
  const cc = (await postForm(grace, "/v1/oauth2/token", { grant_type: "client_credentials" }, auth)).body;
  await postForm(grace, "/v1/oauth2/introspect", { token: rotated.access_token }, auth);
  await postForm(grace, "/v1/oauth2/token/revoke", { token: cc.access_token }, auth);
  grace.clock.advance(60);
  await postForm(
    grace,
    "/v1/oauth2/token",
    { grant_type: "refresh_token", refresh_token: tokens.refresh_token },
    auth,
  );
  await postForm(
    grace,
    "/v1/oauth2/token",
    { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: VERIFIER },
    auth,
  );
  const reset = (
    await trpcHttp(grace, "applications.resetSecret", {
      token: owner.token,
      input: { id: created.id, password: owner.password },
    })
  ).body.result.data;
  secrets.push(
    tokens.access_token,
    tokens.refresh_token,
    rotated.access_token,
    rotated.refresh_token,
    cc.access_token,
    reset.client_secret,
  );
  for (const secret of secrets) expect(secret.length).toBeGreaterThanOrEqual(11);

  // Every text-like column of every table (text, varchar, text[], json, jsonb), cast to text.
  const columns = await sql<{ table_name: string; column_name: string }>`
    select table_name, column_name from information_schema.columns
    where table_schema = current_schema()
      and data_type in ('text', 'character varying', 'ARRAY', 'json', 'jsonb')
    order by table_name, column_name`.execute(t.deps.db);
  expect(columns.rows.length).toBeGreaterThan(20);
  const scanned = new Set<string>();
  let values = 0;
  let sawRedirectUri = false; // proves the scan reads text[] columns for real
  for (const { table_name, column_name } of columns.rows) {
    const rows = await sql<{ v: string | null }>`
      select ${sql.ref(column_name)}::text as v from ${sql.table(table_name)}`.execute(t.deps.db);
    scanned.add(table_name);
    for (const { v } of rows.rows) {
      if (v === null) continue;
      values++;
      if (v.includes(redirectUri)) sawRedirectUri = true;
      for (const secret of secrets) {
        if (v.includes(secret)) throw new Error(`plaintext secret found in ${table_name}.${column_name}`);
      }
    }
  }
  for (const table of [
    "access_tokens",
    "refresh_tokens",
    "authorization_codes",
    "token_families",
    "audit_events",
    "applications",
    "sessions",
  ])
    expect(scanned).toContain(table);
  expect(values).toBeGreaterThan(30);
  expect(sawRedirectUri).toBe(true);
});
