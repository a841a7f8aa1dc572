import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/unstable-core-do-not-import";
import { ZodError, z } from "zod";
import { type ApiCode, ApiError } from "../domain/errors.ts";
import { RateLimitedError } from "../rate-limit/rate-limited-error.ts";
import type { Context } from "./context.ts";

const STATUS_TO_TRPC: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "TOO_MANY_REQUESTS",
};

const TRPC_TO_API: Partial<Record<TRPC_ERROR_CODE_KEY, ApiCode>> = {
  PARSE_ERROR: "INVALID_FORM_BODY",
  BAD_REQUEST: "INVALID_FORM_BODY",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "ACCESS_DENIED",
  NOT_FOUND: "NOT_FOUND",
  METHOD_NOT_SUPPORTED: "METHOD_NOT_ALLOWED",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  TOO_MANY_REQUESTS: "RATE_LIMITED",
};

/** `z.flattenError` of the input's issues, spelled out: the client's published types carry it. */
export interface ZodIssues {
  formErrors: string[];
  fieldErrors: Record<string, string[] | undefined>;
}

function apiCodeOf(error: TRPCError): ApiCode {
  if (error.cause instanceof ApiError) return error.cause.code;
  return TRPC_TO_API[error.code] ?? "INTERNAL_ERROR";
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? error.cause : null;
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    return {
      ...shape,
      // Internal details stay in the log; the client gets a stable code and a generic message.
      message: internal ? "Internal server error" : shape.message,
      data: {
        ...shape.data,
        stack: undefined,
        apiCode: apiCodeOf(error),
        zodIssues: zodError ? (z.flattenError(zodError) as ZodIssues) : null,
        retry_after: error.cause instanceof RateLimitedError ? error.cause.retryAfterSeconds : null,
      },
    };
  },
});

/** Domain code throws ApiError; here it becomes the tRPC error with the matching HTTP status. */
const translateApiErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof ApiError) {
    const cause = result.error.cause;
    throw new TRPCError({
      code: STATUS_TO_TRPC[cause.status] ?? "INTERNAL_SERVER_ERROR",
      message: cause.message,
      cause,
    });
  }
  return result;
});

/** True when any string in a JSON value (keys included) contains U+0000, which PostgreSQL text refuses. */
function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (depth > 32 || value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some((item) => containsNul(item, depth + 1));
  return Object.entries(value).some(([key, item]) => key.includes("\u0000") || containsNul(item, depth + 1));
}

/** Bad input is a clear 400, never a database error: NUL characters are refused before any procedure. */
const rejectNulCharacters = t.middleware(async ({ getRawInput, next }) => {
  if (containsNul(await getRawInput())) {
    const cause = new ApiError("INVALID_FORM_BODY", "Strings must not contain NUL characters");
    throw new TRPCError({ code: "BAD_REQUEST", message: cause.message, cause });
  }
  return next();
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(translateApiErrors).use(rejectNulCharacters);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user || !ctx.session) {
    throw new TRPCError({
      code: "UNAUTHORIZED",
      message: "Missing or invalid session token",
      cause: new ApiError("UNAUTHORIZED", "Missing or invalid session token"),
    });
  }
  return next({ ctx: { ...ctx, user: ctx.user, session: ctx.session } });
});
