import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeBase64urlIgnorePadding, encodeBase64urlNoPadding, encodeHexLowerCase } from "@oslojs/encoding";
import type { Config } from "./config.ts";

/**
 * The server's secret key (SPEC §16) and what is derived from it. Nothing derived from it is ever
 * stored: a copy of the database alone yields no successor token and no private key.
 * - `successorKey`: HMAC key that derives a refresh token's successor pair (grace-window retries).
 * - `deviceCookieKey`: HMAC key that signs device cookies (sign-in throttling, login-throttle.ts).
 * - `encryption`: AES-256-GCM keys for stored private keys, the current one first, then those of
 *   `SECRET_KEY_PREVIOUS` (decryption only). Each has an id (derived, not secret) written into every
 *   ciphertext, so a value encrypted under a key the server does not hold is named as such.
 */
export interface ServerKeys {
  readonly successorKey: Uint8Array;
  readonly deviceCookieKey: Uint8Array;
  readonly encryption: readonly EncryptionKey[];
}

export interface EncryptionKey {
  readonly id: string;
  readonly key: CryptoKey;
}

/** The key is missing, unreadable, malformed, or not the one the stored data was encrypted with. */
export class SecretKeyError extends Error {}

const MIN_KEY_BYTES = 32;

function decodeKey(text: string, source: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64urlIgnorePadding(text.trim());
  } catch {
    throw new SecretKeyError(`${source} is not base64url`);
  }
  if (bytes.length < MIN_KEY_BYTES)
    throw new SecretKeyError(`${source} must be at least ${MIN_KEY_BYTES} bytes`);
  return bytes;
}

function generateKeyText(): string {
  return encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(32)));
}

/** DATA_DIR/secret.key, created (mode 0600) on first start of the embedded database. */
function loadOrCreateKeyFile(dataDir: string): string {
  const path = join(dataDir, "secret.key");
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(path, `${generateKeyText()}\n`, { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return readFileSync(path, "utf8");
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new SecretKeyError(`SECRET_KEY_FILE ${path} cannot be read (${(error as Error).message})`);
  }
}

/** The raw current and previous keys, from SECRET_KEY, SECRET_KEY_FILE or (embedded only) DATA_DIR. */
export function resolveSecretKeys(
  config: Pick<Config, "secretKey" | "secretKeyFile" | "secretKeyPrevious" | "databaseUrl" | "dataDir">,
): { current: Uint8Array; previous: Uint8Array[] } {
  let current: Uint8Array;
  if (config.secretKey !== null) current = decodeKey(config.secretKey, "SECRET_KEY");
  else if (config.secretKeyFile !== null)
    current = decodeKey(readKeyFile(config.secretKeyFile), `SECRET_KEY_FILE ${config.secretKeyFile}`);
  else if (config.databaseUrl === null)
    current = decodeKey(loadOrCreateKeyFile(config.dataDir), join(config.dataDir, "secret.key"));
  else
    throw new SecretKeyError(
      "SECRET_KEY is required with DATABASE_URL: set SECRET_KEY (base64url, at least 32 bytes, e.g. `openssl rand -base64 32 | tr '+/' '-_'`) or SECRET_KEY_FILE",
    );
  const previous = config.secretKeyPrevious.map((text, i) =>
    decodeKey(text, `SECRET_KEY_PREVIOUS entry ${i + 1}`),
  );
  return { current, previous };
}

async function hkdf(secret: Uint8Array, info: string, bytes: number): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey("raw", new Uint8Array(secret), "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(info) },
    base,
    bytes * 8,
  );
  return new Uint8Array(bits);
}

async function deriveEncryptionKey(secret: Uint8Array): Promise<EncryptionKey> {
  const raw = await hkdf(secret, "fluxer/stored-key-encryption/v1", 32);
  const key = await crypto.subtle.importKey("raw", new Uint8Array(raw), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  return { id: encodeHexLowerCase(await hkdf(secret, "fluxer/key-id/v1", 8)), key };
}

/** Derives every key the server uses (once, at start; requests only read them). */
export async function deriveServerKeys(secrets: {
  current: Uint8Array;
  previous: Uint8Array[];
}): Promise<ServerKeys> {
  return Object.freeze({
    successorKey: await hkdf(secrets.current, "fluxer/refresh-successor/v1", 32),
    deviceCookieKey: await hkdf(secrets.current, "fluxer/device-cookie/v1", 32),
    encryption: Object.freeze(
      await Promise.all([secrets.current, ...secrets.previous].map((secret) => deriveEncryptionKey(secret))),
    ),
  });
}

export function loadServerKeys(config: Parameters<typeof resolveSecretKeys>[0]): Promise<ServerKeys> {
  return deriveServerKeys(resolveSecretKeys(config));
}

const PREFIX = "aes256gcm.v1";
const encoder = new TextEncoder();

export function isEncrypted(value: string): boolean {
  return value.startsWith(`${PREFIX}.`);
}

/** The id of the key a stored value is encrypted with, or null for plaintext. */
export function encryptionKeyIdOf(value: string): string | null {
  return isEncrypted(value) ? (value.split(".")[2] ?? null) : null;
}

/**
 * AES-256-GCM under the current key: `aes256gcm.v1.<key id>.<iv>.<ciphertext>`. `context` names the
 * place the value is stored (table, column, row) and is authenticated, so a ciphertext copied into
 * another row does not decrypt.
 */
export async function encryptSecret(keys: ServerKeys, plaintext: string, context: string): Promise<string> {
  const current = keys.encryption[0] as EncryptionKey;
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    current.key,
    encoder.encode(plaintext),
  );
  return [
    PREFIX,
    current.id,
    encodeBase64urlNoPadding(iv),
    encodeBase64urlNoPadding(new Uint8Array(sealed)),
  ].join(".");
}

export async function decryptSecret(keys: ServerKeys, stored: string, context: string): Promise<string> {
  const [, , keyId, iv, sealed] = stored.split(".");
  if (!isEncrypted(stored) || !keyId || !iv || !sealed)
    throw new SecretKeyError(`${context} is not an encrypted value`);
  const match = keys.encryption.find((candidate) => candidate.id === keyId);
  if (!match)
    throw new SecretKeyError(
      `${context} is encrypted with key ${keyId}, which is neither SECRET_KEY (key ${keys.encryption[0]?.id}) nor in SECRET_KEY_PREVIOUS`,
    );
  try {
    const plaintext = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: new Uint8Array(decodeBase64urlIgnorePadding(iv)),
        additionalData: encoder.encode(context),
      },
      match.key,
      new Uint8Array(decodeBase64urlIgnorePadding(sealed)),
    );
    return new TextDecoder().decode(plaintext);
  } catch {
    throw new SecretKeyError(`${context} does not decrypt with key ${keyId}: the value was altered or moved`);
  }
}
