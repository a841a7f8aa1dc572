import { Elysia } from "elysia";
import type { Metrics } from "../metrics.ts";

const startedAt = new WeakMap<Request, number>();
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Times every request and observes it under its route *pattern* (`/icons/:applicationId/:iconHash`),
 * never the raw path: ids and hashes would make the label set unbounded. Unmatched paths share one
 * label.
 */
export function requestMetrics(metrics: Metrics) {
  return new Elysia({ name: "request-metrics" })
    .onRequest(({ request }) => {
      startedAt.set(request, performance.now());
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
      const started = startedAt.get(request);
      if (started === undefined) return;
      const status = responseValue instanceof Response ? responseValue.status : Number(set.status ?? 200);
      metrics.httpRequestDuration.observe(
        {
          method: METHODS.has(request.method) ? request.method : "other",
          route: route || "unmatched",
          status: String(status),
        },
        (performance.now() - started) / 1000,
      );
    });
}
