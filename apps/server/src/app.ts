import { Elysia } from "elysia";
import type { Deps } from "./deps.ts";
import { isApiError } from "./domain/errors.ts";
import { authorizeRoutes } from "./http/authorize.ts";
import { currentApplicationRoutes } from "./http/current-application.ts";
import { healthRoutes } from "./http/health.ts";
import { iconRoutes } from "./http/icons.ts";
import { metadataRoutes } from "./http/metadata.ts";
import { pagesRoutes } from "./http/pages.ts";
import { resourceRoutes } from "./http/resources.ts";
import { apiErrorResponse, SECURITY_HEADERS } from "./http/responses.ts";
import { tokenRoutes } from "./http/token.ts";
import { trpcRoutes } from "./http/trpc.ts";

/** Composes the HTTP surface from explicit dependencies; tests call this directly. */
export function createApp(deps: Deps) {
  return new Elysia({ serve: { maxRequestBodySize: 4 * 1024 * 1024 } })
    .onRequest(({ set }) => {
      Object.assign(set.headers, SECURITY_HEADERS);
    })
    .onError(({ code, error }) => {
      if (isApiError(error)) return apiErrorResponse(error.code, error.message, { errors: error.errors });
      switch (code) {
        case "NOT_FOUND":
          return apiErrorResponse("NOT_FOUND", "Not found");
        case "PARSE":
        case "VALIDATION":
          return apiErrorResponse("INVALID_FORM_BODY", "Malformed request");
        default:
          deps.log.error("unhandled error", { error });
          return apiErrorResponse("INTERNAL_ERROR", "Internal server error");
      }
    })
    .use(healthRoutes(deps))
    .use(trpcRoutes(deps))
    .use(metadataRoutes(deps))
    .use(authorizeRoutes(deps))
    .use(tokenRoutes(deps))
    .use(resourceRoutes(deps))
    .use(currentApplicationRoutes(deps))
    .use(iconRoutes(deps))
    .use(pagesRoutes(deps));
}

export type App = ReturnType<typeof createApp>;
