import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "./config.ts";

describe("config", () => {
  test("defaults describe an embedded server on port 8080", () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.issuer).toBe("http://localhost:8080");
    expect(config.databaseUrl).toBeNull();
    expect(config.dataDir).toBe("./data");
    expect(config.accessTokenTtlSeconds).toBe(604800);
    expect(config.refreshReuseGraceSeconds).toBe(0);
    expect(Object.isFrozen(config)).toBe(true);
  });

  test("a bad value stops start-up with a message naming the variable", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/PORT/);
    expect(() => loadConfig({ WORKER_ID: "2048" })).toThrow(/WORKER_ID/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ REFRESH_REUSE_GRACE_SECONDS: "-1" })).toThrow(/REFRESH_REUSE_GRACE_SECONDS/);
  });

  test("values a server cannot serve are refused", () => {
    expect(() => loadConfig({ PORT: " " })).toThrow(/PORT/);
    expect(() => loadConfig({ PORT: "0x10" })).toThrow(/PORT/);
    expect(() => loadConfig({ ISSUER: "https://auth.example.com/?tenant=1" })).toThrow(/ISSUER/);
    expect(() => loadConfig({ ISSUER: "https://auth.example.com/#x" })).toThrow(/ISSUER/);
    expect(() => loadConfig({ ACCESS_TOKEN_TTL_SECONDS: "1000000000000000" })).toThrow(
      /ACCESS_TOKEN_TTL_SECONDS/,
    );
    expect(loadConfig({ PORT: " 9090 " }).port).toBe(9090);
  });

  test("the issuer loses its trailing slash", () => {
    expect(loadConfig({ ISSUER: "https://auth.example.com/" }).issuer).toBe("https://auth.example.com");
  });
});
