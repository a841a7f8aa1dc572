import { describe, expect, test } from "bun:test";
import { OAuthError } from "./errors.ts";
import { formatScope, isSubset, parseRequestedScope, parseScope } from "./scope.ts";

describe("scope", () => {
  test("splits on spaces and '+', deduplicates, emits canonical order", () => {
    expect(parseScope("email identify email")).toEqual(["identify", "email"]);
    expect(parseScope("bot+guilds identify")).toEqual(["identify", "guilds", "bot"]);
    expect(parseScope("")).toEqual([]);
    expect(formatScope(["bot", "identify"])).toBe("identify bot");
  });

  test("unknown scope is invalid_scope", () => {
    expect(() => parseScope("identify admin")).toThrow(OAuthError);
    try {
      parseScope("openid");
    } catch (error) {
      expect((error as OAuthError).code).toBe("invalid_scope");
    }
  });

  test("a requested scope naming nothing is invalid_scope", () => {
    expect(parseRequestedScope("identify")).toEqual(["identify"]);
    expect(() => parseRequestedScope("+")).toThrow(OAuthError);
    expect(() => parseRequestedScope("   ")).toThrow(/at least one scope/);
  });

  test("subset", () => {
    expect(isSubset(["identify"], ["identify", "email"])).toBe(true);
    expect(isSubset(["guilds"], ["identify"])).toBe(false);
  });
});
