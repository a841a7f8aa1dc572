import { expect, test } from "bun:test";
import { clientIp } from "./client-ip.ts";

const request = (xff?: string) =>
  new Request("http://localhost/", { headers: xff === undefined ? {} : { "x-forwarded-for": xff } });

test("behind a trusted proxy the right-most X-Forwarded-For hop counts; spoofed left entries do not", () => {
  expect(clientIp(request("6.6.6.6, 203.0.113.7"), null, { trustProxy: true })).toBe("203.0.113.7");
  expect(clientIp(request("203.0.113.7"), null, { trustProxy: true })).toBe("203.0.113.7");
  expect(clientIp(request("1.1.1.1, 2.2.2.2, 198.51.100.1 "), null, { trustProxy: true })).toBe(
    "198.51.100.1",
  );
});

test("without TRUST_PROXY the header is ignored", () => {
  expect(clientIp(request("6.6.6.6"), null, { trustProxy: false })).toBe("unknown");
  expect(clientIp(request(), null, { trustProxy: true })).toBe("unknown");
});
