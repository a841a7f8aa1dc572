// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import { computeS256Challenge } from "../src/oauth/pkce.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";
import { bearerGet, introspect, refresh, VERIFIER } from "./support/oauth-flow.ts";
import { trpcHttp } from "./support/trpc-http.ts";

const t = await createTestApp();
afterAll(() => t.close());

const owner = await registerUser(t);
const alice = await registerUser(t);
const redirectUri = "https://client.example/callback";

async function createApp(name: string) {
  const created = await t
    .caller({
      user: owner.row,
      session: { id: "s", userId: owner.user.id, expiresAt: new Date(8.64e15), authenticatedAt: new Date(0) },
    })
    .applications.create({ name, redirect_uris: [redirectUri] });
  return {
    id: created.id,
    clientSecret: created.client_secret,
    redirectUris: [redirectUri],
    ownerId: owner.user.id,
  };
}

/** Alice approves through the JSON consent route (which records the remembered consent); the code. */
async function consentCode(app: { id: string }, scope: string): Promise<string> {
  const consent = await t.request("/v1/oauth2/authorize/consent", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: alice.token },
    body: JSON.stringify({
      client_id: app.id,
      redirect_uri: redirectUri,
      response_type: "code",
      scope,
      code_challenge: computeS256Challenge(VERIFIER),
      code_challenge_method: "S256",
    }),
  });
  const { redirect_to } = (await consent.json()) as { redirect_to: string };
  return new URL(redirect_to).searchParams.get("code") as string;
}

/** The code exchange with client_secret_post. */
function exchange(app: { id: string; clientSecret: string }, code: string): Promise<Response> {
  return t.request("/v1/oauth2/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      code_verifier: VERIFIER,
      client_id: app.id,
      client_secret: app.clientSecret,
    }),
  });
}

/** The real flow: consent, then the code exchange. */
async function grant(app: { id: string; clientSecret: string }, scope: string) {
  const res = await exchange(app, await consentCode(app, scope));
  expect(res.status).toBe(200);
  return (await res.json()) as { access_token: string; refresh_token: string };
}

describe("authorizations.list / authorizations.revoke", () => {
  test("list shows each authorized application once, with scopes and authorized_at", async () => {
    const first = await createApp("First");
    const second = await createApp("Second");
    await grant(first, "identify");
    t.clock.advance(60);
    await grant(first, "identify email");
    await grant(second, "identify guilds");
    const res = await trpcHttp(t, "authorizations.list", { token: alice.token, query: true });
    expect(res.status).toBe(200);
    const list = res.body.result.data as any[];
    expect(list.map((entry) => entry.application.id).sort()).toEqual([first.id, second.id].sort());
    const entry = list.find((e) => e.application.id === first.id);
    expect(entry.scopes).toEqual(["identify", "email"]);
    expect(entry.authorized_at).toBe(t.clock.now().toISOString());
    expect(entry.application).toMatchObject({ name: "First", owner: { id: owner.user.id } });
    expect(entry.application.redirect_uris).toBeUndefined();
    // Another user sees nothing of alice's.
    expect(
      await t
        .caller({
          user: owner.row,
          session: {
            id: "s",
            userId: owner.user.id,
            expiresAt: new Date(8.64e15),
            authenticatedAt: new Date(0),
          },
        })
        .authorizations.list(),
    ).toEqual([]);
  });

  test("revoke kills every token of that user × application at once and forgets the consent", async () => {
    const app = await createApp("Revoked");
    const other = await createApp("Untouched");
    const a = await grant(app, "identify");
    const b = await grant(app, "identify email");
    const keep = await grant(other, "identify");
    const res = await trpcHttp(t, "authorizations.revoke", {
      token: alice.token,
      input: { application_id: app.id },
    });
    expect(res.status).toBe(200);
    for (const tokens of [a, b]) {
      expect((await bearerGet(t, "/v1/oauth2/userinfo", tokens.access_token)).status).toBe(401);
      const c = app;
      expect((await introspect(t, c, tokens.refresh_token)).body).toEqual({ active: false });
      expect((await refresh(t, c, tokens.refresh_token)).body.error).toBe("invalid_grant");
    }
    expect((await bearerGet(t, "/v1/oauth2/userinfo", keep.access_token)).status).toBe(200);
    const list = (await trpcHttp(t, "authorizations.list", { token: alice.token, query: true })).body.result
      .data;
    expect(list.map((e: any) => e.application.id)).not.toContain(app.id);
    const consent = await t.deps.db
      .selectFrom("authorizations")
      .selectAll()
      .where("user_id", "=", alice.user.id)
      .where("application_id", "=", app.id)
      .execute();
    expect(consent).toEqual([]);
    const events = await t.deps.db
      .selectFrom("audit_events")
      .selectAll()
      .where("type", "=", "authorization.revoked")
      .where("application_id", "=", app.id)
      .execute();
    expect(events).toHaveLength(1);
    const families = await t.deps.db
      .selectFrom("token_families")
      .select("revoked_reason")
      .where("application_id", "=", app.id)
      .execute();
    expect(families.map((f) => f.revoked_reason)).toEqual(["authorization_revoked", "authorization_revoked"]);
  });

  test("revoke validates its input and needs a session", async () => {
    const bad = await trpcHttp(t, "authorizations.revoke", {
      token: alice.token,
      input: { application_id: "1; drop" },
    });
    expect(bad.status).toBe(400);
    const huge = await trpcHttp(t, "authorizations.revoke", {
      token: alice.token,
      input: { application_id: "99999999999999999999" },
    });
    expect(huge.status).toBe(400);
    const anon = await trpcHttp(t, "authorizations.revoke", { input: { application_id: "1" } });
    expect(anon.status).toBe(401);
    // Unknown application: idempotent success.
    const unknown = await trpcHttp(t, "authorizations.revoke", {
      token: alice.token,
      input: { application_id: "1" },
    });
    expect(unknown.status).toBe(200);
  });

  test("deleting the application kills its tokens at once", async () => {
    const app = await createApp("Doomed");
    const tokens = await grant(app, "identify");
    expect((await bearerGet(t, "/v1/users/@me", tokens.access_token)).status).toBe(200);
    const res = await trpcHttp(t, "applications.delete", {
      token: owner.token,
      input: { id: app.id, password: owner.password },
    });
    expect(res.status).toBe(200);
    expect((await bearerGet(t, "/v1/users/@me", tokens.access_token)).status).toBe(401);
    expect((await bearerGet(t, "/v1/oauth2/@me", tokens.access_token)).status).toBe(401);
    const list = (await trpcHttp(t, "authorizations.list", { token: alice.token, query: true })).body.result
      .data;
    expect(list.map((e: any) => e.application.id)).not.toContain(app.id);
  });

  test("resetting the client secret keeps issued tokens valid", async () => {
    const app = await createApp("Reset");
    const tokens = await grant(app, "identify");
    const res = await trpcHttp(t, "applications.resetSecret", {
      token: owner.token,
      input: { id: app.id, password: owner.password },
    });
    expect(res.status).toBe(200);
    expect((await bearerGet(t, "/v1/users/@me", tokens.access_token)).status).toBe(200);
  });

  test("a code issued before authorizations.revoke cannot be exchanged after it", async () => {
    const app = await createApp("Pending");
    const code = await consentCode(app, "identify");
    const revoked = await trpcHttp(t, "authorizations.revoke", {
      token: alice.token,
      input: { application_id: app.id },
    });
    expect(revoked.status).toBe(200);
    const res = await exchange(app, code);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_grant");
  });
});
