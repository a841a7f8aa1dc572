import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AddressInUseError, startServer } from "../src/server.ts";
import { createTestDatabase } from "./support/database.ts";
import { startTestServer, testConfig } from "./support/harness.ts";
import { createTestLogger } from "./support/test-log.ts";

const first = await startTestServer({ HOST: "127.0.0.1" });
afterAll(() => first.stop());

test("HOST picks the listening address", async () => {
  expect(first.deps.config.host).toBe("127.0.0.1");
  expect((await fetch(`http://127.0.0.1:${first.port}/healthz`)).status).toBe(200);
});

test("a second server on a busy port exits 1 with 'address in use', and the first keeps serving", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "fluxer-busy-port-"));
  try {
    const second = Bun.spawnSync(["bun", join(import.meta.dir, "..", "src", "index.ts")], {
      env: {
        ...process.env,
        PORT: String(first.port),
        HOST: "127.0.0.1",
        DATABASE_URL: "",
        DATA_DIR: dataDir,
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(second.exitCode).toBe(1);
    expect(second.stderr.toString()).toContain(`address in use: 127.0.0.1:${first.port}`);
    expect(second.stdout.toString()).not.toContain("server listening");
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);

test("in process: a busy port rejects with AddressInUseError; REUSE_PORT=true shares it on purpose", async () => {
  const database = await createTestDatabase();
  try {
    const busy = startServer(testConfig({ PORT: String(first.port), HOST: "127.0.0.1" }), {
      database,
      log: createTestLogger(),
    });
    await expect(busy).rejects.toBeInstanceOf(AddressInUseError);
    expect((await fetch(`http://127.0.0.1:${first.port}/healthz`)).status).toBe(200);
  } finally {
    await database.close();
  }
});

test("REUSE_PORT=true lets processes of one deployment share a port", async () => {
  const a = await startTestServer({ HOST: "127.0.0.1", REUSE_PORT: "true" });
  try {
    const b = await startTestServer({ HOST: "127.0.0.1", REUSE_PORT: "true", PORT: String(a.port) });
    expect(b.port).toBe(a.port);
    await b.stop();
  } finally {
    await a.stop();
  }
});
