/**
 * IP addresses as bytes (IPv4: 4, IPv6: 16; an IPv4-mapped IPv6 address counts as its IPv4 address)
 * and CIDR ranges over them, for TRUSTED_PROXIES.
 */
export interface Cidr {
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
  /** As configured, for messages. */
  readonly text: string;
}

function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? "";
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part.startsWith("0"))) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

function parseIPv6(text: string): Uint8Array | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (half: string | undefined): string[] | null => {
    if (!half) return [];
    const groups = half.split(":");
    const last = groups.at(-1) ?? "";
    // A trailing dotted quad (`::ffff:192.0.2.1`) stands for the last two groups.
    if (last.includes(".")) {
      const v4 = parseIPv4(last);
      if (!v4) return null;
      groups.splice(
        -1,
        1,
        ((v4[0] ?? 0) * 256 + (v4[1] ?? 0)).toString(16),
        ((v4[2] ?? 0) * 256 + (v4[3] ?? 0)).toString(16),
      );
    }
    return groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group)) ? groups : null;
  };
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill("0"), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** The address's bytes, or null if it is not an IP address. Zone ids (`%eth0`) are ignored. */
export function parseIpAddress(text: string): Uint8Array | null {
  const address = text
    .trim()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/%.*$/, "");
  if (!address.includes(":")) return parseIPv4(address);
  const bytes = parseIPv6(address);
  if (bytes && V4_MAPPED_PREFIX.every((byte, i) => bytes[i] === byte)) return bytes.slice(12);
  return bytes;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a single address (its full length). Null if malformed. */
export function parseCidr(text: string): Cidr | null {
  const [address = "", prefix, ...rest] = text.trim().split("/");
  if (rest.length > 0) return null;
  const bytes = parseIpAddress(address);
  if (!bytes) return null;
  const max = bytes.length * 8;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return null;
  const prefixLength = prefix === undefined ? max : Number(prefix);
  if (prefixLength > max) return null;
  return { bytes, prefixLength, text: text.trim() };
}

export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  if (cidr.bytes.length !== address.length) return false;
  let bits = cidr.prefixLength;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((cidr.bytes[i] ?? 0) & mask) !== ((address[i] ?? 0) & mask)) return false;
  }
  return true;
}
