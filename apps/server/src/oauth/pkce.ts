import { createHash } from "node:crypto";
import { constantTimeEqual } from "../crypto.ts";

export type CodeChallengeMethod = "S256" | "plain";
export const CODE_CHALLENGE_METHODS: readonly CodeChallengeMethod[] = ["S256", "plain"];

/** RFC 7636 §4.1: 43–128 unreserved characters (challenges of method plain follow the same rule). */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export function isValidCodeVerifier(value: string): boolean {
  return VERIFIER.test(value);
}

/** S256 challenges are base64url(SHA-256) without padding: exactly 43 chars. */
export function isValidCodeChallenge(challenge: string, method: CodeChallengeMethod): boolean {
  return method === "S256" ? /^[A-Za-z0-9_-]{43}$/.test(challenge) : VERIFIER.test(challenge);
}

export function computeS256Challenge(verifier: string): string {
  // Node's base64url has no padding; the verifier is ASCII (checked by the callers' rules).
  return createHash("sha256").update(verifier, "utf8").digest("base64url");
}

export function verifyCodeVerifier(
  verifier: string,
  challenge: string,
  method: CodeChallengeMethod,
): boolean {
  if (!isValidCodeVerifier(verifier)) return false;
  const computed = method === "S256" ? computeS256Challenge(verifier) : verifier;
  return constantTimeEqual(computed, challenge);
}
