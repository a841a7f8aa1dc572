import { createHash, timingSafeEqual } from "node:crypto";
import { encodeBase64urlNoPadding } from "@oslojs/encoding";

/** 32 random bytes, base64url without padding (43 chars): codes, tokens, secrets. */
export function generateToken(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return encodeBase64urlNoPadding(bytes);
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Whether a value could be a `generateToken()` output; anything else is rejected before hashing or querying. */
export function hasTokenShape(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Uniformly random alphanumerics (rejection sampling keeps the distribution flat). */
export function generateAlphanumeric(length: number): string {
  let out = "";
  const bytes = new Uint8Array(length * 2);
  while (out.length < length) {
    crypto.getRandomValues(bytes);
    for (const byte of bytes) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

/**
 * SHA-256, hex. Everything hashed here is ≥ 256 bits of randomness, so a fast hash is safe and keeps
 * the token endpoint fast; human passwords go through Bun.password instead.
 */
export function hashToken(token: string): string {
  // The runtime's native SHA-256: on the token endpoint's hot path, a JS implementation costs more
  // than the rest of the request's own work.
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Constant time for equal lengths (the lengths themselves are not secret: hashes are fixed-size). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}
