// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { afterAll, describe, expect, test } from "bun:test";
import { computeS256Challenge } from "../src/oauth/pkce.ts";
import { insertTestApplication, registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";
import { bearerGet, clientPost, mintCode, postForm, setupClient, VERIFIER } from "./support/oauth-flow.ts";

/**
 * Public clients (SPEC §5 public_client, §7.2): `token_endpoint_auth_method=none` for the code grant
 * (PKCE S256 required) and refresh, revocation of their own tokens; never client credentials or
 * introspection, and a refusal writes nothing. Native apps' loopback redirects on any port (§7.1).
 */
const t = await createTestApp();
afterAll(() => t.close());

const { owner, client: confidential } = await setupClient(t);
const spaUri = "https://spa.example/callback";
const spa = await insertTestApplication(t, {
  ownerId: owner.user.id,
  redirectUris: [spaUri, "http://127.0.0.1/callback"],
  publicClient: true,
});
const alice = await registerUser(t);

/** The JSON consent route (SPEC §7.1) as a first-party frontend uses it; returns the redirect URL. */
async function authorize(clientId: string, fields: Record<string, string>) {
  const response = await t.request("/v1/oauth2/authorize/consent", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: alice.token },
    body: JSON.stringify({ client_id: clientId, response_type: "code", ...fields }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function spaCode(redirectUri = spaUri): Promise<string> {
  const { body } = await authorize(spa.id, {
    redirect_uri: redirectUri,
    scope: "identify",
    code_challenge: computeS256Challenge(VERIFIER),
    code_challenge_method: "S256",
  });
  const code = new URL(body.redirect_to).searchParams.get("code");
  if (!code) throw new Error(JSON.stringify(body));
  return code;
}

function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}) {
  return postForm(t, "/v1/oauth2/token", form, headers);
}

async function exchangeWithoutSecret(code: string, redirectUri = spaUri) {
  return tokenRequest({
    grant_type: "authorization_code",
    client_id: spa.id,
    code,
    redirect_uri: redirectUri,
    code_verifier: VERIFIER,
  });
}

async function count(table: "token_families" | "access_tokens" | "refresh_tokens"): Promise<number> {
  const row = await t.deps.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every row a token request could write, to show that a refusal wrote nothing. */
async function snapshot() {
  const codes = await t.deps.db
    .selectFrom("authorization_codes")
    .select(["code_hash", "expires_at"])
    .orderBy("code_hash")
    .execute();
  return {
    families: await count("token_families"),
    access: await count("access_tokens"),
    refresh: await count("refresh_tokens"),
    codes: JSON.stringify(codes),
  };
}

describe("public clients: token_endpoint_auth_method=none", () => {
  test("code + PKCE S256 without a secret → tokens; refresh rotates; reuse revokes the family", async () => {
    const exchanged = await exchangeWithoutSecret(await spaCode());
    expect(exchanged.status).toBe(200);
    expect(exchanged.headers.get("cache-control")).toBe("no-store");
    const first = exchanged.body;
    expect(first.refresh_token).toBeString();
    expect((await bearerGet(t, "/v1/oauth2/userinfo", first.access_token)).status).toBe(200);

    const rotated = await tokenRequest({
      grant_type: "refresh_token",
      client_id: spa.id,
      refresh_token: first.refresh_token,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(first.refresh_token);

    const reused = await tokenRequest({
      grant_type: "refresh_token",
      client_id: spa.id,
      refresh_token: first.refresh_token,
    });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe("invalid_grant");
    expect((await bearerGet(t, "/v1/oauth2/userinfo", rotated.body.access_token)).status).toBe(401);
  });

  test("a public client revokes its own tokens without a secret; another client's stay", async () => {
    const own = (await exchangeWithoutSecret(await spaCode())).body;
    const code = await mintCode(t, confidential, alice.user.id);
    const other = (
      await clientPost(t, confidential, "/v1/oauth2/token", {
        grant_type: "authorization_code",
        code,
        redirect_uri: confidential.redirectUris[0] as string,
        code_verifier: VERIFIER,
      })
    ).body;

    const foreign = await postForm(t, "/v1/oauth2/token/revoke", {
      client_id: spa.id,
      token: other.access_token,
    });
    expect(foreign.status).toBe(200);
    expect((await bearerGet(t, "/v1/oauth2/userinfo", other.access_token)).status).toBe(200);

    const revoked = await postForm(t, "/v1/oauth2/token/revoke", {
      client_id: spa.id,
      token: own.refresh_token,
    });
    expect(revoked.status).toBe(200);
    expect((await bearerGet(t, "/v1/oauth2/userinfo", own.access_token)).status).toBe(401);
  });

  test("a confidential client presenting only its id is invalid_client, and the code survives", async () => {
    const code = await mintCode(t, confidential, alice.user.id);
    const before = await snapshot();
    const refused = await tokenRequest({
      grant_type: "authorization_code",
      client_id: confidential.id,
      code,
      redirect_uri: confidential.redirectUris[0] as string,
      code_verifier: VERIFIER,
    });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe("invalid_client");
    expect(await snapshot()).toEqual(before);
    const revoke = await postForm(t, "/v1/oauth2/token/revoke", { client_id: confidential.id, token: "x" });
    expect(revoke.status).toBe(401);
  });

  test("client_credentials: refused without a secret (invalid_client) and with one (unauthorized_client), nothing written", async () => {
    const before = await snapshot();
    const none = await tokenRequest({ grant_type: "client_credentials", client_id: spa.id });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe("invalid_client");
    const withSecret = await clientPost(t, spa, "/v1/oauth2/token", { grant_type: "client_credentials" });
    expect(withSecret.status).toBe(400);
    expect(withSecret.body.error).toBe("unauthorized_client");
    expect(await snapshot()).toEqual(before);
  });

  test("introspection: refused without a secret and with one (invalid_client), nothing written", async () => {
    const { access_token } = (await exchangeWithoutSecret(await spaCode())).body;
    const before = await snapshot();
    const none = await postForm(t, "/v1/oauth2/introspect", { client_id: spa.id, token: access_token });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe("invalid_client");
    const withSecret = await clientPost(t, spa, "/v1/oauth2/introspect", { token: access_token });
    expect(withSecret.status).toBe(401);
    expect(withSecret.body.error).toBe("invalid_client");
    expect(withSecret.body.active).toBeUndefined();
    expect(await snapshot()).toEqual(before);
  });

  test("the authorization endpoint requires S256 of a public client", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { code_challenge: VERIFIER, code_challenge_method: "plain" },
      { code_challenge: VERIFIER },
    ];
    for (const pkce of attempts) {
      const { body } = await authorize(spa.id, { redirect_uri: spaUri, scope: "identify", ...pkce });
      const url = new URL(body.redirect_to);
      expect(url.searchParams.get("error")).toBe("invalid_request");
      expect(url.searchParams.get("code")).toBeNull();
    }
  });

  test("a code issued without S256 (before the client became public) is refused and stays unused", async () => {
    for (const pkce of [null, "plain"] as const) {
      const code = await mintCode(t, spa, alice.user.id, { pkce, redirectUri: spaUri });
      const before = await snapshot();
      const refused = await exchangeWithoutSecret(code);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe("invalid_grant");
      expect(await snapshot()).toEqual(before);
    }
  });
});

describe("native apps: loopback redirect URIs (RFC 8252 §7.3)", () => {
  test("a registered http://127.0.0.1/callback accepts any port; the code is bound to the URI used", async () => {
    const port = 49152 + Math.floor(Math.random() * 16000);
    const redirectUri = `http://127.0.0.1:${port}/callback`;
    const code = await spaCode(redirectUri);
    const elsewhere = await exchangeWithoutSecret(code, "http://127.0.0.1/callback");
    expect(elsewhere.body.error).toBe("invalid_grant");
    const code2 = await spaCode(redirectUri);
    const exchanged = await exchangeWithoutSecret(code2, redirectUri);
    expect(exchanged.status).toBe(200);
  });

  test.each([
    ["another loopback address", "http://127.0.0.2:53123/callback"],
    ["another path", "http://127.0.0.1:53123/other"],
    ["https on loopback", "https://127.0.0.1:53123/callback"],
    ["a host that starts like loopback", "http://127.0.0.1.example:53123/callback"],
    ["userinfo before a foreign host", "http://127.0.0.1:53123@evil.example/callback"],
    ["a port on a non-loopback registration", "https://spa.example:8443/callback"],
  ])("%s is refused with no redirect", async (_name, redirectUri) => {
    const response = await t.request(
      `/v1/oauth2/authorize?${new URLSearchParams({
        client_id: spa.id,
        redirect_uri: redirectUri,
        response_type: "code",
        scope: "identify",
        code_challenge: computeS256Challenge(VERIFIER),
        code_challenge_method: "S256",
      })}`,
      { headers: { accept: "text/html", cookie: "" } },
    );
    expect(response.status).toBe(400);
    expect(response.headers.get("location")).toBeNull();
  });
});

describe("CORS at the token and revocation endpoints", () => {
  const preflight = (path: string, origin: string) =>
    t.request(path, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });

  test("preflights are answered for origins a public client registered, and only those", async () => {
    for (const path of ["/v1/oauth2/token", "/v1/oauth2/token/revoke"]) {
      const ok = await preflight(path, "https://spa.example");
      expect(ok.status).toBe(204);
      expect(ok.headers.get("access-control-allow-origin")).toBe("https://spa.example");
      expect(ok.headers.get("access-control-allow-methods")).toBe("POST");
      expect(ok.headers.get("access-control-allow-credentials")).toBeNull();
      const loopback = await preflight(path, "http://127.0.0.1:61000");
      expect(loopback.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:61000");
      // A confidential client's origin and strangers get no CORS headers.
      for (const origin of ["https://client.example", "https://evil.example", "https://spa.example.evil"]) {
        const refused = await preflight(path, origin);
        expect(refused.headers.get("access-control-allow-origin")).toBeNull();
      }
    }
    const introspect = await preflight("/v1/oauth2/introspect", "https://spa.example");
    expect(introspect.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("a request from the client's own origin gets CORS headers, on success and on error", async () => {
    const origin = { origin: "https://spa.example" };
    const ok = await tokenRequest(
      {
        grant_type: "authorization_code",
        client_id: spa.id,
        code: await spaCode(),
        redirect_uri: spaUri,
        code_verifier: VERIFIER,
      },
      origin,
    );
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://spa.example");
    const bad = await tokenRequest(
      { grant_type: "refresh_token", client_id: spa.id, refresh_token: "x" },
      origin,
    );
    expect(bad.body.error).toBe("invalid_grant");
    expect(bad.headers.get("access-control-allow-origin")).toBe("https://spa.example");
    const revoked = await postForm(
      t,
      "/v1/oauth2/token/revoke",
      { client_id: spa.id, token: ok.body.access_token },
      origin,
    );
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get("access-control-allow-origin")).toBe("https://spa.example");
  });

  test("a request from an origin the calling client did not register is refused before anything is written", async () => {
    const code = await spaCode();
    const before = await snapshot();
    // A form POST needs no preflight: the page of another origin could otherwise spend the code.
    for (const origin of ["https://evil.example", "https://client.example", "null"]) {
      const refused = await tokenRequest(
        {
          grant_type: "authorization_code",
          client_id: spa.id,
          code,
          redirect_uri: spaUri,
          code_verifier: VERIFIER,
        },
        { origin },
      );
      expect(refused.status).toBe(400);
      expect(refused.body.error).toBe("invalid_request");
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    }
    expect(await snapshot()).toEqual(before);
    // The code is still good for the client's own page.
    const ok = await exchangeWithoutSecret(code);
    expect(ok.status).toBe(200);
    const revoke = await postForm(
      t,
      "/v1/oauth2/token/revoke",
      { client_id: spa.id, token: ok.body.access_token },
      { origin: "https://evil.example" },
    );
    expect(revoke.status).toBe(400);
    expect((await bearerGet(t, "/v1/oauth2/userinfo", ok.body.access_token)).status).toBe(200);
  });

  test("requests without Origin (servers, native apps) are unaffected", async () => {
    const code = await mintCode(t, confidential, alice.user.id);
    const ok = await clientPost(t, confidential, "/v1/oauth2/token", {
      grant_type: "authorization_code",
      code,
      redirect_uri: confidential.redirectUris[0] as string,
      code_verifier: VERIFIER,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("public_client on applications (tRPC)", () => {
  test("create and update set it; the owner's view shows it, the public view does not", async () => {
    const caller = t.caller({
      user: owner.row,
      session: { id: "s", userId: owner.user.id, expiresAt: new Date(8.64e15), authenticatedAt: new Date(0) },
    });
    const created = await caller.applications.create({
      name: "SPA",
      public_client: true,
      redirect_uris: [spaUri],
    });
    expect(created.public_client).toBe(true);
    const plain = await caller.applications.create({ name: "Server app" });
    expect(plain.public_client).toBe(false);
    const updated = await caller.applications.update({
      id: plain.id,
      version: plain.version,
      public_client: true,
    });
    expect(updated.public_client).toBe(true);
    expect(updated.version).toBe(plain.version + 1);
    const shown = await t.caller().applications.getPublic({ id: created.id });
    expect("public_client" in shown).toBe(false);
  });
});
