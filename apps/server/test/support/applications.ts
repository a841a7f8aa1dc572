// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import type { TestApp } from "./harness.ts";
import { trpcHttp } from "./trpc-http.ts";

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

/** tRPC over HTTP with a session token: the wire a frontend uses. */
export function mutate(t: TestApp, path: string, token: string | undefined, input: unknown) {
  return trpcHttp(t, `applications.${path}`, { token, input });
}

export function query(t: TestApp, path: string, token: string | undefined, input?: unknown) {
  return trpcHttp(t, `applications.${path}`, { token, input, query: true });
}

export async function createApplicationOk(t: TestApp, token: string, input: Record<string, unknown> = {}) {
  const res = await mutate(t, "create", token, { name: "My App", ...input });
  if (res.status !== 200) throw new Error(`create failed: ${JSON.stringify(res.body)}`);
  return res.body.result.data as any;
}
