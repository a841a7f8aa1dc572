import { describe, expect, test } from "bun:test";
import { computeS256Challenge, isValidCodeChallenge, verifyCodeVerifier } from "./pkce.ts";

describe("pkce", () => {
  // RFC 7636 Appendix B.
  const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

  test("S256 matches the RFC 7636 example", () => {
    expect(computeS256Challenge(verifier)).toBe(challenge);
    expect(verifyCodeVerifier(verifier, challenge, "S256")).toBe(true);
    expect(verifyCodeVerifier(`${verifier.slice(0, -1)}A`, challenge, "S256")).toBe(false);
  });

  test("plain compares the verifier itself", () => {
    expect(verifyCodeVerifier(verifier, verifier, "plain")).toBe(true);
  });

  test("verifiers outside 43–128 unreserved chars are rejected", () => {
    expect(verifyCodeVerifier("short", "short", "plain")).toBe(false);
    expect(verifyCodeVerifier("a".repeat(129), "a".repeat(129), "plain")).toBe(false);
    expect(verifyCodeVerifier(`${"a".repeat(42)}!`, `${"a".repeat(42)}!`, "plain")).toBe(false);
  });

  test("challenge shape", () => {
    expect(isValidCodeChallenge(challenge, "S256")).toBe(true);
    expect(isValidCodeChallenge("abc", "S256")).toBe(false);
  });
});
