import { expect, test } from "bun:test";
import { type Cidr, cidrContains, parseCidr, parseIpAddress } from "./ip-address.ts";

const inRange = (cidr: string, address: string) =>
  cidrContains(parseCidr(cidr) as Cidr, parseIpAddress(address) as Uint8Array);

test("CIDR ranges match IPv4 and IPv6 addresses by prefix", () => {
  expect(inRange("10.0.0.0/8", "10.255.1.2")).toBe(true);
  expect(inRange("10.0.0.0/8", "11.0.0.1")).toBe(false);
  expect(inRange("192.168.1.0/25", "192.168.1.127")).toBe(true);
  expect(inRange("192.168.1.0/25", "192.168.1.128")).toBe(false);
  expect(inRange("127.0.0.1", "127.0.0.1")).toBe(true);
  expect(inRange("127.0.0.1", "127.0.0.2")).toBe(false);
  expect(inRange("0.0.0.0/0", "203.0.113.9")).toBe(true);
  expect(inRange("2001:db8::/32", "2001:0db8:ffff::1")).toBe(true);
  expect(inRange("2001:db8::/32", "2001:db9::1")).toBe(false);
  expect(inRange("::1/128", "::1")).toBe(true);
  // IPv4-mapped IPv6 addresses are their IPv4 address; families never match each other otherwise.
  expect(inRange("10.0.0.0/8", "::ffff:10.0.0.1")).toBe(true);
  expect(inRange("::/0", "10.0.0.1")).toBe(false);
});

test("malformed addresses and ranges are refused", () => {
  for (const bad of ["", "10.0.0", "10.0.0.256", "010.0.0.1", "1::2::3", "1:2:3:4:5:6:7:8:9", "g::1", "x"])
    expect(parseIpAddress(bad)).toBeNull();
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8/8", "10.0.0.0/-1", "bogus/8"])
    expect(parseCidr(bad)).toBeNull();
  expect(parseIpAddress("[::1]")).toEqual(parseIpAddress("0:0:0:0:0:0:0:1"));
});
