const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A URL written out in full (`scheme://…`), or null; registered strings are compared raw, so no leniency. */
export function parseAbsoluteUrl(value: string): URL | null {
  // URL() would silently trim whitespace and accept "https:host"; registered strings are compared raw.
  const hasControl = [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (hasControl || /\s/.test(value) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return null;
  return URL.canParse(value) ? new URL(value) : null;
}

/** SPEC §5: https, or http only on loopback; absolute; no fragment; no custom schemes. */
export function isAllowedRedirectUri(value: string): boolean {
  const url = parseAbsoluteUrl(value);
  if (!url || value.includes("#") || url.hostname === "") return false;
  if (url.protocol === "https:") return true;
  return (
    url.protocol === "http:" && (LOOPBACK_HOSTS.has(url.hostname) || url.hostname.endsWith(".localhost"))
  );
}

/**
 * `http://` + a loopback host named in SPEC §7.1, and the optional port after it; the lookahead keeps
 * `http://localhost.example` and `http://127.0.0.1:80@example.com` out.
 */
const LOOPBACK_AUTHORITY = /^(http:\/\/(?:127\.0\.0\.1|\[::1\]|localhost))(?::\d{1,5})?(?=[/?]|$)/;

/** The raw string without the port of its loopback authority; null when it is no http loopback URI. */
function withoutLoopbackPort(uri: string): string | null {
  const match = LOOPBACK_AUTHORITY.exec(uri);
  return match?.[1] === undefined ? null : match[1] + uri.slice(match[0].length);
}

/**
 * The redirect URI an authorization request may use, or null (SPEC §7.1): a registered string,
 * exactly; or, for a registered `http` loopback URI, the same string on any port (RFC 8252 §7.3,
 * RFC 9700 §4.1.3: native apps listen on an ephemeral port). The URI actually presented is returned:
 * the code is bound to it and the token request must repeat it exactly.
 */
export function matchRedirectUri(registered: readonly string[], presented: string): string | null {
  if (registered.includes(presented)) return presented;
  const portless = withoutLoopbackPort(presented);
  if (portless === null || presented.includes("#") || parseAbsoluteUrl(presented) === null) return null;
  return registered.some((uri) => withoutLoopbackPort(uri) === portless) ? presented : null;
}

/**
 * Whether a browser `Origin` is the origin of one of these redirect URIs: the origin a client's own
 * pages run on (SPEC §7.2). A registered http loopback URI stands for its host on any port, as at the
 * authorization endpoint.
 */
export function isRedirectOrigin(registered: readonly string[], origin: string): boolean {
  const presented = parseAbsoluteUrl(origin);
  if (presented === null || presented.origin !== origin) return false;
  return registered.some((uri) => {
    const url = parseAbsoluteUrl(uri);
    if (url === null) return false;
    if (url.origin === origin) return true;
    return (
      withoutLoopbackPort(uri) !== null &&
      presented.protocol === "http:" &&
      presented.hostname === url.hostname
    );
  });
}

/** What a registered URI of this origin starts with (loopback: without the port, which is free). */
export function redirectUriPrefixOf(origin: string): string {
  return withoutLoopbackPort(origin) ?? origin;
}
