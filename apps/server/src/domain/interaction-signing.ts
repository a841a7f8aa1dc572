import { decodeBase64, encodeBase64, encodeHexLowerCase } from "@oslojs/encoding";
import type { Db } from "../db/database.ts";
import { decryptSecret, type ServerKeys } from "../secret-key.ts";
import { isSnowflake } from "../snowflake.ts";
import { ApiError } from "./errors.ts";
import { signingKeyContext } from "./server-secrets.ts";

export interface InteractionKeyPair {
  /** Hex of the 32-byte raw Ed25519 public key: the application's `verify_key`. */
  verifyKey: string;
  /** PKCS#8 private key, base64: stays on the server, stored encrypted (`signing_key`). */
  signingKey: string;
}

/** A fresh Ed25519 key pair per application, through WebCrypto (no extra dependency). */
export async function generateInteractionKeyPair(): Promise<InteractionKeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const privateKey = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { verifyKey: encodeHexLowerCase(publicKey), signingKey: encodeBase64(privateKey) };
}

/** Signs an interaction payload with the application's private key; hex signature (64 bytes). */
export async function signInteraction(
  db: Db,
  keys: ServerKeys,
  applicationId: string,
  payload: Uint8Array<ArrayBuffer>,
): Promise<string> {
  if (!isSnowflake(applicationId)) throw new ApiError("UNKNOWN_APPLICATION", "Unknown application");
  const row = await db
    .selectFrom("applications")
    .select("signing_key")
    .where("id", "=", applicationId)
    .executeTakeFirst();
  if (!row) throw new ApiError("UNKNOWN_APPLICATION", "Unknown application");
  const key = await crypto.subtle.importKey(
    "pkcs8",
    new Uint8Array(
      decodeBase64(await decryptSecret(keys, row.signing_key, signingKeyContext(applicationId))),
    ),
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  return encodeHexLowerCase(new Uint8Array(await crypto.subtle.sign("Ed25519", key, payload)));
}
