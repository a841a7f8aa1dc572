import type { Server } from "bun";
import { type Cidr, cidrContains, parseIpAddress } from "../ip-address.ts";

function isTrusted(address: string, trustedProxies: readonly Cidr[]): boolean {
  const bytes = parseIpAddress(address);
  return bytes !== null && trustedProxies.some((cidr) => cidrContains(cidr, bytes));
}

/**
 * The client's address. Forwarded headers count only when the direct peer is one of TRUSTED_PROXIES:
 * then X-Forwarded-For is walked right to left (each proxy appends the address it saw), skipping
 * trusted hops, and the first untrusted address is the client. Entries further left are whatever the
 * client wrote, so they never count; an untrusted peer's header is ignored altogether.
 */
export function clientIp(
  request: Request,
  server: Server<unknown> | null,
  options: { trustedProxies: readonly Cidr[] },
): string {
  let address = server?.requestIP(request)?.address ?? "unknown";
  if (options.trustedProxies.length === 0) return address;
  if (!isTrusted(address, options.trustedProxies)) return address;
  const hops = (request.headers.get("x-forwarded-for") ?? "").split(",").map((hop) => hop.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? "";
    // A malformed entry cannot be an address a proxy saw: the last trusted hop is the best we know.
    if (parseIpAddress(hop) === null) return address;
    address = hop;
    if (!isTrusted(hop, options.trustedProxies)) return hop;
  }
  return address;
}
