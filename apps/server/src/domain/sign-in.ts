import type { Db } from "../db/database.ts";
import type { UserRow } from "../db/schema.ts";
import type { RateLimitDeps } from "../rate-limit/rate-limiter.ts";
import { checkLoginAllowed, recordLoginFailure, recordLoginSuccess } from "./login-throttle.ts";
import { verifyLogin } from "./users.ts";

export type SignInResult =
  | { ok: true; user: UserRow }
  | { ok: false; reason: "invalid_credentials" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

/**
 * Password sign-in shared by the tRPC procedure and the sign-in page: the brute-force throttle is
 * checked before the (expensive) password hash, failures count against account and IP, and unknown
 * logins look exactly like wrong passwords.
 */
export async function signIn(
  deps: RateLimitDeps & { db: Db },
  input: { login: string; password: string; ip: string },
): Promise<SignInResult> {
  const attempt = { login: input.login, ip: input.ip };
  const allowed = await checkLoginAllowed(deps, attempt);
  if (!allowed.allowed)
    return { ok: false, reason: "throttled", retryAfterSeconds: allowed.retryAfterSeconds };
  const user = await verifyLogin(deps.db, input.login, input.password);
  if (!user) {
    await recordLoginFailure(deps, attempt);
    return { ok: false, reason: "invalid_credentials" };
  }
  await recordLoginSuccess(deps, attempt);
  return { ok: true, user };
}
