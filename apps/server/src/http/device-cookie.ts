import type { Deps } from "../deps.ts";
import { DEVICE_COOKIE_TTL_SECONDS, issueDeviceCookie } from "../domain/device-cookies.ts";
import { cookieName, parseCookies, serializeCookie } from "./cookies.ts";
import { isSecureIssuer } from "./page-session.ts";

/** The browser's device cookie (domain/device-cookies.ts): `HttpOnly; SameSite=Lax`, `__Host-` on https. */
const DEVICE_COOKIE = "flx_device";

export function readDeviceCookie(deps: Deps, request: Request): string | null {
  const name = cookieName(DEVICE_COOKIE, { secure: isSecureIssuer(deps.config.issuer) });
  return parseCookies(request.headers.get("cookie")).get(name) ?? null;
}

/** Set-Cookie for a fresh device cookie after a successful sign-in on the page. */
export function deviceCookie(deps: Deps, userId: string): string {
  const secure = isSecureIssuer(deps.config.issuer);
  const value = issueDeviceCookie(deps.keys.deviceCookieKey, { userId, now: deps.clock.now() });
  return serializeCookie(cookieName(DEVICE_COOKIE, { secure }), value, {
    secure,
    maxAgeSeconds: DEVICE_COOKIE_TTL_SECONDS,
  });
}
