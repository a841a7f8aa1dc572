import { expect, test } from "bun:test";
import { createLogger } from "./logger.ts";

test("secret-looking fields are redacted and levels filter", () => {
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line));
  log.debug("hidden");
  log.info("visible", {
    client_secret: "s3cret",
    refresh_token: "rt",
    password: "pw",
    path: "/v1/oauth2/token",
  });
  expect(lines).toHaveLength(1);
  const entry = JSON.parse(lines[0] as string);
  expect(entry).toMatchObject({ level: "info", msg: "visible", path: "/v1/oauth2/token" });
  expect(entry.client_secret).toBe("[redacted]");
  expect(entry.refresh_token).toBe("[redacted]");
  expect(entry.password).toBe("[redacted]");
  expect(lines[0]).not.toContain("s3cret");
  expect(log.enabled("debug")).toBe(false);
  expect(log.enabled("warn")).toBe(true);
});
