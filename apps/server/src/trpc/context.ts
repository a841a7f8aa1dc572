import type { UserRow } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { type Session, validateSessionToken } from "../domain/sessions.ts";
import { readSessionCookie } from "../http/cookies.ts";
import { readDeviceCookie } from "../http/device-cookie.ts";
import { sessionTokenFromHeader } from "../http/session-token.ts";

export interface Context extends Deps {
  user: UserRow | null;
  session: Session | null;
  /** Client address as the rate limiter sees it (honours TRUSTED_PROXIES). */
  ip: string;
  /** The browser's device cookie (sign-in throttling), from same-origin calls only. */
  deviceCookie: string | null;
}

/**
 * `Authorization: flx_…` or `Bearer flx_…`; else the page cookie, only for same-origin requests.
 * Stricter than the form CSRF check (`isSameOriginRequest`): tRPC calls carry no CSRF token, so the
 * cookie counts only when the browser vouches for the origin (`Origin`, else `Sec-Fetch-Site`), never
 * for a request that sends neither header.
 */
function sessionTokenFrom(request: Request, issuer: string): string | null {
  // An empty Authorization header counts as absent: the cookie may still apply.
  if (request.headers.get("authorization")) return sessionTokenFromHeader(request);
  const cookie = readSessionCookie(request, { secure: issuer.startsWith("https:") });
  return cookie && isSameOriginCall(request, issuer) ? cookie : null;
}

function isSameOriginCall(request: Request, issuer: string): boolean {
  const origin = request.headers.get("origin");
  const fetchSite = request.headers.get("sec-fetch-site");
  return origin ? origin === new URL(issuer).origin : fetchSite === "same-origin";
}

export async function createContext(deps: Deps, request: Request, ip: string): Promise<Context> {
  const token = sessionTokenFrom(request, deps.config.issuer);
  const found = token ? await validateSessionToken(deps.db, token, deps.clock.now()) : null;
  // The device cookie only eases sign-in throttling, under the same same-origin rule as the session cookie.
  const deviceCookie = isSameOriginCall(request, deps.config.issuer) ? readDeviceCookie(deps, request) : null;
  return { ...deps, user: found?.user ?? null, session: found?.session ?? null, ip, deviceCookie };
}
