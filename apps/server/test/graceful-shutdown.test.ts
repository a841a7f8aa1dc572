import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServerProcess } from "./support/server-process.ts";

const dataDir = mkdtempSync(join(tmpdir(), "fluxer-drain-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test("SIGTERM drains: a request in flight gets its answer, the log says so, then the process exits 0", async () => {
  // Always the embedded database: this is about the process, not the driver.
  const server = await startServerProcess({ DATABASE_URL: "", DATA_DIR: dataDir });
  // Registration spends ~50–100 ms in argon2id: long enough to be in flight when the signal lands.
  const inFlight = fetch(`${server.url}/trpc/auth.register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "drained", email: "drained@example.com", password: "password123" }),
  });
  await Bun.sleep(15);
  const exit = server.kill("SIGTERM");
  const response = await inFlight;
  expect(response.status).toBe(200);
  expect(((await response.json()) as { result: { data: { token: string } } }).result.data.token).toMatch(
    /^flx_/,
  );
  expect(await exit).toEqual({ exitCode: 0, signalCode: null });

  // One line when draining starts (with the requests in flight), one when it ends, in that order
  // around the slow request's own access-log line.
  const lines = server
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const draining = lines.findIndex((line) => line.msg === "draining");
  const answered = lines.findIndex((line) => line.msg === "request" && line.path === "/trpc/auth.register");
  const stopped = lines.findIndex((line) => line.msg === "stopped");
  expect(lines[draining]).toMatchObject({ level: "info", reason: "SIGTERM", in_flight: 1 });
  expect(lines[answered]).toMatchObject({ status: 200 });
  expect(lines[stopped]).toMatchObject({ level: "info", in_flight: 1, cut_off: 0 });
  expect(draining).toBeGreaterThanOrEqual(0);
  expect(answered).toBeGreaterThan(draining);
  expect(stopped).toBeGreaterThan(answered);
  expect(lines.filter((line) => line.msg === "draining" || line.msg === "stopped")).toHaveLength(2);
}, 30_000);
