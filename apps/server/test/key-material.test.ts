import { afterAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeBase64, decodeHex } from "@oslojs/encoding";
import { sql } from "kysely";
import { hashToken } from "../src/crypto.ts";
import type { Db } from "../src/db/database.ts";
import { generateInteractionKeyPair, signInteraction } from "../src/domain/interaction-signing.ts";
import { currentSigningKey } from "../src/domain/signing-keys.ts";
import { isEncrypted, SecretKeyError } from "../src/secret-key.ts";
import { startServer } from "../src/server.ts";
import { createTestDatabase } from "./support/database.ts";
import { createTestApp, testConfig } from "./support/harness.ts";
import { issueTokens, refresh, setupClient, withEnv } from "./support/oauth-flow.ts";
import { createTestLogger } from "./support/test-log.ts";

const t = await createTestApp();
afterAll(() => t.close());

const OTHER_KEY = "b3RoZXItdGVzdC1rZXktdGhhdC1pcy0zMi1ieXRlcy1sb25nIQ";

/** Every scalar (and array element) of every row of every table, as text: a full dump. */
async function dumpEveryValue(db: Db): Promise<string[]> {
  const { rows: tables } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db);
  expect(tables.map((table) => table.name)).toContain("server_secrets");
  const values: string[] = [];
  for (const { name } of tables) {
    const { rows } = await sql<{ row: Record<string, unknown> }>`select to_jsonb(t) as row from ${sql.table(
      name,
    )} t`.execute(db);
    const collect = (value: unknown): void => {
      if (value === null || value === undefined) return;
      if (Array.isArray(value)) value.forEach(collect);
      else if (typeof value === "object") Object.values(value).forEach(collect);
      else values.push(String(value));
    };
    for (const { row } of rows) collect(row);
  }
  return values;
}

/** What the earlier design let anyone compute: the successor of `used` under a key read from the database. */
function oldDerivation(key: string | Uint8Array, used: string) {
  return createHmac("sha256", key).update(`refresh\0${used}`).digest("base64url");
}

describe("a copy of the database yields no live token", () => {
  for (const grace of ["0", "30"]) {
    test(`REFRESH_REUSE_GRACE_SECONDS=${grace}: full dump + a used refresh token → no live token of the chain`, async () => {
      const g = withEnv(t, { REFRESH_REUSE_GRACE_SECONDS: grace });
      const { owner, client } = await setupClient(g);
      const first = await issueTokens(g, client, owner.user.id);
      const second = await refresh(g, client, first.refresh_token);
      expect(second.status).toBe(200);
      const live: string = second.body.refresh_token;

      const dump = await dumpEveryValue(t.deps.db);
      expect(dump.length).toBeGreaterThan(20);
      const liveHashes = new Set(
        (
          await t.deps.db
            .selectFrom("refresh_tokens")
            .select("token_hash")
            .where("used_at", "is", null)
            .execute()
        ).map((row) => row.token_hash),
      );
      expect(liveHashes.has(hashToken(live))).toBe(true);
      for (const candidate of new Set(dump)) {
        const derived = oldDerivation(candidate, first.refresh_token);
        expect(derived).not.toBe(live);
        expect(liveHashes.has(hashToken(derived))).toBe(false);
      }
      // The legacy plaintext key row is gone; the derivation itself is real: with the key derived from
      // SECRET_KEY (held only by the server) it gives the live token exactly when successors are derived.
      expect(dump).not.toContain("refresh_successor_hmac");
      expect(oldDerivation(t.deps.keys.successorKey, first.refresh_token) === live).toBe(grace !== "0");
    });
  }

  test("Ed25519 private keys are stored as ciphertext, and still sign", async () => {
    const { client } = await setupClient(t);
    const row = await t.deps.db
      .selectFrom("applications")
      .select(["signing_key", "verify_key"])
      .where("id", "=", client.id)
      .executeTakeFirstOrThrow();
    expect(isEncrypted(row.signing_key)).toBe(true);
    // A PKCS#8 Ed25519 key in base64 starts with this; the stored value neither is nor contains one.
    expect(row.signing_key).not.toContain("MC4CAQAwBQYDK2Vw");
    for (const part of row.signing_key.split(".")) {
      let bytes: Uint8Array | null = null;
      try {
        bytes = decodeBase64(part);
      } catch {}
      if (bytes)
        await expect(
          crypto.subtle.importKey("pkcs8", new Uint8Array(bytes), { name: "Ed25519" }, false, ["sign"]),
        ).rejects.toThrow();
    }
    const payload = new TextEncoder().encode("interaction");
    const signature = await signInteraction(t.deps.db, t.deps.keys, client.id, payload);
    const publicKey = await crypto.subtle.importKey(
      "raw",
      new Uint8Array(decodeHex(row.verify_key)),
      { name: "Ed25519" },
      false,
      ["verify"],
    );
    expect(
      await crypto.subtle.verify("Ed25519", publicKey, new Uint8Array(decodeHex(signature)), payload),
    ).toBe(true);
  });
});

describe("start-up", () => {
  test("plaintext rows of earlier versions are encrypted at start; the legacy HMAC key row is removed", async () => {
    const database = await createTestDatabase();
    try {
      const server = await startServer(testConfig({ PORT: "0" }), { database, log: createTestLogger() });
      await server.stop();
      const app = withEnv({ ...t, deps: { ...t.deps, db: database.db } }, {});
      const { client } = await setupClient(app);
      // Put the row back the way an earlier version stored it, plus its plaintext HMAC key.
      const plain = await generateInteractionKeyPair();
      await database.db
        .updateTable("applications")
        .set({ signing_key: plain.signingKey, verify_key: plain.verifyKey })
        .where("id", "=", client.id)
        .execute();
      await database.db
        .insertInto("server_secrets")
        .values({ name: "refresh_successor_hmac", value: "k".repeat(43) })
        .execute();

      const restarted = await startServer(testConfig({ PORT: "0" }), { database, log: createTestLogger() });
      try {
        const row = await database.db
          .selectFrom("applications")
          .select("signing_key")
          .where("id", "=", client.id)
          .executeTakeFirstOrThrow();
        expect(isEncrypted(row.signing_key)).toBe(true);
        expect(row.signing_key).not.toContain(plain.signingKey);
        const legacy = await database.db
          .selectFrom("server_secrets")
          .select("name")
          .where("name", "=", "refresh_successor_hmac")
          .execute();
        expect(legacy).toEqual([]);
        // The re-encrypted key is the same key: it signs what the stored verify_key verifies.
        const payload = new TextEncoder().encode("x");
        const signature = await signInteraction(database.db, restarted.deps.keys, client.id, payload);
        const publicKey = await crypto.subtle.importKey(
          "raw",
          new Uint8Array(decodeHex(plain.verifyKey)),
          { name: "Ed25519" },
          false,
          ["verify"],
        );
        expect(
          await crypto.subtle.verify("Ed25519", publicKey, new Uint8Array(decodeHex(signature)), payload),
        ).toBe(true);
      } finally {
        await restarted.stop();
      }
    } finally {
      await database.close();
    }
  });

  test("a wrong SECRET_KEY is refused with a clear error; listed as previous it works", async () => {
    const database = await createTestDatabase();
    try {
      const first = await startServer(testConfig({ PORT: "0" }), { database, log: createTestLogger() });
      const firstKey = testConfig().secretKey ?? "";
      await first.stop();
      const wrong = startServer(testConfig({ PORT: "0", SECRET_KEY: OTHER_KEY }), {
        database,
        log: createTestLogger(),
      });
      await expect(wrong).rejects.toBeInstanceOf(SecretKeyError);
      await expect(wrong).rejects.toThrow(/SECRET_KEY does not match this database/);
      const rotating = await startServer(
        testConfig({ PORT: "0", SECRET_KEY: OTHER_KEY, SECRET_KEY_PREVIOUS: firstKey }),
        { database, log: createTestLogger() },
      );
      await rotating.stop();
    } finally {
      await database.close();
    }
  });
});

test("without SECRET_KEY the server refuses to start on PostgreSQL: exit 1 naming the variable", () => {
  const result = Bun.spawnSync(["bun", join(import.meta.dir, "..", "src", "index.ts")], {
    env: {
      ...process.env,
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/never-contacted",
      SECRET_KEY: "",
      SECRET_KEY_FILE: "",
      PORT: "0",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(result.exitCode).toBe(1);
  expect(result.stderr.toString()).toContain("SECRET_KEY is required with DATABASE_URL");
});

test("admin secrets:reencrypt moves every stored key to the new SECRET_KEY (embedded DATA_DIR)", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "fluxer-reencrypt-"));
  const oldKey = testConfig().secretKey ?? "";
  const embedded = (env: Record<string, string>) => ({
    ...testConfig({ PORT: "0", DATA_DIR: dataDir, ...env }),
    databaseUrl: null,
  });
  try {
    const first = await startServer(embedded({}), { log: createTestLogger() });
    const app = withEnv({ ...t, deps: { ...first.deps } }, {});
    const { client } = await setupClient(app);
    // The ID token signing key is created encrypted under the same SECRET_KEY.
    const idTokenKey = await currentSigningKey(first.deps, new Date());
    await first.stop();

    const admin = (env: Record<string, string>, ...args: string[]) =>
      Bun.spawnSync(["bun", join(import.meta.dir, "..", "src", "admin.ts"), ...args], {
        env: {
          ...process.env,
          DATABASE_URL: "",
          DATA_DIR: dataDir,
          SECRET_KEY: OTHER_KEY,
          SECRET_KEY_PREVIOUS: "",
          ...env,
        },
        stdout: "pipe",
        stderr: "pipe",
      });
    // Without the old key listed, nothing is touched and the message says why.
    const refused = admin({}, "secrets:reencrypt");
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.toString()).toContain("SECRET_KEY does not match this database");
    const done = admin({ SECRET_KEY_PREVIOUS: oldKey }, "secrets:reencrypt");
    expect(done.exitCode).toBe(0);
    // The application's Ed25519 key and the ID token signing key.
    expect(done.stdout.toString()).toContain("re-encrypted 2 signing key(s)");
    expect(admin({}, "no-such-command").exitCode).toBe(1);
    expect(admin({}, "--help").stdout.toString()).toContain("secrets:reencrypt");

    // The old key is no longer needed; the old key alone no longer fits.
    const second = await startServer(embedded({ SECRET_KEY: OTHER_KEY }), { log: createTestLogger() });
    try {
      const signature = await signInteraction(
        second.deps.db,
        second.deps.keys,
        client.id,
        new Uint8Array([1]),
      );
      expect(signature).toMatch(/^[0-9a-f]{128}$/);
      const reopened = await currentSigningKey(second.deps, new Date());
      expect(reopened.kid).toBe(idTokenKey.kid);
    } finally {
      await second.stop();
    }
    await expect(startServer(embedded({}), { log: createTestLogger() })).rejects.toThrow(/does not match/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
