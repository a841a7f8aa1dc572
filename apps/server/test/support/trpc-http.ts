// biome-ignore-all lint/suspicious/noExplicitAny: tests read arbitrary JSON wire bodies
import type { TestApp } from "./harness.ts";

/** A raw tRPC HTTP call (httpLink wire format), for tests about the wire itself. */
export async function trpcHttp(
  t: TestApp,
  path: string,
  options: { input?: unknown; token?: string; body?: string; contentType?: string; query?: boolean } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { "content-type": options.contentType ?? "application/json" };
  if (options.token) headers.authorization = options.token;
  const response = options.query
    ? await t.request(`/trpc/${path}?input=${encodeURIComponent(JSON.stringify(options.input ?? null))}`, {
        headers,
      })
    : await t.request(`/trpc/${path}`, {
        method: "POST",
        headers,
        body: options.body ?? JSON.stringify(options.input ?? null),
      });
  return { status: response.status, body: await response.json() };
}
