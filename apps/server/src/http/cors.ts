/**
 * CORS for `/trpc` (SPEC §15): browsers on the origins of `CORS_ORIGINS` may call the API with the
 * session token in `Authorization`. Credentials are never allowed (no
 * `Access-Control-Allow-Credentials`): a cross-origin request never rides on the page cookie, and the
 * context ignores that cookie for any foreign `Origin` anyway. Without `CORS_ORIGINS` nothing is added.
 */

export const TRPC_METHODS = "GET, POST, OPTIONS";

/** tRPC's httpLink sends `Content-Type` (mutations); the token travels in `Authorization`. */
const ALLOWED_HEADERS = "Authorization, Content-Type, trpc-accept";
const ALLOWED_METHODS = new Set(["GET", "POST"]);
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export interface TrpcCors {
  /** Headers for an actual (non-preflight) response. */
  responseHeaders(request: Request): Record<string, string>;
  /** The answer to `OPTIONS`: always 204; CORS headers only for an allowed origin and method. */
  preflight(request: Request): Response;
}

export function trpcCors(allowedOrigins: readonly string[]): TrpcCors {
  const allowed = new Set(allowedOrigins);
  const enabled = allowed.size > 0;
  const allowedOrigin = (request: Request): string | null => {
    const origin = request.headers.get("origin");
    return origin !== null && allowed.has(origin) ? origin : null;
  };
  return {
    responseHeaders(request): Record<string, string> {
      if (!enabled) return {};
      const origin = allowedOrigin(request);
      // The answer depends on Origin whenever CORS is on: caches must key on it.
      if (origin === null) return { Vary: "Origin" };
      return {
        Vary: "Origin",
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": "Retry-After, X-Request-Id",
      };
    },
    preflight(request) {
      const headers = new Headers({ Allow: TRPC_METHODS });
      const origin = enabled ? allowedOrigin(request) : null;
      const method = request.headers.get("access-control-request-method");
      if (enabled)
        headers.set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
      if (origin !== null && method !== null && ALLOWED_METHODS.has(method)) {
        headers.set("Access-Control-Allow-Origin", origin);
        headers.set("Access-Control-Allow-Methods", "GET, POST");
        headers.set("Access-Control-Allow-Headers", ALLOWED_HEADERS);
        headers.set("Access-Control-Max-Age", String(PREFLIGHT_MAX_AGE_SECONDS));
      }
      return new Response(null, { status: 204, headers });
    },
  };
}
