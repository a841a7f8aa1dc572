import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "../../../packages/client/src/index.ts";
import { startServer } from "../src/server.ts";
import { testConfig } from "./support/harness.ts";

const dataDir = mkdtempSync(join(tmpdir(), "fluxer-restart-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test("restarting the server on the same DATA_DIR keeps users and sessions", async () => {
  // Always the embedded database: this is about PGlite's on-disk persistence.
  const config = testConfig({ PORT: "0", DATA_DIR: dataDir });
  const first = await startServer({ ...config, databaseUrl: null });
  const { token, user } = await createClient({ url: first.url }).auth.register.mutate({
    username: "persisted",
    email: "persisted@example.com",
    password: "password123",
  });
  await first.stop();

  const second = await startServer({ ...config, databaseUrl: null });
  try {
    const me = await createClient({ url: second.url, token }).users.me.query();
    expect(me.id).toBe(user.id);
    const again = await createClient({ url: second.url }).auth.login.mutate({
      login: "persisted",
      password: "password123",
    });
    expect(again.user.id).toBe(user.id);
  } finally {
    await second.stop();
  }
});
