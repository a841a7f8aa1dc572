/**
 * Rate-limit identities, as Fluxer keys them: `user:<id>` when a credential resolves, else the
 * client IP — IPv4 exact, IPv6 by /64, since one host usually owns a whole /64.
 */
export function ipKey(ip: string): string {
  const address = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return `ip:${mapped[1]}`;
  if (!address.includes(":")) return `ip:${address}`;
  const [head = "", tail = ""] = address.replace(/%.*$/, "").split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const missing = Math.max(0, 8 - headGroups.length - tailGroups.length);
  const groups = address.includes("::")
    ? [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups]
    : headGroups;
  const prefix = groups.slice(0, 4).map((group) => (Number.parseInt(group, 16) || 0).toString(16));
  return `ip:${prefix.join(":")}::/64`;
}

export function userKey(userId: string): string {
  return `user:${userId}`;
}

/** Sign-in attempts are counted per login as typed, case-folded: usernames and emails are case-insensitive. */
export function loginKey(login: string): string {
  return `login:${login.trim().toLowerCase()}`;
}
