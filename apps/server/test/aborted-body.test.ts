import { afterAll, expect, test } from "bun:test";
import { appendFileSync } from "node:fs";
import { connect } from "node:net";
import { createLogger } from "../src/logger.ts";
import { startServer } from "../src/server.ts";
import { createTestDatabase } from "./support/database.ts";
import { TEST_ISSUER, testConfig } from "./support/harness.ts";
import { TEST_LOG_FILE } from "./support/test-log.ts";

const lines: { level: string; msg: string; status?: number; path?: string }[] = [];
const database = await createTestDatabase();
const server = await startServer(testConfig({ PORT: "0", HOST: "127.0.0.1", RATE_LIMITS: "on" }), {
  database,
  log: createLogger("debug", (line) => {
    lines.push(JSON.parse(line));
    appendFileSync(TEST_LOG_FILE, `${line}\n`);
  }),
});
afterAll(async () => {
  await server.stop();
  await database.close();
});

const POST_ROUTES: [string, string][] = [
  ["/v1/oauth2/token", "application/x-www-form-urlencoded"],
  ["/v1/oauth2/token/revoke", "application/x-www-form-urlencoded"],
  ["/v1/oauth2/introspect", "application/x-www-form-urlencoded"],
  ["/v1/oauth2/authorize", "application/x-www-form-urlencoded"],
  ["/v1/oauth2/authorize/consent", "application/json"],
  ["/login", "application/x-www-form-urlencoded"],
  ["/register", "application/x-www-form-urlencoded"],
  ["/logout", "application/x-www-form-urlencoded"],
  ["/trpc/auth.login", "application/json"],
  ["/trpc/auth.register", "application/json"],
];

/** Announces 100 bytes, sends 10, closes: what a client that drops mid-upload does. */
function abortedPost(
  path: string,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: server.port });
    const chunks: Buffer[] = [];
    socket.on("connect", () => {
      const head = [
        `POST ${path} HTTP/1.1`,
        `Host: localhost:${server.port}`,
        `Content-Type: ${contentType}`,
        "Content-Length: 100",
        `Origin: ${TEST_ISSUER}`,
        "Cookie: flx_csrf=cccccccccccccccccccccccccccccccccccccccccccc",
        "Authorization: flx_notavalidsessiontokenbutshapedlikeone000",
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ].join("\r\n");
      socket.write(`${head}\r\n\r\nlogin=abcd`);
      setTimeout(() => socket.destroy(), 50);
    });
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

test("aborted bodies on every POST route: no 5xx, no error-level line, and the server keeps serving", async () => {
  for (const [path, contentType] of POST_ROUTES) {
    const answer = await abortedPost(path, contentType);
    expect(answer).not.toMatch(/^HTTP\/1\.1 5/);
  }
  // Access-log lines are written just after each response: give the last ones a moment.
  await Bun.sleep(200);
  const problems = lines.filter((line) => line.level === "error" || (line.status ?? 0) >= 500);
  expect(problems).toEqual([]);
  const logged = lines.filter((line) => line.msg === "request" && line.path !== "/healthz");
  for (const line of logged) expect(line.status).toBeLessThan(500);
  expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200);
  const token = await fetch(`http://127.0.0.1:${server.port}/v1/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "grant_type=client_credentials",
  });
  expect(token.status).toBe(401);
});
