// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import { TRPCClientError } from "@trpc/client";
import { createClient } from "../../../../packages/client/src/index.ts";
import { TEST_ISSUER, type TestApp } from "./harness.ts";

/** A real 1×1 PNG and GIF, so "byte-identical" means something. */
export const PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
export const GIF_BASE64 = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

export async function countRows(
  t: TestApp,
  table: "applications" | "users" | "audit_events",
): Promise<number> {
  const row = await t.deps.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function applicationRow(t: TestApp, id: string) {
  return t.deps.db.selectFrom("applications").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * The typed client (`packages/client`) wired to the in-process app: the same wire and error objects a
 * frontend gets, without a socket. Results come back as `{status, body}` in tRPC's wire shape so tests
 * can assert the HTTP status and `error.data.apiCode` alike.
 */
async function callTyped(
  t: TestApp,
  kind: "query" | "mutate",
  path: string,
  token: string | undefined,
  input: unknown,
): Promise<{ status: number; body: any }> {
  const client = createClient({
    url: TEST_ISSUER,
    token,
    fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
      t.app.handle(new Request(input, init))) as typeof fetch,
  });
  // Inputs are deliberately untyped here: tests send wrong types on purpose to check validation.
  const procedure = (client.applications as any)[path];
  try {
    const data = await procedure[kind](input);
    return { status: 200, body: { result: { data } } };
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return {
      status: error.data?.httpStatus ?? 0,
      body: { error: { message: error.message, data: error.data } },
    };
  }
}

export function mutate(t: TestApp, path: string, token: string | undefined, input: unknown) {
  return callTyped(t, "mutate", path, token, input);
}

export function query(t: TestApp, path: string, token: string | undefined, input?: unknown) {
  return callTyped(t, "query", path, token, input);
}

export async function createApplicationOk(t: TestApp, token: string, input: Record<string, unknown> = {}) {
  const res = await mutate(t, "create", token, { name: "My App", ...input });
  if (res.status !== 200) throw new Error(`create failed: ${JSON.stringify(res.body)}`);
  return res.body.result.data as any;
}
