// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
/**
 * Real server processes for system tests (multi-process, crash recovery): `bun apps/server/src/index.ts`
 * spawned with its own environment, on a scratch PostgreSQL database of its own.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { sql } from "kysely";
import { postgresDatabase } from "../../src/db/database.ts";
import { computeS256Challenge } from "../../src/oauth/pkce.ts";
import { TEST_SECRET_KEY } from "./harness.ts";
import { basicAuth, VERIFIER } from "./oauth-flow.ts";
import { TEST_LOG_FILE } from "./test-log.ts";

const ENTRY = join(import.meta.dir, "..", "..", "src", "index.ts");
const REPO_ROOT = join(import.meta.dir, "..", "..", "..", "..");

export interface ProcessExit {
  exitCode: number | null;
  signalCode: string | null;
}

export interface ServerProcess {
  /** `http://127.0.0.1:<port>` (the server binds 0.0.0.0 only, so never let `localhost` pick ::1). */
  readonly url: string;
  readonly pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<ProcessExit>;
  readonly exited: Promise<ProcessExit>;
}

/**
 * Spawns a server, reads the `server listening` log line for its real port and waits for /readyz.
 * Its output also goes to the test log, so the post-suite secret scan covers real processes too.
 */
export async function startServerProcess(
  env: Record<string, string>,
  options: { timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn(["bun", ENTRY], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: "0",
      LOG_LEVEL: "info",
      RATE_LIMITS: "off",
      SECRET_KEY: TEST_SECRET_KEY,
      ...env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const chunks: string[] = [];
  let resolveUrl: (url: string) => void = () => {};
  const listening = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });

  const pump = async (stream: ReadableStream<Uint8Array>, stdout: boolean) => {
    const decoder = new TextDecoder();
    let pending = "";
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        chunks.push(`${line}\n`);
        appendFileSync(TEST_LOG_FILE, `${line}\n`);
        if (stdout && line.includes('"msg":"server listening"')) {
          try {
            resolveUrl(JSON.parse(line).url);
          } catch {}
        }
        newline = pending.indexOf("\n");
      }
    }
    if (pending) {
      chunks.push(pending);
      appendFileSync(TEST_LOG_FILE, `${pending}\n`);
    }
  };
  const pumps = Promise.all([pump(proc.stdout, true), pump(proc.stderr, false)]);
  const exited: Promise<ProcessExit> = proc.exited.then(async () => {
    await pumps.catch(() => {});
    return { exitCode: proc.exitCode, signalCode: proc.signalCode === null ? null : String(proc.signalCode) };
  });
  const output = () => chunks.join("");

  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms`)), timeoutMs);
  });
  const died = exited.then((exit) => {
    throw new Error(`server exited before it was ready (${JSON.stringify(exit)})`);
  });
  try {
    const announced = await Promise.race([listening, died, timeout]);
    const url = announced.replace("://localhost:", "://127.0.0.1:");
    const ready = (async () => {
      for (;;) {
        const status = await fetch(`${url}/readyz`).then(
          (res) => res.status,
          () => 0,
        );
        if (status === 200) return;
        await Bun.sleep(50);
      }
    })();
    await Promise.race([ready, died, timeout]);
    return {
      url,
      pid: proc.pid,
      output,
      exited,
      kill: async (signal = "SIGTERM") => {
        proc.kill(signal);
        return exited;
      },
    };
  } catch (error) {
    proc.kill("SIGKILL");
    await exited;
    throw new Error(`${(error as Error).message}\n--- server output ---\n${output()}`);
  } finally {
    clearTimeout(timer);
  }
}

export interface ScratchDatabase {
  /** URL of the new database (same server and credentials as DATABASE_URL). */
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** A fresh, empty database next to DATABASE_URL's: spawned servers migrate it themselves. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error("createScratchDatabase needs DATABASE_URL");
  const name = `fluxer_${crypto.randomUUID().replaceAll("-", "")}`;
  const admin = postgresDatabase(adminUrl, { max: 1 });
  try {
    await sql`create database ${sql.id(name)}`.execute(admin.db);
  } finally {
    await admin.close();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const handle = postgresDatabase(adminUrl, { max: 1 });
      try {
        await sql`drop database if exists ${sql.id(name)} with (force)`.execute(handle.db);
      } finally {
        await handle.close();
      }
    },
  };
}

export interface WireResponse {
  status: number;
  body: any;
  headers: Headers;
}

async function wire(response: Response): Promise<WireResponse> {
  const text = await response.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}
  return { status: response.status, body, headers: response.headers };
}

export interface OAuthClient {
  id: string;
  secret: string;
  redirectUri: string;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
}

/** POST a form to an OAuth endpoint of `baseUrl` with client_secret_basic. */
export async function clientForm(
  baseUrl: string,
  client: OAuthClient,
  path: string,
  form: Record<string, string>,
): Promise<WireResponse> {
  return wire(
    await fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basicAuth(client.id, client.secret),
      },
      body: new URLSearchParams(form).toString(),
    }),
  );
}

export function refreshAt(baseUrl: string, client: OAuthClient, refreshToken: string) {
  return clientForm(baseUrl, client, "/v1/oauth2/token", {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
  });
}

export async function userinfoAt(baseUrl: string, accessToken: string): Promise<WireResponse> {
  return wire(
    await fetch(`${baseUrl}/v1/oauth2/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } }),
  );
}

/** The JSON consent route (SPEC §7.1) with a PKCE S256 challenge; returns the raw response. */
export async function consentAt(
  baseUrl: string,
  sessionToken: string,
  client: OAuthClient,
): Promise<WireResponse> {
  return wire(
    await fetch(`${baseUrl}/v1/oauth2/authorize/consent`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: sessionToken },
      body: JSON.stringify({
        client_id: client.id,
        redirect_uri: client.redirectUri,
        response_type: "code",
        scope: "identify email",
        code_challenge: computeS256Challenge(VERIFIER),
        code_challenge_method: "S256",
      }),
    }),
  );
}

/** A new token family: consent on `baseUrl`, then the code exchange. */
export async function issueTokensAt(
  baseUrl: string,
  sessionToken: string,
  client: OAuthClient,
): Promise<TokenPair> {
  const consent = await consentAt(baseUrl, sessionToken, client);
  if (consent.status !== 200)
    throw new Error(`consent failed: ${consent.status} ${JSON.stringify(consent.body)}`);
  const code = new URL(consent.body.redirect_to).searchParams.get("code");
  if (!code) throw new Error(`no code in ${consent.body.redirect_to}`);
  const exchange = await clientForm(baseUrl, client, "/v1/oauth2/token", {
    grant_type: "authorization_code",
    code,
    redirect_uri: client.redirectUri,
    code_verifier: VERIFIER,
  });
  if (exchange.status !== 200)
    throw new Error(`exchange failed: ${exchange.status} ${JSON.stringify(exchange.body)}`);
  return exchange.body;
}
