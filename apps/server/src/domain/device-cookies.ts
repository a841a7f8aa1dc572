import { createHmac } from "node:crypto";
import { encodeBase64urlNoPadding } from "@oslojs/encoding";
import { constantTimeEqual } from "../crypto.ts";

/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
 * signed in to an account successfully gets a cookie naming that account, signed with a key derived
 * from SECRET_KEY. Sign-in attempts that present it are throttled per device only, so strangers
 * guessing the password cannot lock the owner's own browser out.
 * Value: `<user id>.<issued at, unix seconds>.<device id>.<HMAC-SHA256 of the rest>`.
 */
export const DEVICE_COOKIE_TTL_SECONDS = 180 * 24 * 3600;

function mac(key: Uint8Array, payload: string): string {
  return createHmac("sha256", key).update(payload).digest("base64url");
}

export function issueDeviceCookie(key: Uint8Array, input: { userId: string; now: Date }): string {
  const deviceId = encodeBase64urlNoPadding(crypto.getRandomValues(new Uint8Array(16)));
  const payload = `${input.userId}.${Math.floor(input.now.getTime() / 1000)}.${deviceId}`;
  return `${payload}.${mac(key, payload)}`;
}

/** The device id of a genuine, unexpired cookie issued for `userId`; null for anything else. */
export function verifyDeviceCookie(
  key: Uint8Array,
  value: string,
  expected: { userId: string; now: Date },
): string | null {
  const parts = value.split(".");
  if (parts.length !== 4) return null;
  const [userId, issuedAt, deviceId, signature] = parts as [string, string, string, string];
  if (!constantTimeEqual(signature, mac(key, `${userId}.${issuedAt}.${deviceId}`))) return null;
  if (userId !== expected.userId || !/^\d{1,12}$/.test(issuedAt)) return null;
  const ageSeconds = expected.now.getTime() / 1000 - Number(issuedAt);
  if (ageSeconds < 0 || ageSeconds > DEVICE_COOKIE_TTL_SECONDS) return null;
  return deviceId;
}
