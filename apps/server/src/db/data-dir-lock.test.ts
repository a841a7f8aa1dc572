import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataDirLockedError, lockDataDir } from "./data-dir-lock.ts";

const dir = mkdtempSync(join(tmpdir(), "fluxer-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a data directory held by a live process is refused with a clear message", () => {
  // pid 1 is always alive.
  writeFileSync(join(dir, "fluxer.lock"), "1");
  expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
  expect(() => lockDataDir(dir)).toThrow(/in use by process 1/);
});

test("a lock left by a dead process is taken over, and released on close", () => {
  const dead = Bun.spawnSync(["true"]).pid; // exited already
  writeFileSync(join(dir, "fluxer.lock"), String(dead));
  const release = lockDataDir(dir);
  expect(Bun.file(join(dir, "fluxer.lock")).size).toBeGreaterThan(0);
  release();
  expect(existsSync(join(dir, "fluxer.lock"))).toBe(false);
});
