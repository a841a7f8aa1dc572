export const SESSION_COOKIE = "flx_session";

/**
 * On https issuers cookies carry the `__Host-` prefix: the browser then accepts them only with Secure,
 * Path=/ and no Domain, so a sibling subdomain cannot plant or overwrite them (session fixation, CSRF
 * cookie injection). Plain http (local development) cannot use the prefix.
 */
export function cookieName(base: string, options: { secure: boolean }): string {
  return options.secure ? `__Host-${base}` : base;
}

export function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

export function readSessionCookie(request: Request, options: { secure: boolean }): string | null {
  return parseCookies(request.headers.get("cookie")).get(cookieName(SESSION_COOKIE, options)) ?? null;
}

export function serializeCookie(
  name: string,
  value: string,
  options: { secure: boolean; maxAgeSeconds: number | null },
): string {
  const parts = [`${name}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax"];
  if (options.maxAgeSeconds !== null) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}
