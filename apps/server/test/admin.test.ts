import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, errors, type JSONWebKeySet, jwtVerify } from "jose";
import { openDatabase } from "../src/db/database.ts";
import { validateSessionToken } from "../src/domain/sessions.ts";
import { computeS256Challenge } from "../src/oauth/pkce.ts";
import { pickFreePort } from "./support/browser.ts";
import { testDatabaseKind } from "./support/database.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestAppOn, TEST_SECRET_KEY, type TestApp } from "./support/harness.ts";
import {
  bearerGet,
  type Client,
  clientPost,
  exchangeCode,
  setupClient,
  VERIFIER,
} from "./support/oauth-flow.ts";
import { createScratchDatabase, type ScratchDatabase } from "./support/server-process.ts";

/**
 * `bun run admin <command>` as an operator runs it: a process of its own on a database of its own
 * (a scratch PostgreSQL database, or a PGlite DATA_DIR), next to the in-process app the test uses to
 * set things up and to see the effect through the HTTP endpoints.
 */
const REPO_ROOT = join(import.meta.dir, "..", "..", "..");
let scratch: ScratchDatabase | null = null;
const dataDir = mkdtempSync(join(tmpdir(), "fluxer-admin-"));
const env: Record<string, string> = { SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: "silent" };

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function admin(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const proc = Bun.spawn(["bun", "run", "admin", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: "", DATA_DIR: "", ...env, ...extraEnv },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  // `bun run` itself adds a line with the script's exit code: only the command's own words are checked.
  const own = stderr
    .replace(/^\$ bun .*\n/m, "")
    .replace(/^error: script "admin" exited with code \d+\n/m, "");
  return { exitCode, stdout, stderr: own };
}

/** Bad input: exit 1, one message on stderr (no stack trace), nothing on stdout. */
async function expectRefused(
  args: string[],
  message: string | RegExp,
  extraEnv: Record<string, string> = {},
) {
  const run = await admin(args, extraEnv);
  expect(run.exitCode).toBe(1);
  expect(run.stdout).toBe("");
  if (typeof message === "string") expect(run.stderr).toBe(`${message}\n`);
  else expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

/** The JSON consent route (records the consent) and the code exchange: a family and an authorization. */
async function consentAndExchange(t: TestApp, sessionToken: string, client: Client, scope = "identify") {
  const consent = await t.request("/v1/oauth2/authorize/consent", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: sessionToken },
    body: JSON.stringify({
      client_id: client.id,
      redirect_uri: client.redirectUris[0],
      response_type: "code",
      scope,
      code_challenge: computeS256Challenge(VERIFIER),
      code_challenge_method: "S256",
    }),
  });
  const code = new URL(((await consent.json()) as { redirect_to: string }).redirect_to).searchParams.get(
    "code",
  );
  const exchanged = await exchangeCode(t, client, code ?? "");
  expect(exchanged.status).toBe(200);
  return exchanged.body as { access_token: string; refresh_token: string; id_token?: string };
}

/** The injected clock moved to a moment (the admin process itself runs on real time). */
function setClock(t: TestApp, moment: Date): void {
  t.clock.advance((moment.getTime() - t.clock.now().getTime()) / 1000);
}

/**
 * The in-process app over the admin commands' database. PGlite allows one process on a DATA_DIR at a
 * time, so there the app is closed before each command runs and opened again afterwards.
 */
async function withApp<T>(run: (t: TestApp) => Promise<T>): Promise<T> {
  const handle = openDatabase({ databaseUrl: scratch?.url ?? null, dataDir });
  try {
    return await run(await createTestAppOn(handle));
  } finally {
    await handle.close();
  }
}

beforeAll(async () => {
  if (testDatabaseKind === "postgres") {
    scratch = await createScratchDatabase();
    env.DATABASE_URL = scratch.url;
  } else {
    env.DATA_DIR = dataDir;
  }
}, 30_000);
afterAll(async () => {
  await scratch?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("bun run admin", () => {
  test("--help lists every command; no command or an unknown one is refused", async () => {
    const help = await admin(["--help"]);
    expect(help.exitCode).toBe(0);
    for (const name of [
      "users:list",
      "users:revoke-grants",
      "apps:create",
      "apps:list",
      "db:migrate",
      "keys:rotate",
      "secrets:reencrypt",
    ])
      expect(help.stdout).toContain(name);
    const none = await admin([]);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toStartWith("no command given");
    const unknown = await admin(["users:delete-everything"]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toStartWith("unknown command: users:delete-everything");
  });

  test("db:migrate creates the schema, then finds nothing to do; extra arguments are refused", async () => {
    for (let i = 0; i < 2; i++) {
      const run = await admin(["db:migrate"]);
      expect(run.stderr).toBe("");
      expect(run.stdout.trim()).toBe(
        `migrated ${testDatabaseKind === "postgres" ? "PostgreSQL" : "PGlite"} database to the latest schema`,
      );
      expect(run.exitCode).toBe(0);
    }
    await expectRefused(["db:migrate", "now"], "db:migrate takes no positional arguments (got now)");
    await expectRefused(["db:migrate", "--force"], /^db:migrate: Unknown option '--force'/);
  }, 60_000);

  test("an unreachable database is one line, for every command", async () => {
    const port = pickFreePort();
    await expectRefused(
      ["users:list"],
      `cannot reach PostgreSQL at 127.0.0.1:${port} (connection refused): start PostgreSQL or fix the host and port in DATABASE_URL`,
      { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/fluxer` },
    );
  });

  test("users:list lists people, oldest first (bots with --bots); bad options are refused", async () => {
    const { alice, bob } = await withApp(async (t) => {
      const alice = await registerUser(t, { username: "alice_admin" });
      const bob = await registerUser(t, { username: "bob_admin" });
      await setupClient(t); // an owner and an application with its bot user
      return { alice, bob };
    });
    const run = await admin(["users:list"]);
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^id\s+username\s+email\s+created$/);
    const aliceLine = lines.findIndex((line) => line.startsWith(alice.user.id));
    const bobLine = lines.findIndex((line) => line.startsWith(bob.user.id));
    expect(aliceLine).toBeGreaterThan(0);
    expect(bobLine).toBeGreaterThan(aliceLine);
    expect(lines[aliceLine]).toContain("alice_admin#");
    expect(lines[aliceLine]).toContain("alice_admin@example.com");
    expect(run.stdout).not.toContain("(bot)");
    expect((await admin(["users:list", "--bots"])).stdout).toContain("(bot)");

    const first = await admin(["users:list", "--limit", "1"]);
    expect(first.stdout.trim().split("\n")).toHaveLength(2);
    const after = await admin(["users:list", "--after", alice.user.id]);
    expect(after.stdout).not.toContain(alice.user.id);
    expect(after.stdout).toContain(bob.user.id);

    await expectRefused(
      ["users:list", "--limit", "many"],
      "users:list: --limit must be a whole number from 1 to 10000 (got many)",
    );
    await expectRefused(
      ["users:list", "--limit", "0"],
      "users:list: --limit must be a whole number from 1 to 10000 (got 0)",
    );
    await expectRefused(
      ["users:list", "--after", "alice"],
      "users:list: --after must be a user id (got alice)",
    );
    await expectRefused(["users:list", "alice"], "users:list takes no positional arguments (got alice)");
    await expectRefused(["users:list", "--all"], /^users:list: Unknown option '--all'/);
  }, 60_000);

  test("apps:create prints a client secret that works, once; apps:list shows the application", async () => {
    const run = await admin([
      "apps:create",
      "--owner",
      "alice_admin",
      "--name",
      "CLI App",
      "--redirect",
      "https://cli.example/callback",
      "--redirect",
      "http://127.0.0.1:9000/cb",
    ]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    const field = (name: string) => new RegExp(`^\\s+${name}\\s+(\\S+)$`, "m").exec(run.stdout)?.[1] ?? "";
    const clientId = field("client_id");
    const clientSecret = field("client_secret");
    expect(clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(field("bot_token")).toStartWith(`${clientId}.`);
    expect(run.stdout).toContain("shown only this once");

    await withApp(async (t) => {
      const client = { id: clientId, clientSecret, redirectUris: ["https://cli.example/callback"] };
      const token = await clientPost(t, client, "/v1/oauth2/token", { grant_type: "client_credentials" });
      expect(token.status).toBe(200);
      const row = await t.deps.db
        .selectFrom("applications")
        .selectAll()
        .where("id", "=", clientId)
        .executeTakeFirst();
      expect(row?.redirect_uris).toEqual(["https://cli.example/callback", "http://127.0.0.1:9000/cb"]);
      expect(JSON.stringify(row)).not.toContain(clientSecret);
    });

    const list = await admin(["apps:list"]);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(
        `^${clientId}\\s+CLI App\\s+alice_admin\\s+https://cli.example/callback http://127.0.0.1:9000/cb$`,
        "m",
      ),
    );
    expect(list.stdout).not.toContain(clientSecret);
    const bobs = await admin(["apps:list", "--owner", "bob_admin"]);
    expect(bobs.stdout.trim()).toBe("no applications");
  }, 60_000);

  test("apps:create and apps:list refuse bad input, naming what is wrong", async () => {
    await expectRefused(["apps:create", "--name", "X"], "apps:create: --owner <user> is required");
    await expectRefused(["apps:create", "--owner", "alice_admin"], "apps:create: --name <name> is required");
    await expectRefused(
      ["apps:create", "--owner", "alice_admin", "--name", "X", "--redirect", "http://evil.example/cb"],
      "apps:create: redirect_uris.0: Redirect URI must be an absolute https URL (http only for loopback), without fragment",
    );
    await expectRefused(
      ["apps:create", "--owner", "alice_admin", "--name", "   "],
      "apps:create: name: Name must be 1–100 characters",
    );
    await expectRefused(
      ["apps:create", "--owner", "nobody_here", "--name", "X"],
      'apps:create: no user "nobody_here" (give an id, username or email)',
    );
    await expectRefused(
      ["apps:create", "--owner"],
      /^apps:create: Option '--owner <value>' argument missing/,
    );
    await expectRefused(["apps:create", "--secret", "x"], /^apps:create: Unknown option '--secret'/);
    await expectRefused(
      ["apps:list", "--owner", "nobody_here"],
      'apps:list: no user "nobody_here" (give an id, username or email)',
    );
    await expectRefused(
      ["apps:list", "--limit=-3"],
      "apps:list: --limit must be a whole number from 1 to 10000 (got -3)",
    );
  }, 60_000);

  test("users:revoke-grants kills the user's tokens and sessions at once; other users keep theirs", async () => {
    const setup = await withApp(async (t) => {
      const carol = await registerUser(t, { username: "carol_admin" });
      const dave = await registerUser(t, { username: "dave_admin" });
      const { client } = await setupClient(t);
      const carolTokens = await consentAndExchange(t, carol.token, client);
      const daveTokens = await consentAndExchange(t, dave.token, client);
      expect((await bearerGet(t, "/v1/oauth2/userinfo", carolTokens.access_token)).status).toBe(200);
      return { carol, dave, client, carolTokens, daveTokens };
    });

    const revoke = async () => {
      const run = await admin(["users:revoke-grants", "carol_admin"]);
      expect(run.stderr).toBe("");
      expect(run.exitCode).toBe(0);
      expect(run.stdout.trim()).toBe(
        `carol_admin (${setup.carol.user.id}): revoked 1 token family, forgot 1 authorization, ended 1 sign-in session`,
      );
    };
    const expectRevoked = async (t: TestApp) => {
      const userinfo = await bearerGet(t, "/v1/oauth2/userinfo", setup.carolTokens.access_token);
      expect(userinfo.status).toBe(401);
      expect(userinfo.body.code).toBe("INVALID_TOKEN");
      const refreshed = await clientPost(t, setup.client, "/v1/oauth2/token", {
        grant_type: "refresh_token",
        refresh_token: setup.carolTokens.refresh_token,
      });
      expect(refreshed.body.error).toBe("invalid_grant");
      expect(await validateSessionToken(t.deps.db, setup.carol.token, t.clock.now())).toBeNull();
      // Someone else's grant and session are untouched.
      expect((await bearerGet(t, "/v1/oauth2/userinfo", setup.daveTokens.access_token)).status).toBe(200);
      expect(await validateSessionToken(t.deps.db, setup.dave.token, t.clock.now())).not.toBeNull();
    };
    if (testDatabaseKind === "postgres") {
      // The app stays open while the command runs in its own process, as a live server would.
      await withApp(async (t) => {
        await revoke();
        await expectRevoked(t);
      });
    } else {
      // PGlite admits one process per DATA_DIR: the command runs while no server holds it.
      await revoke();
      await withApp(expectRevoked);
    }

    const again = await admin(["users:revoke-grants", setup.carol.user.id]);
    expect(again.stdout.trim()).toBe(
      `carol_admin (${setup.carol.user.id}): revoked 0 token families, forgot 0 authorizations, ended 0 sign-in sessions`,
    );
    await expectRefused(["users:revoke-grants"], "users:revoke-grants needs a user (got nothing)");
    await expectRefused(["users:revoke-grants", "a", "b"], "users:revoke-grants needs a user (got a b)");
    await expectRefused(
      ["users:revoke-grants", "nobody_here"],
      'users:revoke-grants: no user "nobody_here" (give an id, username or email)',
    );
  }, 90_000);
  test("keys:rotate: old ID tokens still verify, new ones carry the new kid, the old key leaves the JWKS once its tokens expired", async () => {
    /** What a relying party does: fetch the JWKS now and verify the ID token against it at `now`. */
    const verifyAt = async (t: TestApp, idToken: string) => {
      const jwks = createLocalJWKSet((await (await t.request("/v1/oauth2/keys")).json()) as JSONWebKeySet);
      return jwtVerify(idToken, jwks, { currentDate: t.clock.now(), algorithms: ["RS256"] });
    };
    const kids = async (t: TestApp) =>
      ((await (await t.request("/v1/oauth2/keys")).json()) as JSONWebKeySet).keys.map((key) => key.kid);

    const before = await withApp(async (t) => {
      const erin = await registerUser(t, { username: "erin_admin" });
      const { client } = await setupClient(t);
      const tokens = await consentAndExchange(t, erin.token, client, "openid");
      const idToken = tokens.id_token as string;
      return { erin, client, idToken, kid: decodeProtectedHeader(idToken).kid as string };
    });

    const rotated = await admin(["keys:rotate"]);
    expect(rotated.stderr).toBe("");
    expect(rotated.exitCode).toBe(0);
    const [newLine, oldLine] = rotated.stdout.trim().split("\n");
    const newKid = /^new signing key (\S+): published now, signs from (\S+)$/.exec(newLine ?? "");
    expect(newKid).not.toBeNull();
    expect(oldLine).toStartWith(`old signing key ${before.kid}: signs until then, published until `);
    const activatesAt = new Date(newKid?.[2] as string);
    const publishedUntil = new Date(oldLine?.split("published until ")[1] as string);
    expect((publishedUntil.getTime() - activatesAt.getTime()) / 1000).toBe(3600);

    // A second rotation while the new key waits is refused, not stacked.
    await expectRefused(
      ["keys:rotate"],
      `keys:rotate: key ${newKid?.[1]} is already waiting to take over; rotate again once it signs`,
    );

    await withApp(async (t) => {
      // Published at once; the old key still signs until the new one activates.
      expect(await kids(t)).toEqual([before.kid, newKid?.[1]]);
      const waiting = await consentAndExchange(t, before.erin.token, before.client, "openid");
      expect(decodeProtectedHeader(waiting.id_token as string).kid).toBe(before.kid);

      setClock(t, new Date(activatesAt.getTime() + 1000));
      const after = await consentAndExchange(t, before.erin.token, before.client, "openid");
      expect(decodeProtectedHeader(after.id_token as string).kid).toBe(newKid?.[1]);
      // The token signed before the rotation still verifies against the JWKS.
      expect((await verifyAt(t, before.idToken)).payload.sub).toBe(before.erin.user.id);
      expect((await verifyAt(t, after.id_token as string)).payload.sub).toBe(before.erin.user.id);

      // Once every ID token the old key signed has expired, it leaves the JWKS.
      setClock(t, new Date(publishedUntil.getTime() - 1000));
      expect(await kids(t)).toEqual([before.kid, newKid?.[1]]);
      setClock(t, new Date(publishedUntil.getTime() + 1000));
      expect(await kids(t)).toEqual([newKid?.[1]]);
      // The signature is checked first: its key is gone.
      const stale = await verifyAt(t, before.idToken).catch((error: Error) => error);
      expect(stale).toBeInstanceOf(errors.JWKSNoMatchingKey);
    });
    await expectRefused(["keys:rotate", "now"], "keys:rotate takes no positional arguments (got now)");
  }, 90_000);
});
