import { Elysia } from "elysia";
import type { Deps } from "./deps.ts";
import { isApiError } from "./domain/errors.ts";
import { authorizeRoutes } from "./http/authorize.ts";
import { currentApplicationRoutes } from "./http/current-application.ts";
import { faviconRoutes } from "./http/favicon.ts";
import { healthRoutes } from "./http/health.ts";
import { notFoundPage, prefersHtml } from "./http/html.ts";
import { iconRoutes } from "./http/icons.ts";
import { metadataRoutes } from "./http/metadata.ts";
import { oidcRoutes } from "./http/oidc.ts";
import { openApiRoutes } from "./http/openapi.ts";
import { pagesRoutes } from "./http/pages.ts";
import { retryLaterResponse } from "./http/rate-limit.ts";
import { requestMetrics } from "./http/request-metrics.ts";
import { resourceRoutes } from "./http/resources.ts";
import { apiErrorResponse, SECURITY_HEADERS } from "./http/responses.ts";
import { tokenRoutes } from "./http/token.ts";
import { trpcRoutes } from "./http/trpc.ts";
import { webAppRoutes } from "./http/web-app.ts";
import { RateLimitedError } from "./rate-limit/rate-limited-error.ts";

const startedAt = new WeakMap<Request, number>();

/** A caller-supplied request id is kept only if it is short and plain; otherwise we mint one. */
function requestIdOf(request: Request): string {
  const given = request.headers.get("x-request-id");
  return given && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : crypto.randomUUID();
}

function errorResponse(code: string | number, error: unknown, request: Request, deps: Deps): Response {
  if (error instanceof RateLimitedError) return retryLaterResponse(error.retryAfterSeconds);
  if (isApiError(error)) return apiErrorResponse(error.code, error.message, { errors: error.errors });
  switch (code) {
    case "NOT_FOUND":
      // No route matched: a person in a browser gets a page, an API client the REST envelope.
      return prefersHtml(request) ? notFoundPage(request) : apiErrorResponse("NOT_FOUND", "Not found");
    case "PARSE":
    case "VALIDATION":
      return apiErrorResponse("INVALID_FORM_BODY", "Malformed request");
    default:
      deps.log.error("unhandled error", { error });
      return apiErrorResponse("INTERNAL_ERROR", "Internal server error");
  }
}

/** Composes the HTTP surface from explicit dependencies; tests call this directly. */
export function createApp(deps: Deps) {
  // On an https issuer browsers are told never to use plain http for it again (RFC 6797).
  const securityHeaders = deps.config.issuer.startsWith("https:")
    ? { ...SECURITY_HEADERS, "Strict-Transport-Security": "max-age=63072000" }
    : SECURITY_HEADERS;
  return new Elysia({ serve: { maxRequestBodySize: 4 * 1024 * 1024 } })
    .onRequest(({ request, set }) => {
      Object.assign(set.headers, securityHeaders);
      set.headers["X-Request-Id"] = requestIdOf(request);
      startedAt.set(request, performance.now());
    })
    .onAfterResponse({ as: "global" }, ({ request, set, responseValue }) => {
      if (!deps.log.enabled("info")) return;
      // Path only: query strings carry codes and tokens, which never reach the log.
      const started = startedAt.get(request);
      deps.log.info("request", {
        request_id: set.headers["X-Request-Id"],
        method: request.method,
        path: new URL(request.url).pathname,
        status: responseValue instanceof Response ? responseValue.status : set.status,
        duration_ms: started === undefined ? null : Math.round((performance.now() - started) * 100) / 100,
      });
    })
    .onError(({ code, error, request, set }) => {
      const response = errorResponse(code, error, request, deps);
      set.status = response.status; // so the access log sees the real status
      return response;
    })
    .use(requestMetrics(deps.metrics))
    .use(healthRoutes(deps))
    .use(trpcRoutes(deps))
    .use(metadataRoutes(deps))
    .use(oidcRoutes(deps))
    .use(openApiRoutes(deps))
    .use(authorizeRoutes(deps))
    .use(tokenRoutes(deps))
    .use(resourceRoutes(deps))
    .use(currentApplicationRoutes(deps))
    .use(iconRoutes(deps))
    .use(faviconRoutes())
    .use(webAppRoutes(deps))
    .use(pagesRoutes(deps));
}

export type App = ReturnType<typeof createApp>;
