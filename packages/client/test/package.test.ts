/**
 * The package as a stranger gets it: `bun pm pack` (which builds), `npm install` of the tarball into an
 * empty project outside this repository, `tsc --strict` under TypeScript's own `tsc --init` defaults
 * (module nodenext) and again with module resolution `bundler`, then the same consumer on Node and Bun
 * against a live server.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { startTestServer } from "@fluxer/server/test/support/harness.ts";

const PACKAGE_DIR = join(import.meta.dir, "..");
const REPO_ROOT = join(PACKAGE_DIR, "..", "..");
const TRPC_VERSION = "11.22.1";
const TYPESCRIPT_VERSION = "5.9.3";

function run(cmd: string[], cwd: string): { exitCode: number; output: string } {
  const result = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", env: process.env });
  return { exitCode: result.exitCode, output: `${result.stdout.toString()}${result.stderr.toString()}` };
}

function runOk(cmd: string[], cwd: string): string {
  const result = run(cmd, cwd);
  if (result.exitCode !== 0)
    throw new Error(`${cmd.join(" ")} failed (${result.exitCode}):\n${result.output}`);
  return result.output;
}

const work = mkdtempSync(join(tmpdir(), "fluxer-client-package-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const outside = relative(REPO_ROOT, work).startsWith("..");

// Pack (the prepack script builds dist/) and install the tarball with npm into an empty project.
runOk(["bun", "pm", "pack", "--destination", work], PACKAGE_DIR);
const tarballName = readdirSync(work).find((name) => name.endsWith(".tgz"));
if (!tarballName) throw new Error("bun pm pack wrote no tarball");
const tarball = join(work, tarballName);
const project = join(work, "consumer");
mkdirSync(project);
writeFileSync(
  join(project, "package.json"),
  JSON.stringify({ name: "consumer", private: true, type: "module" }),
);
runOk(
  [
    "npm",
    "install",
    "--no-audit",
    "--no-fund",
    "--prefer-offline",
    "--loglevel=error",
    tarball,
    `@trpc/client@${TRPC_VERSION}`,
    `@trpc/server@${TRPC_VERSION}`,
    `typescript@${TYPESCRIPT_VERSION}`,
  ],
  project,
);
const tsc = ["node", join(project, "node_modules", "typescript", "bin", "tsc")];
// TypeScript's own defaults for a new project: strict, module nodenext, exactOptionalPropertyTypes…
runOk([...tsc, "--init"], project);

const CONSUMER = `import { createClient, type RouterInputs, type RouterOutputs } from "@fluxer/client";
import { createOAuthClient, OAuthClientError } from "@fluxer/client/oauth";

export async function main(url: string) {
  const username = \`npm_\${Date.now().toString(36)}\`;
  const anonymous = createClient({ url });
  const registration: RouterInputs["auth"]["register"] = {
    username,
    email: \`\${username}@example.com\`,
    password: "password123",
  };
  await anonymous.auth.register.mutate(registration);
  const { token, user } = await anonymous.auth.login.mutate({ login: username, password: "password123" });
  const client = createClient({ url, token });
  const created = await client.applications.create.mutate({
    name: "Installed from npm",
    redirect_uris: ["https://consumer.example/callback"],
  });
  const listed: RouterOutputs["applications"]["list"] = await client.applications.list.query();
  const oauth = createOAuthClient({
    issuer: url,
    clientId: created.id,
    clientSecret: created.client_secret,
    redirectUri: "https://consumer.example/callback",
  });
  const { url: authorizationUrl } = await oauth.authorizationUrl({ scope: ["identify"] });
  const introspection = await oauth.introspect("not-a-token");
  const refused = await oauth.refresh("not-a-token").catch((error: unknown) => error);
  return {
    userId: user.id,
    createdId: created.id,
    listed: listed.map((application) => ({ id: application.id, name: application.name })),
    authorizationUrl,
    introspection,
    refused: refused instanceof OAuthClientError ? refused.error : "not an OAuthClientError",
  };
}
`;

const WRONG_INPUT = `import { createClient } from "@fluxer/client";

export async function wrong() {
  const client = createClient({ url: "http://127.0.0.1:1" });
  return client.applications.create.mutate({ name: 42 });
}
`;

const RUNNER = `const [entry, url] = process.argv.slice(2);
const { main } = await import(entry);
console.log(JSON.stringify(await main(url)));
`;

writeFileSync(join(project, "consumer.ts"), CONSUMER);
writeFileSync(join(project, "wrong-input.ts"), WRONG_INPUT);
writeFileSync(join(project, "run.mjs"), RUNNER);
const tsconfigs: Record<string, object> = {
  "tsconfig.nodenext.json": {
    extends: "./tsconfig.json",
    include: ["consumer.ts"],
    compilerOptions: { outDir: "out" },
  },
  "tsconfig.bundler.json": {
    extends: "./tsconfig.json",
    include: ["consumer.ts"],
    compilerOptions: { module: "preserve", moduleResolution: "bundler", noEmit: true },
  },
  "tsconfig.wrong-nodenext.json": {
    extends: "./tsconfig.json",
    include: ["wrong-input.ts"],
    compilerOptions: { noEmit: true },
  },
  "tsconfig.wrong-bundler.json": {
    extends: "./tsconfig.json",
    include: ["wrong-input.ts"],
    compilerOptions: { module: "preserve", moduleResolution: "bundler", noEmit: true },
  },
};
for (const [name, config] of Object.entries(tsconfigs))
  writeFileSync(join(project, name), JSON.stringify(config));

describe("the packed tarball", () => {
  const entries = runOk(["tar", "-tzf", tarball], work).trim().split("\n").sort();

  test("holds the built dist/, README, CHANGELOG and package.json only: no source, nothing of the server", () => {
    expect(entries).toEqual([
      "package/CHANGELOG.md",
      "package/README.md",
      "package/dist/index.d.ts",
      "package/dist/index.js",
      "package/dist/oauth.d.ts",
      "package/dist/oauth.js",
      "package/package.json",
    ]);
    const installed = join(project, "node_modules", "@fluxer", "client");
    for (const file of ["dist/index.d.ts", "dist/index.js", "dist/oauth.d.ts", "dist/oauth.js"]) {
      const text = readFileSync(join(installed, file), "utf8");
      expect(text).not.toContain("apps/server");
      expect(text).not.toContain("@fluxer/server");
      const imports = [...text.matchAll(/(?:from\s+|import\()["']([^"']+)["']/g)].map((match) => match[1]);
      // The OAuth entry needs no tRPC: only jose (ID token validation), in the JavaScript alone.
      const allowed = (id: string | undefined) =>
        file === "dist/oauth.js" ? id === "jose" : !file.startsWith("dist/oauth") && id?.startsWith("@trpc/");
      expect(imports.filter((id) => !allowed(id))).toEqual([]);
    }
  });

  test("has a version, no private flag, jose as its only dependency, and @trpc/* peers whose range includes the server's version", () => {
    const manifest = JSON.parse(
      readFileSync(join(project, "node_modules", "@fluxer", "client", "package.json"), "utf8"),
    );
    expect(manifest.version).toBe("0.1.0");
    expect(manifest.private).toBeUndefined();
    // jose verifies id_tokens (OpenID Connect); tRPC is a peer so that the app and the client share one copy.
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(["jose"]);
    const server = JSON.parse(readFileSync(join(REPO_ROOT, "apps", "server", "package.json"), "utf8"));
    for (const peer of ["@trpc/client", "@trpc/server"]) {
      expect(Bun.semver.satisfies(server.dependencies["@trpc/server"], manifest.peerDependencies[peer])).toBe(
        true,
      );
    }
  });
});

describe("a consumer in an empty project outside the repository", () => {
  test("the project lives outside the repository", () => {
    expect(outside).toBe(true);
  });

  test("type-checks under tsc --strict with module nodenext and with module resolution bundler", () => {
    for (const config of ["tsconfig.nodenext.json", "tsconfig.bundler.json"]) {
      const result = run([...tsc, "-p", config, "--listFiles"], project);
      expect({ config, exitCode: result.exitCode, output: result.output }).toMatchObject({ exitCode: 0 });
      const compiled = result.output
        .trim()
        .split("\n")
        .filter((file) => !file.includes("/node_modules/typescript/lib/"));
      // Only the consumer, the client's declarations and the @trpc peers: no server source, no Kysely.
      for (const file of compiled)
        expect(file).toMatch(
          /\/consumer\/(consumer\.ts|node_modules\/(@fluxer\/client\/dist|@trpc\/(client|server))\/)/,
        );
    }
  }, 120_000);

  test("a wrong procedure input makes tsc fail, in both module modes", () => {
    for (const config of ["tsconfig.wrong-nodenext.json", "tsconfig.wrong-bundler.json"]) {
      const result = run([...tsc, "-p", config], project);
      expect(result.exitCode).not.toBe(0);
      expect(result.output).toContain(
        "wrong-input.ts(5,46): error TS2322: Type 'number' is not assignable to type 'string'.",
      );
    }
  }, 120_000);

  test("runs on Node and on Bun against a live server: register, log in, create an application, list it", async () => {
    const nodeMajor = Number(runOk(["node", "--version"], project).trim().replace(/^v/, "").split(".")[0]);
    expect(nodeMajor).toBeGreaterThanOrEqual(20);
    const server = await startTestServer();
    try {
      // The server binds 0.0.0.0 only: never let Node pick ::1 for "localhost".
      const url = `http://127.0.0.1:${server.port}`;
      const runs = [
        ["node", "run.mjs", "./out/consumer.js", url],
        ["bun", "run.mjs", "./consumer.ts", url],
      ];
      for (const cmd of runs) {
        const output = await new Promise<string>((resolve, reject) => {
          // Async: the server answering this child lives in this very process.
          const child = Bun.spawn(cmd, { cwd: project, stdout: "pipe", stderr: "pipe" });
          Promise.all([
            new Response(child.stdout).text(),
            new Response(child.stderr).text(),
            child.exited,
          ]).then(([stdout, stderr, exitCode]) =>
            exitCode === 0
              ? resolve(stdout)
              : reject(new Error(`${cmd.join(" ")}: ${exitCode}\n${stdout}${stderr}`)),
          );
        });
        const result = JSON.parse(output.trim());
        expect(result.listed).toEqual([{ id: result.createdId, name: "Installed from npm" }]);
        expect(result.authorizationUrl).toStartWith(
          `${url}/v1/oauth2/authorize?client_id=${result.createdId}&`,
        );
        expect(result.introspection).toEqual({ active: false });
        expect(result.refused).toBe("invalid_grant");
        const row = await server.deps.db
          .selectFrom("applications")
          .select(["owner_id", "name"])
          .where("id", "=", result.createdId)
          .executeTakeFirstOrThrow();
        expect(row).toEqual({ owner_id: result.userId, name: "Installed from npm" });
      }
    } finally {
      await server.stop();
    }
  }, 120_000);
});
