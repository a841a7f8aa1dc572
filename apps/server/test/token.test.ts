// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import { hashToken } from "../src/crypto.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";
import {
  basicAuth,
  bearerGet,
  clientPost,
  exchangeCode,
  introspect,
  issueTokens,
  mintCode,
  postForm,
  refresh,
  setupClient,
  VERIFIER,
  withEnv,
} from "./support/oauth-flow.ts";

const t = await createTestApp();
afterAll(() => t.close());

const { client, botUserId } = await setupClient(t);
const alice = await registerUser(t);
const TOKEN = "/v1/oauth2/token";

function expectNoStore(headers: Headers) {
  expect(headers.get("cache-control")).toBe("no-store");
  expect(headers.get("pragma")).toBe("no-cache");
}

async function auditEvents(type: string, familyId?: string) {
  let query = t.deps.db.selectFrom("audit_events").selectAll().where("type", "=", type);
  if (familyId) query = query.where("family_id", "=", familyId);
  return query.execute();
}

async function familyOf(accessToken: string) {
  const row = await t.deps.db
    .selectFrom("access_tokens")
    .innerJoin("token_families", "token_families.id", "access_tokens.family_id")
    .select(["token_families.id", "token_families.revoked_at", "token_families.revoked_reason"])
    .where("access_tokens.token_hash", "=", hashToken(accessToken))
    .executeTakeFirstOrThrow();
  return row;
}

describe("authorization_code grant", () => {
  test("exchanges a code for a Bearer pair with no-store headers", async () => {
    const code = await mintCode(t, client, alice.user.id, { scopes: ["email", "identify"] });
    const res = await exchangeCode(t, client, code);
    expect(res.status).toBe(200);
    expectNoStore(res.headers);
    expect(res.body).toEqual({
      access_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      token_type: "Bearer",
      expires_in: 604800,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      scope: "identify email",
    });
    const me = await bearerGet(t, "/v1/oauth2/userinfo", res.body.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ sub: alice.user.id, id: alice.user.id, email: alice.row.email });
  });

  test("plain PKCE and codes without PKCE work", async () => {
    const plain = await mintCode(t, client, alice.user.id, { pkce: "plain" });
    expect((await exchangeCode(t, client, plain)).status).toBe(200);
    const none = await mintCode(t, client, alice.user.id, { pkce: null });
    const res = await clientPost(t, client, TOKEN, {
      grant_type: "authorization_code",
      code: none,
      redirect_uri: client.redirectUris[0] as string,
    });
    expect(res.status).toBe(200);
  });

  test("a replayed code fails and revokes the family it produced, with an audit event", async () => {
    const code = await mintCode(t, client, alice.user.id);
    const first = await exchangeCode(t, client, code);
    expect(first.status).toBe(200);
    const second = await exchangeCode(t, client, code);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe("invalid_grant");
    expect((await bearerGet(t, "/v1/oauth2/userinfo", first.body.access_token)).status).toBe(401);
    expect((await refresh(t, client, first.body.refresh_token)).body.error).toBe("invalid_grant");
    const family = await familyOf(first.body.access_token);
    expect(family.revoked_reason).toBe("code_replay");
    expect(await auditEvents("authorization_code.replayed", family.id)).toHaveLength(1);
    expect(await auditEvents("token_family.revoked", family.id)).toHaveLength(1);
  });

  test("a replay after cleanup removed the code row still revokes the family", async () => {
    const code = await mintCode(t, client, alice.user.id);
    const first = await exchangeCode(t, client, code);
    expect(first.status).toBe(200);
    await t.deps.db.deleteFrom("authorization_codes").where("code_hash", "=", hashToken(code)).execute();
    const replay = await exchangeCode(t, client, code);
    expect(replay.body.error).toBe("invalid_grant");
    expect((await bearerGet(t, "/v1/oauth2/userinfo", first.body.access_token)).status).toBe(401);
    expect((await familyOf(first.body.access_token)).revoked_reason).toBe("code_replay");
  });

  test.each([
    ["wrong redirect_uri", { redirect_uri: "https://client.example/other" }],
    ["redirect_uri differing by a trailing slash", { redirect_uri: "https://client.example/callback/" }],
    ["wrong verifier", { code_verifier: "A".repeat(43) }],
    ["malformed verifier", { code_verifier: "short" }],
  ])("%s → invalid_grant, and the code stays usable", async (_name, override) => {
    const code = await mintCode(t, client, alice.user.id);
    const bad = await exchangeCode(t, client, code, override as Record<string, string>);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("invalid_grant");
    expectNoStore(bad.headers);
    expect((await exchangeCode(t, client, code)).status).toBe(200);
  });

  test("missing verifier for a PKCE code → invalid_grant", async () => {
    const code = await mintCode(t, client, alice.user.id);
    const res = await clientPost(t, client, TOKEN, {
      grant_type: "authorization_code",
      code,
      redirect_uri: client.redirectUris[0] as string,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_grant");
  });

  test("a verifier for a code issued without a challenge is a PKCE downgrade → invalid_grant", async () => {
    const code = await mintCode(t, client, alice.user.id, { pkce: null });
    const res = await exchangeCode(t, client, code, { code_verifier: VERIFIER });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_grant");
  });

  test("an expired code → invalid_grant (injected clock)", async () => {
    const code = await mintCode(t, client, alice.user.id);
    t.clock.advance(t.deps.config.authorizationCodeTtlSeconds + 1);
    const res = await exchangeCode(t, client, code);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: "invalid_grant" });
  });

  test("unknown and malformed codes → invalid_grant; another client's code → invalid_grant", async () => {
    expect((await exchangeCode(t, client, "x".repeat(43))).body.error).toBe("invalid_grant");
    expect((await exchangeCode(t, client, "not a code at all")).body.error).toBe("invalid_grant");
    // A NUL anywhere in the form makes the request itself malformed (PostgreSQL text cannot hold it).
    expect((await exchangeCode(t, client, "not a code at all \u0000")).body.error).toBe("invalid_request");
    const other = await setupClient(t);
    const code = await mintCode(t, other.client, alice.user.id, { redirectUri: client.redirectUris[0] });
    const res = await exchangeCode(t, client, code);
    expect(res.body.error).toBe("invalid_grant");
    // ... and that attempt neither consumed it nor revoked anything.
    expect((await exchangeCode(t, other.client, code)).status).toBe(200);
  });

  test("missing code or redirect_uri → invalid_request", async () => {
    const res = await clientPost(t, client, TOKEN, { grant_type: "authorization_code", redirect_uri: "x" });
    expect(res.body.error).toBe("invalid_request");
    const res2 = await clientPost(t, client, TOKEN, {
      grant_type: "authorization_code",
      code: "x".repeat(43),
    });
    expect(res2.body.error).toBe("invalid_request");
  });
});

describe("request errors (never a 500)", () => {
  test("a JSON body → 400 invalid_request", async () => {
    const res = await t.request(TOKEN, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: basicAuth(client.id, client.clientSecret),
      },
      body: JSON.stringify({ grant_type: "client_credentials" }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_request" });
    expectNoStore(res.headers);
  });

  test("no content type, multipart, text → invalid_request", async () => {
    for (const contentType of [null, "multipart/form-data; boundary=x", "text/plain"]) {
      const headers: Record<string, string> = { authorization: basicAuth(client.id, client.clientSecret) };
      if (contentType) headers["content-type"] = contentType;
      const res = await t.request(TOKEN, { method: "POST", headers, body: "grant_type=client_credentials" });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe("invalid_request");
    }
  });

  test("a duplicated parameter → invalid_request", async () => {
    const res = await postForm(t, TOKEN, "grant_type=client_credentials&grant_type=client_credentials", {
      authorization: basicAuth(client.id, client.clientSecret),
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_request");
  });

  test("missing grant_type → invalid_request; unknown grant → unsupported_grant_type", async () => {
    expect((await clientPost(t, client, TOKEN, {})).body.error).toBe("invalid_request");
    const res = await clientPost(t, client, TOKEN, { grant_type: "password", username: "a", password: "b" });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("unsupported_grant_type");
    const implicit = await clientPost(t, client, TOKEN, {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
    });
    expect(implicit.body.error).toBe("unsupported_grant_type");
  });

  test("an unknown scope → invalid_scope", async () => {
    const res = await clientPost(t, client, TOKEN, {
      grant_type: "client_credentials",
      scope: "identify admin",
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_scope");
  });

  test("invalid UTF-8, oversized bodies, percent garbage → 4xx", async () => {
    const bad = await t.request(TOKEN, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basicAuth(client.id, client.clientSecret),
      },
      body: new Uint8Array([0x67, 0x3d, 0xff, 0xfe]),
    });
    expect(bad.status).toBe(400);
    const big = await postForm(t, TOKEN, `grant_type=client_credentials&x=${"a".repeat(1024 * 1024 + 10)}`);
    expect(big.status).toBe(413);
    expect(big.body.error).toBe("invalid_request");
    const garbage = await postForm(t, TOKEN, "grant_type=%E0%A4%A&code=%ZZ&%%%=1", {
      authorization: basicAuth(client.id, client.clientSecret),
    });
    expect(garbage.status).toBe(400);
    const junkClient = await postForm(t, TOKEN, {
      grant_type: "client_credentials",
      client_id: "99999999999999999999999",
      client_secret: "x",
    });
    expect(junkClient.status).toBe(401);
  });
});

describe("client authentication", () => {
  test("Basic with +, %, : and space in the secret (RFC 6749 §2.3.1 form-urlencoding)", async () => {
    const secret = "a+b%c:d e/f=g";
    await t.deps.db
      .updateTable("applications")
      .set({ client_secret_hash: hashToken(secret) })
      .where("id", "=", client.id)
      .execute();
    try {
      const ok = await postForm(
        t,
        TOKEN,
        { grant_type: "client_credentials" },
        {
          authorization: basicAuth(client.id, secret),
        },
      );
      expect(ok.status).toBe(200);
      // The same secret base64'd raw (not form-urlencoded) is a different secret: "+" means space.
      const raw = await postForm(
        t,
        TOKEN,
        { grant_type: "client_credentials" },
        {
          authorization: `Basic ${btoa(`${client.id}:${secret}`)}`,
        },
      );
      expect(raw.status).toBe(401);
      const post = await postForm(t, TOKEN, {
        grant_type: "client_credentials",
        client_id: client.id,
        client_secret: secret,
      });
      expect(post.status).toBe(200);
    } finally {
      await t.deps.db
        .updateTable("applications")
        .set({ client_secret_hash: hashToken(client.clientSecret) })
        .where("id", "=", client.id)
        .execute();
    }
  });

  test("client_secret_post works", async () => {
    const res = await postForm(t, TOKEN, {
      grant_type: "client_credentials",
      client_id: client.id,
      client_secret: client.clientSecret,
    });
    expect(res.status).toBe(200);
  });

  test("both methods at once → invalid_request", async () => {
    const res = await postForm(
      t,
      TOKEN,
      { grant_type: "client_credentials", client_id: client.id, client_secret: client.clientSecret },
      { authorization: basicAuth(client.id, client.clientSecret) },
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_request");
  });

  test("wrong secret with Basic → 401 invalid_client with WWW-Authenticate: Basic", async () => {
    const res = await postForm(
      t,
      TOKEN,
      { grant_type: "client_credentials" },
      {
        authorization: basicAuth(client.id, "wrong"),
      },
    );
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("invalid_client");
    expect(res.headers.get("www-authenticate")).toStartWith("Basic ");
    expectNoStore(res.headers);
  });

  test("wrong secret with post, unknown client, no credentials, malformed Basic → 401 invalid_client", async () => {
    const cases: [Record<string, string>, Record<string, string>][] = [
      [{ client_id: client.id, client_secret: "wrong" }, {}],
      [{ client_id: "1234567890", client_secret: client.clientSecret }, {}],
      [{ client_id: client.id }, {}],
      [{}, {}],
      [{}, { authorization: "Basic !!!" }],
      [{}, { authorization: `Basic ${btoa("no-colon")}` }],
      [{}, { authorization: `Basic ${btoa(`${client.id}:%ZZ`)}` }],
      [{}, { authorization: "Bearer something" }],
    ];
    for (const [form, headers] of cases) {
      const res = await postForm(t, TOKEN, { grant_type: "client_credentials", ...form }, headers);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe("invalid_client");
      expect(res.headers.get("www-authenticate")).toStartWith("Basic ");
    }
  });

  test("client authentication is checked before the grant", async () => {
    const res = await postForm(
      t,
      TOKEN,
      { grant_type: "nonsense" },
      { authorization: basicAuth(client.id, "bad") },
    );
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("invalid_client");
  });
});

describe("refresh_token grant", () => {
  test("rotation: A → B; A is consumed, B works", async () => {
    const first = await issueTokens(t, client, alice.user.id);
    const second = await refresh(t, client, first.refresh_token);
    expect(second.status).toBe(200);
    expectNoStore(second.headers);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.scope).toBe("identify email");
    expect((await bearerGet(t, "/v1/users/@me", second.body.access_token)).status).toBe(200);
    // The old access token stays valid until it expires (only reuse revokes the family).
    expect((await bearerGet(t, "/v1/users/@me", first.access_token)).status).toBe(200);
    const third = await refresh(t, client, second.body.refresh_token);
    expect(third.status).toBe(200);
  });

  test("reuse of A after A → B revokes B, every access token and anything issued later; audited", async () => {
    const a = await issueTokens(t, client, alice.user.id);
    const b = (await refresh(t, client, a.refresh_token)).body;
    const c = (await refresh(t, client, b.refresh_token)).body;
    const reuse = await refresh(t, client, a.refresh_token);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe("invalid_grant");
    for (const token of [a.access_token, b.access_token, c.access_token]) {
      expect((await bearerGet(t, "/v1/oauth2/userinfo", token)).status).toBe(401);
      expect((await introspect(t, client, token)).body).toEqual({ active: false });
    }
    expect((await introspect(t, client, c.refresh_token)).body).toEqual({ active: false });
    expect((await refresh(t, client, c.refresh_token)).body.error).toBe("invalid_grant");
    const family = await familyOf(a.access_token);
    expect(family.revoked_reason).toBe("refresh_reuse");
    const events = await auditEvents("refresh_token.reuse_detected", family.id);
    expect(events).toHaveLength(1);
    expect(events[0]?.user_id).toBe(alice.user.id);
    expect(events[0]?.application_id).toBe(client.id);
  });

  test("scope narrows; widening → invalid_scope and nothing is consumed; unknown → invalid_scope", async () => {
    const a = await issueTokens(t, client, alice.user.id, ["identify", "email"]);
    const wide = await refresh(t, client, a.refresh_token, { scope: "identify email guilds" });
    expect(wide.status).toBe(400);
    expect(wide.body.error).toBe("invalid_scope");
    const unknown = await refresh(t, client, a.refresh_token, { scope: "identify root" });
    expect(unknown.body.error).toBe("invalid_scope");
    // A scope parameter naming nothing is not "keep everything" and not an empty grant.
    const empty = await refresh(t, client, a.refresh_token, { scope: "+" });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toBe("invalid_scope");
    const narrow = await refresh(t, client, a.refresh_token, { scope: "identify" });
    expect(narrow.status).toBe(200);
    expect(narrow.body.scope).toBe("identify");
    const me = await bearerGet(t, "/v1/oauth2/userinfo", narrow.body.access_token);
    expect(me.body.email).toBeUndefined();
    expect((await refresh(t, client, narrow.body.refresh_token, { scope: "email" })).body.scope).toBe(
      "email",
    );
  });

  test("another client's refresh token → invalid_grant without consuming or revoking it", async () => {
    const a = await issueTokens(t, client, alice.user.id);
    const other = await setupClient(t);
    const res = await refresh(t, other.client, a.refresh_token);
    expect(res.body.error).toBe("invalid_grant");
    expect((await refresh(t, client, a.refresh_token)).status).toBe(200);
  });

  test("unknown, malformed and missing refresh tokens", async () => {
    expect((await refresh(t, client, "y".repeat(43))).body.error).toBe("invalid_grant");
    expect((await refresh(t, client, "../etc")).body.error).toBe("invalid_grant");
    expect((await clientPost(t, client, TOKEN, { grant_type: "refresh_token" })).body.error).toBe(
      "invalid_request",
    );
  });
});

describe("refresh idle timeout and grace", () => {
  const idle = withEnv(t, { REFRESH_TOKEN_IDLE_SECONDS: "3600" });
  const grace = withEnv(t, { REFRESH_REUSE_GRACE_SECONDS: "30" });

  test("REFRESH_TOKEN_IDLE_SECONDS: an idle refresh token expires", async () => {
    const { client: c } = await setupClient(idle);
    const user = await registerUser(idle);
    const a = await issueTokens(idle, c, user.user.id);
    idle.clock.advance(1800);
    const b = await refresh(idle, c, a.refresh_token);
    expect(b.status).toBe(200);
    idle.clock.advance(3601);
    expect((await introspect(idle, c, b.body.refresh_token)).body).toEqual({ active: false });
    expect((await refresh(idle, c, b.body.refresh_token)).body.error).toBe("invalid_grant");
  });

  test("within the grace window the predecessor returns the same successor pair; after it, reuse", async () => {
    const { client: c } = await setupClient(grace);
    const user = await registerUser(grace);
    const a = await issueTokens(grace, c, user.user.id);
    const b1 = await refresh(grace, c, a.refresh_token);
    grace.clock.advance(10);
    const b2 = await refresh(grace, c, a.refresh_token);
    expect(b2.status).toBe(200);
    expect(b2.body.access_token).toBe(b1.body.access_token);
    expect(b2.body.refresh_token).toBe(b1.body.refresh_token);
    expect(b2.body.expires_in).toBe(604790);
    grace.clock.advance(21);
    const late = await refresh(grace, c, a.refresh_token);
    expect(late.body.error).toBe("invalid_grant");
    expect((await bearerGet(grace, "/v1/users/@me", b1.body.access_token)).status).toBe(401);
  });

  test("within the window, once the successor was used, the predecessor is reuse", async () => {
    const { client: c } = await setupClient(grace);
    const user = await registerUser(grace);
    const a = await issueTokens(grace, c, user.user.id);
    const b = await refresh(grace, c, a.refresh_token);
    const cc = await refresh(grace, c, b.body.refresh_token);
    expect(cc.status).toBe(200);
    expect((await refresh(grace, c, a.refresh_token)).body.error).toBe("invalid_grant");
    expect((await bearerGet(grace, "/v1/users/@me", cc.body.access_token)).status).toBe(401);
  });
});

describe("client_credentials grant", () => {
  test("the subject is the bot user, no refresh token, scope ⊆ identify", async () => {
    const res = await clientPost(t, client, TOKEN, { grant_type: "client_credentials" });
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toBeUndefined();
    expect(res.body).toMatchObject({ token_type: "Bearer", expires_in: 604800, scope: "identify" });
    const me = await bearerGet(t, "/v1/users/@me", res.body.access_token);
    expect(me.body).toMatchObject({ id: botUserId, bot: true });
    const info = await introspect(t, client, res.body.access_token);
    expect(info.body).toMatchObject({ active: true, sub: botUserId, client_id: client.id });
    const current = await bearerGet(t, "/v1/applications/@me", res.body.access_token);
    expect(current.status).toBe(200);
    expect(current.body.id).toBe(client.id);
    for (const scope of ["email", "identify guilds", "bot", "+"]) {
      const bad = await clientPost(t, client, TOKEN, { grant_type: "client_credentials", scope });
      expect(bad.body.error).toBe("invalid_scope");
    }
  });

  test("a user's bearer token is not accepted at applications/@me", async () => {
    const tokens = await issueTokens(t, client, alice.user.id);
    const res = await bearerGet(t, "/v1/applications/@me", tokens.access_token);
    expect(res.status).toBe(403);
  });

  test("an application without a bot user → unauthorized_client", async () => {
    const other = await setupClient(t);
    await t.deps.db
      .updateTable("applications")
      .set({ bot_user_id: null })
      .where("id", "=", other.client.id)
      .execute();
    const res = await clientPost(t, other.client, TOKEN, { grant_type: "client_credentials" });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("unauthorized_client");
  });
});

describe("revocation (RFC 7009)", () => {
  const REVOKE = "/v1/oauth2/token/revoke";

  test.each(["access", "refresh"])("revoking the %s token revokes the whole family", async (kind) => {
    const a = await issueTokens(t, client, alice.user.id);
    const b = (await refresh(t, client, a.refresh_token)).body;
    const token = kind === "access" ? a.access_token : b.refresh_token;
    const res = await clientPost(t, client, REVOKE, { token });
    expect(res.status).toBe(200);
    expect(res.body).toBeNull();
    expectNoStore(res.headers);
    for (const access of [a.access_token, b.access_token])
      expect((await bearerGet(t, "/v1/oauth2/userinfo", access)).status).toBe(401);
    expect((await refresh(t, client, b.refresh_token)).body.error).toBe("invalid_grant");
    expect((await familyOf(a.access_token)).revoked_reason).toBe("client_revocation");
  });

  test("the hint is only a hint", async () => {
    const a = await issueTokens(t, client, alice.user.id);
    const res = await clientPost(t, client, REVOKE, {
      token: a.refresh_token,
      token_type_hint: "access_token",
    });
    expect(res.status).toBe(200);
    expect((await bearerGet(t, "/v1/users/@me", a.access_token)).status).toBe(401);
  });

  test("unknown tokens and other clients' tokens → 200 with nothing revoked", async () => {
    const a = await issueTokens(t, client, alice.user.id);
    const other = await setupClient(t);
    expect((await clientPost(t, other.client, REVOKE, { token: a.access_token })).status).toBe(200);
    expect((await clientPost(t, other.client, REVOKE, { token: a.refresh_token })).status).toBe(200);
    expect((await clientPost(t, client, REVOKE, { token: "z".repeat(43) })).status).toBe(200);
    expect((await clientPost(t, client, REVOKE, { token: "garbage" })).status).toBe(200);
    expect((await bearerGet(t, "/v1/users/@me", a.access_token)).status).toBe(200);
  });

  test("missing token → invalid_request; bad client → 401", async () => {
    expect((await clientPost(t, client, REVOKE, {})).body.error).toBe("invalid_request");
    const res = await postForm(t, REVOKE, { token: "x" }, { authorization: basicAuth(client.id, "nope") });
    expect(res.status).toBe(401);
  });
});

describe("introspection (RFC 7662)", () => {
  const INTROSPECT = "/v1/oauth2/introspect";

  test("a live access token and refresh token of the calling client", async () => {
    const a = await issueTokens(t, client, alice.user.id, ["identify"]);
    const now = Math.floor(t.clock.now().getTime() / 1000);
    const access = await introspect(t, client, a.access_token);
    expectNoStore(access.headers);
    expect(access.body).toEqual({
      active: true,
      scope: "identify",
      client_id: client.id,
      token_type: "Bearer",
      exp: now + 604800,
      iat: now,
      sub: alice.user.id,
      iss: t.deps.config.issuer,
    });
    const rt = await clientPost(t, client, INTROSPECT, {
      token: a.refresh_token,
      token_type_hint: "refresh_token",
    });
    expect(rt.body).toEqual({
      active: true,
      scope: "identify",
      client_id: client.id,
      token_type: "refresh_token",
      iat: now,
      sub: alice.user.id,
      iss: t.deps.config.issuer,
    });
  });

  test("inactive: other client's, used, expired, unknown, malformed → exactly {active:false}", async () => {
    const a = await issueTokens(t, client, alice.user.id);
    const other = await setupClient(t);
    expect((await introspect(t, other.client, a.access_token)).body).toEqual({ active: false });
    expect((await introspect(t, other.client, a.refresh_token)).body).toEqual({ active: false });
    await refresh(t, client, a.refresh_token);
    expect((await introspect(t, client, a.refresh_token)).body).toEqual({ active: false });
    expect((await introspect(t, client, "q".repeat(43))).body).toEqual({ active: false });
    expect((await introspect(t, client, "☃")).body).toEqual({ active: false });
    const b = await issueTokens(t, client, alice.user.id);
    t.clock.advance(604801);
    expect((await introspect(t, client, b.access_token)).body).toEqual({ active: false });
    expect((await bearerGet(t, "/v1/oauth2/userinfo", b.access_token)).status).toBe(401);
    expect((await introspect(t, client, b.refresh_token)).body.active).toBe(true);
  });

  test("missing token → invalid_request", async () => {
    expect((await clientPost(t, client, INTROSPECT, {})).body.error).toBe("invalid_request");
  });
});

describe("bearer resources (RFC 6750)", () => {
  test("missing token → 401 UNAUTHORIZED with a Bearer challenge", async () => {
    const res = await t.request("/v1/oauth2/userinfo");
    expect(res.status).toBe(401);
    expect((await res.json()).code).toBe("UNAUTHORIZED");
    expect(res.headers.get("www-authenticate")).toStartWith("Bearer");
  });

  test("invalid token → 401 INVALID_TOKEN with error=invalid_token", async () => {
    for (const path of ["/v1/oauth2/userinfo", "/v1/users/@me", "/v1/oauth2/@me"]) {
      const res = await bearerGet(t, path, "nope".repeat(11));
      expect(res.status).toBe(401);
      expect(res.body.code).toBe("INVALID_TOKEN");
      expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
    const session = await bearerGet(t, "/v1/users/@me", alice.token);
    expect(session.status).toBe(401);
  });

  test("missing identify → 403 MISSING_OAUTH_SCOPE with required_scope and insufficient_scope", async () => {
    const tokens = await issueTokens(t, client, alice.user.id, ["guilds"]);
    for (const path of ["/v1/oauth2/userinfo", "/v1/users/@me"]) {
      const res = await bearerGet(t, path, tokens.access_token);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: "MISSING_OAUTH_SCOPE", required_scope: "identify" });
      expect(res.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    }
    const me = await bearerGet(t, "/v1/oauth2/@me", tokens.access_token);
    expect(me.status).toBe(200);
    expect(me.body.user).toBeUndefined();
    expect(me.body.scopes).toEqual(["guilds"]);
  });

  test("userinfo and users/@me show email only with the email scope; oauth2/@me shape", async () => {
    const plain = await issueTokens(t, client, alice.user.id, ["identify"]);
    const info = await bearerGet(t, "/v1/oauth2/userinfo", plain.access_token);
    expect(info.body).toEqual({
      sub: alice.user.id,
      id: alice.user.id,
      username: alice.row.username,
      discriminator: alice.row.discriminator,
      global_name: null,
      avatar: null,
      flags: 0,
      bot: false,
      system: false,
    });
    expect(info.headers.get("cache-control")).toBe("no-store");
    const withEmail = await issueTokens(t, client, alice.user.id, ["identify", "email"]);
    const me = await bearerGet(t, "/v1/users/@me", withEmail.access_token);
    expect(me.body).toMatchObject({ id: alice.user.id, email: alice.row.email, verified: false });
    const oauthMe = await bearerGet(t, "/v1/oauth2/@me", withEmail.access_token);
    expect(oauthMe.body).toMatchObject({
      application: { id: client.id, name: "Test App" },
      scopes: ["identify", "email"],
      expires: expect.stringMatching(/Z$/),
      user: { id: alice.user.id, email: alice.row.email },
    });
    expect(oauthMe.body.application.redirect_uris).toBeUndefined();
  });
});
