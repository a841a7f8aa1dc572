import type { UserRow } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { type Session, validateSessionToken } from "../domain/sessions.ts";
import { cookieName, readSessionCookie, SESSION_COOKIE, serializeCookie } from "./cookies.ts";

export interface PageSession {
  token: string;
  session: Session;
  user: UserRow;
}

/** The signed-in user of a page request, from the HttpOnly session cookie. */
export async function readPageSession(deps: Deps, request: Request): Promise<PageSession | null> {
  const token = readSessionCookie(request, { secure: isSecureIssuer(deps.config.issuer) });
  if (!token) return null;
  const found = await validateSessionToken(deps.db, token, deps.clock.now());
  return found ? { token, ...found } : null;
}

export function isSecureIssuer(issuer: string): boolean {
  return issuer.startsWith("https:");
}

/** `HttpOnly; SameSite=Lax; Path=/` (+ `Secure` on https issuers), living as long as the session. */
export function sessionCookie(deps: Deps, token: string): string {
  const secure = isSecureIssuer(deps.config.issuer);
  return serializeCookie(cookieName(SESSION_COOKIE, { secure }), token, {
    secure,
    maxAgeSeconds: deps.config.sessionTtlSeconds,
  });
}

export function clearSessionCookie(deps: Deps): string {
  const secure = isSecureIssuer(deps.config.issuer);
  return serializeCookie(cookieName(SESSION_COOKIE, { secure }), "", { secure, maxAgeSeconds: 0 });
}

/**
 * Where to go after signing in: a same-origin path only (one leading '/', not '//' or '/\', no
 * control characters or backslashes, which browsers may read as '/'); anything else is ignored.
 */
export function safeReturnTo(value: string | null | undefined): string | null {
  if (!value || value.length > 4096) return null;
  if (!value.startsWith("/") || value.startsWith("//")) return null;
  // Printable ASCII only, no backslash: a Location header cannot carry anything else (non-Latin-1 would
  // throw after the session is written), and look-alike slashes or controls never reach a browser.
  if (!/^\/[\x21-\x5b\x5d-\x7e]*$/.test(value)) return null;
  return value;
}
