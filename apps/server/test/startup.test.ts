import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeConnectionError } from "../src/db/reachability.ts";
import { pickFreePort } from "./support/browser.ts";
import { testDatabaseKind } from "./support/database.ts";
import { createScratchDatabase, startServerProcess } from "./support/server-process.ts";

const ENTRY = join(import.meta.dir, "..", "src", "index.ts");
/** PostgreSQL deployments need a SECRET_KEY (SPEC §16); any valid one does here. */
const SECRET_KEY = Buffer.from("startup-test-secret-key-32-bytes-long!").toString("base64url");

/** Runs the server entry point to its exit (it should not get as far as listening). */
async function runToExit(env: Record<string, string>) {
  const proc = Bun.spawn(["bun", ENTRY], {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", SECRET_KEY, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { stdout, stderr, exitCode };
}

function expectOneLine(output: { stdout: string; stderr: string; exitCode: number }, line: string) {
  expect(output.exitCode).toBe(1);
  expect(output.stdout).toBe("");
  expect(output.stderr).toBe(`${line}\n`);
  expect(output.stderr).not.toMatch(/^\s+at /m);
}

describe("start-up without a usable database", () => {
  test("PostgreSQL not listening: one line naming host and port, exit 1", async () => {
    const port = pickFreePort();
    const output = await runToExit({ DATABASE_URL: `postgres://fluxer:s3cret-pw@127.0.0.1:${port}/fluxer` });
    expectOneLine(
      output,
      `cannot reach PostgreSQL at 127.0.0.1:${port} (connection refused): start PostgreSQL or fix the host and port in DATABASE_URL`,
    );
    expect(output.stderr).not.toContain("s3cret-pw");
  });

  test.if(testDatabaseKind === "postgres")(
    "a database that does not exist: one line with the createdb command, exit 1, no stack trace",
    async () => {
      const url = new URL(process.env.DATABASE_URL ?? "");
      const name = `fluxer_missing_${crypto.randomUUID().slice(0, 8)}`;
      url.pathname = `/${name}`;
      const output = await runToExit({ DATABASE_URL: url.toString() });
      const port = url.port || "5432";
      const user = decodeURIComponent(url.username) || "postgres";
      expectOneLine(
        output,
        `database "${name}" does not exist on PostgreSQL at ${url.hostname}:${port}: create it with createdb -h ${url.hostname} -p ${port} -U ${user} ${name}`,
      );
    },
  );

  test("the driver's other connection errors become their own one-line advice; unknown ones stay errors", () => {
    const url = "postgres://app:pw@db.internal:6543/oauth";
    const line = (code: string) => describeConnectionError(Object.assign(new Error("x"), { code }), url);
    expect(line("28P01")).toBe(
      'PostgreSQL at db.internal:6543 rejected the password of user "app": fix the credentials in DATABASE_URL',
    );
    expect(line("ENOTFOUND")).toContain('the host name "db.internal" does not resolve');
    expect(line("CONNECT_TIMEOUT")).toContain("cannot reach PostgreSQL at db.internal:6543 (no answer)");
    expect(line("28000")).toContain('refused user "app" for database "oauth"');
    expect(line("3D000")).toContain("createdb -h db.internal -p 6543 -U app oauth");
    expect(line("23505")).toBeNull();
    for (const code of ["28P01", "ENOTFOUND", "3D000", "ECONNREFUSED"])
      expect(line(code)).not.toContain("pw@");
  });
});

describe("start-up banner", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "fluxer-banner-"));
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test(`says where it listens, which database (${testDatabaseKind}), the issuer and the portal`, async () => {
    const env: Record<string, string> = { ISSUER: "http://localhost:4555", SECRET_KEY };
    let database: RegExp;
    if (testDatabaseKind === "postgres") {
      const scratch = await createScratchDatabase();
      cleanups.push(() => scratch.drop());
      env.DATABASE_URL = scratch.url;
      database = new RegExp(
        `^ {2}database {4}PostgreSQL [^ ]+:\\d+, database "${scratch.name}" \\(user \\w+\\)$`,
        "m",
      );
    } else {
      env.DATA_DIR = dataDir;
      database = new RegExp(`^ {2}database {4}embedded PGlite in ${dataDir}$`, "m");
    }
    const server = await startServerProcess(env);
    cleanups.unshift(async () => {
      await server.kill();
    });
    const port = new URL(server.url).port;
    const output = server.output();
    expect(output).toMatch(new RegExp(`^ {2}listening {3}0\\.0\\.0\\.0:${port}$`, "m"));
    expect(output).toMatch(/^ {2}issuer {6}http:\/\/localhost:4555$/m);
    expect(output).toMatch(database);
    expect(output).toMatch(/^ {2}portal {6}http:\/\/localhost:4555\/developers\/applications$/m);
    expect(output).toMatch(/^ {2}metrics {5}off \(set METRICS_PORT\)$/m);
    // A fresh database: the first steps follow.
    expect(output).toContain("No accounts yet. To try it:");
    expect(output).toContain("http://localhost:4555/register");
  }, 30_000);
});
