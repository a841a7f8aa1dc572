/**
 * The session token an API client sends: `Authorization: flx_…` or `Authorization: Bearer flx_…`;
 * null without the header. Shape and validity are checked by `validateSessionToken`.
 */
export function sessionTokenFromHeader(request: Request): string | null {
  const header = request.headers.get("authorization");
  if (!header) return null;
  return header.startsWith("Bearer ") ? header.slice(7).trim() : header.trim();
}
