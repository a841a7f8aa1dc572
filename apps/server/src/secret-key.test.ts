import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  decryptSecret,
  deriveServerKeys,
  encryptSecret,
  loadServerKeys,
  resolveSecretKeys,
  SecretKeyError,
} from "./secret-key.ts";

const KEY_A = "dGVzdC1vbmx5LXNlY3JldC1rZXktMzItYnl0ZXMtbG9uZyE";
const KEY_B = "b3RoZXItdGVzdC1rZXktdGhhdC1pcy0zMi1ieXRlcy1sb25nIQ";
const base = {
  secretKey: null,
  secretKeyFile: null,
  secretKeyPrevious: [],
  databaseUrl: null,
  dataDir: "/x",
};

test("the embedded default creates DATA_DIR/secret.key (mode 0600) once and keeps using it", () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), "fluxer-key-")), "data");
  try {
    const first = resolveSecretKeys({ ...base, dataDir });
    const path = join(dataDir, "secret.key");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(first.current.length).toBe(32);
    expect(resolveSecretKeys({ ...base, dataDir }).current).toEqual(first.current);
    expect(readFileSync(path, "utf8").trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("with DATABASE_URL a key is required; SECRET_KEY_FILE is read; short keys are refused", () => {
  const postgres = { ...base, databaseUrl: "postgres://x@localhost/x" };
  expect(() => resolveSecretKeys(postgres)).toThrow(SecretKeyError);
  expect(() => resolveSecretKeys(postgres)).toThrow(/SECRET_KEY is required with DATABASE_URL/);
  const dir = mkdtempSync(join(tmpdir(), "fluxer-keyfile-"));
  try {
    const file = join(dir, "key");
    writeFileSync(file, `${KEY_A}\n`);
    expect(resolveSecretKeys({ ...postgres, secretKeyFile: file }).current).toEqual(
      resolveSecretKeys({ ...postgres, secretKey: KEY_A }).current,
    );
    expect(() => resolveSecretKeys({ ...postgres, secretKeyFile: join(dir, "missing") })).toThrow(
      /cannot be read/,
    );
    expect(() => resolveSecretKeys({ ...postgres, secretKey: "c2hvcnQ" })).toThrow(/at least 32 bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("AES-GCM: round trip, previous keys decrypt, a wrong key or a moved value is a clear error", async () => {
  const a = await loadServerKeys({ ...base, secretKey: KEY_A });
  const b = await loadServerKeys({ ...base, secretKey: KEY_B });
  const sealed = await encryptSecret(a, "private key", "applications.signing_key:1");
  expect(sealed).not.toContain("private key");
  expect(sealed).not.toBe(await encryptSecret(a, "private key", "applications.signing_key:1"));
  expect(await decryptSecret(a, sealed, "applications.signing_key:1")).toBe("private key");
  await expect(decryptSecret(b, sealed, "applications.signing_key:1")).rejects.toThrow(
    /neither SECRET_KEY .* nor in SECRET_KEY_PREVIOUS/,
  );
  await expect(decryptSecret(a, sealed, "applications.signing_key:2")).rejects.toThrow(/altered or moved/);
  const rotating = await loadServerKeys({ ...base, secretKey: KEY_B, secretKeyPrevious: [KEY_A] });
  expect(await decryptSecret(rotating, sealed, "applications.signing_key:1")).toBe("private key");
});

test("derived keys differ per purpose and per secret", async () => {
  const a = await deriveServerKeys(resolveSecretKeys({ ...base, secretKey: KEY_A }));
  const b = await deriveServerKeys(resolveSecretKeys({ ...base, secretKey: KEY_B }));
  expect(a.successorKey).not.toEqual(b.successorKey);
  expect(a.successorKey).not.toEqual(a.deviceCookieKey);
  expect(a.encryption[0]?.id).not.toBe(b.encryption[0]?.id);
});
