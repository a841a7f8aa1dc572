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
    // 1023 belongs to the admin CLI; METRICS_PORT is a port.
    expect(() => loadConfig({ WORKER_ID: "1023" })).toThrow(/WORKER_ID/);
    expect(loadConfig({ WORKER_ID: "1022" }).workerId).toBe(1022);
    expect(() => loadConfig({ METRICS_PORT: "70000" })).toThrow(/METRICS_PORT/);
    expect(loadConfig({}).metricsPort).toBeNull();
    expect(loadConfig({ METRICS_PORT: "9464" }).metricsPort).toBe(9464);
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

  test("TRUSTED_PROXIES is a CIDR list; the old TRUST_PROXY is refused with a pointer to it", () => {
    const config = loadConfig({ TRUSTED_PROXIES: "10.0.0.0/8, 2001:db8::/32,127.0.0.1" });
    expect(config.trustedProxies.map((cidr) => cidr.text)).toEqual([
      "10.0.0.0/8",
      "2001:db8::/32",
      "127.0.0.1",
    ]);
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(() => loadConfig({ TRUSTED_PROXIES: "10.0.0.0/33" })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ TRUST_PROXY: "on" })).toThrow(/TRUST_PROXY: replaced by TRUSTED_PROXIES/);
  });

  test("SECRET_KEY must be base64url of at least 32 bytes; not together with SECRET_KEY_FILE", () => {
    expect(() => loadConfig({ SECRET_KEY: "short" })).toThrow(/SECRET_KEY/);
    expect(() => loadConfig({ SECRET_KEY: `${"a".repeat(42)}+` })).toThrow(/SECRET_KEY/);
    const key = "a".repeat(43);
    expect(loadConfig({ SECRET_KEY: key }).secretKey).toBe(key);
    expect(() => loadConfig({ SECRET_KEY: key, SECRET_KEY_FILE: "/k" })).toThrow(/not both/);
    expect(loadConfig({ SECRET_KEY_PREVIOUS: `${key}, ${"b".repeat(43)}` }).secretKeyPrevious).toHaveLength(
      2,
    );
    expect(() => loadConfig({ SECRET_KEY_PREVIOUS: "x" })).toThrow(/SECRET_KEY_PREVIOUS/);
  });

  test("HOST, REUSE_PORT and retention defaults", () => {
    const config = loadConfig({});
    expect(config.host).toBe("0.0.0.0");
    expect(config.reusePort).toBe(false);
    expect(config.usedRefreshTokenRetentionDays).toBe(30);
    expect(config.auditRetentionDays).toBe(90);
    expect(loadConfig({ HOST: "::1", REUSE_PORT: "true" })).toMatchObject({ host: "::1", reusePort: true });
  });
});
