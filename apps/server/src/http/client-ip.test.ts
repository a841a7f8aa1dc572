import { expect, test } from "bun:test";
import type { Server } from "bun";
import { type Cidr, parseCidr } from "../ip-address.ts";
import { clientIp } from "./client-ip.ts";

const cidrs = (...texts: string[]): Cidr[] => texts.map((text) => parseCidr(text) as Cidr);
const request = (xff?: string) =>
  new Request("http://localhost/", { headers: xff === undefined ? {} : { "x-forwarded-for": xff } });
/** A stand-in for Bun's server that reports `peer` as the connection's address. */
const from = (peer: string) => ({ requestIP: () => ({ address: peer }) }) as unknown as Server<unknown>;

test("behind a trusted proxy the right-most untrusted X-Forwarded-For hop is the client", () => {
  const trusted = { trustedProxies: cidrs("10.0.0.0/8", "2001:db8::/32") };
  expect(clientIp(request("6.6.6.6, 203.0.113.7"), from("10.0.0.2"), trusted)).toBe("203.0.113.7");
  // Trusted hops (a chain of proxies) are skipped; spoofed entries further left never count.
  expect(clientIp(request("6.6.6.6, 198.51.100.1, 10.1.1.1"), from("10.0.0.2"), trusted)).toBe(
    "198.51.100.1",
  );
  expect(clientIp(request("2001:db8::9, 198.51.100.1 "), from("2001:db8::1"), trusted)).toBe("198.51.100.1");
  expect(clientIp(request("198.51.100.1"), from("::ffff:10.0.0.2"), trusted)).toBe("198.51.100.1");
  // Nothing but proxies: the left-most one; no header: the proxy itself; garbage: the last trusted hop.
  expect(clientIp(request("10.9.9.9, 10.1.1.1"), from("10.0.0.2"), trusted)).toBe("10.9.9.9");
  expect(clientIp(request(), from("10.0.0.2"), trusted)).toBe("10.0.0.2");
  expect(clientIp(request("nonsense, 10.1.1.1"), from("10.0.0.2"), trusted)).toBe("10.1.1.1");
});

test("a spoofed header from an untrusted peer is ignored", () => {
  expect(clientIp(request("6.6.6.6"), from("203.0.113.50"), { trustedProxies: cidrs("10.0.0.0/8") })).toBe(
    "203.0.113.50",
  );
  expect(clientIp(request("6.6.6.6"), from("127.0.0.1"), { trustedProxies: [] })).toBe("127.0.0.1");
  expect(clientIp(request("6.6.6.6"), null, { trustedProxies: cidrs("0.0.0.0/0") })).toBe("unknown");
});
