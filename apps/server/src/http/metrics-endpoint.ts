import type { Server } from "bun";
import { collectProcessMetrics, type Metrics } from "../metrics.ts";

/**
 * `GET /metrics` (Prometheus text format) on a listener of its own, so the scrape port can stay
 * inside the cluster while the OAuth port faces the internet. Nothing else is served there.
 */
export function serveMetrics(
  metrics: Metrics,
  options: { port: number; hostname?: string },
): Server<undefined> {
  collectProcessMetrics(metrics);
  return Bun.serve({
    port: options.port,
    hostname: options.hostname,
    fetch: async (request) => {
      const { pathname } = new URL(request.url);
      if (pathname !== "/metrics") return new Response("Not found\n", { status: 404 });
      if (request.method !== "GET" && request.method !== "HEAD")
        return new Response("Method not allowed\n", { status: 405, headers: { Allow: "GET, HEAD" } });
      return new Response(await metrics.registry.metrics(), {
        headers: { "Content-Type": metrics.registry.contentType, "Cache-Control": "no-store" },
      });
    },
  });
}
