import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getErrorShape } from "@trpc/server/unstable-core-do-not-import";
import type { Server } from "bun";
import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { createContext } from "../trpc/context.ts";
import { rateLimitResponseMeta } from "../trpc/rate-limit.ts";
import { appRouter } from "../trpc/router.ts";
import {
  BodyAbortedError,
  BodyTooLargeError,
  decodeUtf8,
  InvalidEncodingError,
  readBodyBytes,
  TRPC_BODY_LIMIT,
} from "./body.ts";
import { clientIp } from "./client-ip.ts";
import { TRPC_METHODS, trpcCors } from "./cors.ts";
import { apiErrorResponse } from "./responses.ts";

const MAX_BATCH_SIZE = 10;

/** A method tRPC has no meaning for (PUT, DELETE…): a tRPC error saying so, not a content-type error. */
function methodNotAllowed(request: Request): Response {
  const error = new TRPCError({
    code: "METHOD_NOT_SUPPORTED",
    message: `Unsupported ${request.method}-request: /trpc answers GET for queries and POST for mutations`,
  });
  const path = new URL(request.url).pathname.slice("/trpc/".length);
  const shape = getErrorShape({
    config: appRouter._def._config,
    error,
    type: "unknown",
    path,
    input: undefined,
    ctx: undefined,
  });
  return Response.json({ error: shape }, { status: 405, headers: { Allow: TRPC_METHODS } });
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) {
    if (name === "Vary") response.headers.append(name, value);
    else response.headers.set(name, value);
  }
  return response;
}

/** tRPC's own fetch adapter (the Elysia tRPC plugin bundles tRPC 10: STACK.md pitfall 1). */
export function trpcRoutes(deps: Deps) {
  const cors = trpcCors(deps.config.corsOrigins);
  return new Elysia({ name: "trpc" }).all(
    "/trpc/*",
    async ({ request, server }) => {
      if (request.method === "OPTIONS") return cors.preflight(request);
      return withHeaders(await handle(request, server), cors.responseHeaders(request));
    },
    { parse: "none" },
  );

  async function handle(request: Request, server: Server<unknown> | null): Promise<Response> {
    if (!["GET", "HEAD", "POST"].includes(request.method)) return methodNotAllowed(request);
    let req = request;
    if (request.method !== "GET" && request.method !== "HEAD") {
      try {
        const body = await readBodyBytes(request, TRPC_BODY_LIMIT);
        decodeUtf8(body); // tRPC would decode leniently, turning invalid bytes into U+FFFD
        req = new Request(request.url, { method: request.method, headers: request.headers, body });
        // An input-less mutation arrives with no body; @trpc/server 11.22.1 calls req.json() on it
        // anyway, which throws. No body means no input.
        if (body.length === 0) Object.defineProperty(req, "json", { value: async () => undefined });
      } catch (error) {
        if (error instanceof BodyTooLargeError)
          return apiErrorResponse("PAYLOAD_TOO_LARGE", "Request body too large");
        if (error instanceof InvalidEncodingError)
          return apiErrorResponse("INVALID_FORM_BODY", "The body is not valid UTF-8");
        if (error instanceof BodyAbortedError) {
          deps.log.debug("request body incomplete", { path: new URL(request.url).pathname });
          return apiErrorResponse("INVALID_FORM_BODY", "The body arrived incomplete");
        }
        throw error;
      }
    }
    return fetchRequestHandler({
      endpoint: "/trpc",
      req,
      router: appRouter,
      createContext: () => createContext(deps, req, clientIp(request, server, deps.config)),
      responseMeta: rateLimitResponseMeta,
      // Batches are bounded so one request cannot fan out into thousands of calls (argon2 logins).
      maxBatchSize: MAX_BATCH_SIZE,
      onError: ({ error, path }) => {
        if (error.code === "INTERNAL_SERVER_ERROR") deps.log.error("trpc procedure failed", { path, error });
      },
    });
  }
}
