import { constantTimeEqual, generateToken, hashToken, hasTokenShape } from "../crypto.ts";
import { cookieName, parseCookies, serializeCookie } from "./cookies.ts";

/**
 * Two CSRF defences for every form POST:
 * 1. The request must not come from another site: `Origin` (when sent) equals the issuer's origin,
 *    else `Sec-Fetch-Site` (when sent) is `same-origin`. Browsers send at least one on form POSTs.
 * 2. A token in the form that an attacker cannot read or compute:
 *    - signed in: derived from the session token (SHA-256 with a purpose prefix), so it is bound to
 *      the session, needs no server state and works across processes;
 *    - signed out (sign-in, sign-up): a random double-submit cookie, compared in constant time.
 */
export const PRE_SESSION_CSRF_COOKIE = "flx_csrf";

export function isSameOriginRequest(request: Request, issuer: string): boolean {
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  // Our own pages send `Referrer-Policy: no-referrer`, under which browsers send `Origin: null` even
  // for same-origin form POSTs (Fetch §3.2.5); then only Sec-Fetch-Site can vouch for the request.
  if (origin === "null") return site === "same-origin";
  if (origin !== null) return origin === new URL(issuer).origin;
  if (site !== null) return site === "same-origin";
  // Neither header: not a modern browser's cross-site form; the token check still applies.
  return true;
}

export function sessionCsrfToken(sessionToken: string): string {
  return hashToken(`csrf:${sessionToken}`);
}

export function verifySessionCsrfToken(sessionToken: string, submitted: string | null): boolean {
  return submitted !== null && constantTimeEqual(sessionCsrfToken(sessionToken), submitted);
}

/** The pre-session token from the cookie, or a fresh one with the Set-Cookie that stores it. */
export function preSessionCsrfToken(
  request: Request,
  options: { secure: boolean },
): { token: string; setCookie: string | null } {
  const name = cookieName(PRE_SESSION_CSRF_COOKIE, options);
  const existing = parseCookies(request.headers.get("cookie")).get(name);
  if (existing && hasTokenShape(existing)) return { token: existing, setCookie: null };
  const token = generateToken();
  return {
    token,
    setCookie: serializeCookie(name, token, {
      secure: options.secure,
      maxAgeSeconds: null,
    }),
  };
}

export function verifyPreSessionCsrfToken(
  request: Request,
  submitted: string | null,
  options: { secure: boolean },
): boolean {
  const cookie = parseCookies(request.headers.get("cookie")).get(
    cookieName(PRE_SESSION_CSRF_COOKIE, options),
  );
  return !!cookie && submitted !== null && constantTimeEqual(cookie, submitted);
}
