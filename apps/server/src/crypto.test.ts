import { describe, expect, test } from "bun:test";
import { constantTimeEqual, generateAlphanumeric, generateToken, hashToken } from "./crypto.ts";
import { generateSessionToken, SESSION_TOKEN_PATTERN } from "./domain/sessions.ts";

describe("token helpers", () => {
  test("tokens are 32 random bytes as 43 base64url chars", () => {
    const tokens = new Set(Array.from({ length: 1000 }, generateToken));
    expect(tokens.size).toBe(1000);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test("hashes are SHA-256 hex and deterministic", () => {
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  test("constant-time comparison", () => {
    expect(constantTimeEqual("same", "same")).toBe(true);
    expect(constantTimeEqual("same", "sane")).toBe(false);
    expect(constantTimeEqual("short", "longer")).toBe(false);
  });

  test("session tokens are flx_ + 36 alphanumerics", () => {
    expect(generateSessionToken()).toMatch(SESSION_TOKEN_PATTERN);
    expect(generateAlphanumeric(500)).toMatch(/^[A-Za-z0-9]{500}$/);
  });
});
