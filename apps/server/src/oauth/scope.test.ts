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
    let thrown: unknown = null;
    try {
      parseScope("openid address");
    } catch (error) {
      thrown = error;
    }
    expect((thrown as OAuthError).code).toBe("invalid_scope");
    expect(() => parseScope("toString")).toThrow(OAuthError);
  });

  test("OpenID Connect: openid first, profile reads as identify, offline_access asks for nothing", () => {
    expect(parseScope("email profile openid offline_access")).toEqual(["openid", "identify", "email"]);
    expect(parseScope("profile identify")).toEqual(["identify"]);
    expect(parseScope("offline_access")).toEqual([]);
    expect(() => parseRequestedScope("offline_access")).toThrow(/at least one scope/);
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
