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
