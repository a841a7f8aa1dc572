import type { ApiCode, FieldIssue } from "../domain/errors.ts";
import { API_ERRORS } from "../domain/errors.ts";

/** The REST error envelope (SPEC §3.2). */
export function apiErrorResponse(
  code: ApiCode,
  message: string,
  options: { errors?: FieldIssue[]; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
): Response {
  const body: Record<string, unknown> = { code, message, ...options.extra };
  if (options.errors) body.errors = options.errors;
  return Response.json(body, { status: API_ERRORS[code], headers: options.headers });
}

/** Locations may carry a code or follow a sign-in: keep them out of caches. */
export function redirectResponse(
  location: string,
  status: 302 | 303,
  options: { setCookie?: string | string[] } = {},
): Response {
  const headers = new Headers({ Location: location, "Cache-Control": "no-store" });
  for (const cookie of [options.setCookie ?? []].flat()) headers.append("Set-Cookie", cookie);
  return new Response(null, { status, headers });
}

export const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
};
