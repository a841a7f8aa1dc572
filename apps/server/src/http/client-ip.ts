import type { Server } from "bun";

/**
 * The peer address, or — when TRUST_PROXY says one trusted proxy sits in front — the address that proxy
 * saw: the right-most X-Forwarded-For entry. Entries to its left are whatever the client wrote, so
 * taking the first one would let anyone pick a fresh "IP" per request and step around per-IP limits.
 */
export function clientIp(
  request: Request,
  server: Server<unknown> | null,
  options: { trustProxy: boolean },
): string {
  if (options.trustProxy) {
    const forwarded = request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  return server?.requestIP(request)?.address ?? "unknown";
}
