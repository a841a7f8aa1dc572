import type { Db } from "../db/database.ts";
import type { UserRow } from "../db/schema.ts";
import type { RateLimitDeps } from "../rate-limit/limiter-for-deps.ts";
import { claimLoginAttempt, type LoginAttempt, releaseLoginAttempt } from "./login-throttle.ts";
import { findUserByLogin, verifyUserPassword } from "./users.ts";

export type SignInResult =
  | { ok: true; user: UserRow }
  | { ok: false; reason: "invalid_credentials" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

/**
 * Password sign-in shared by the tRPC procedure and the sign-in page. The attempt is claimed against
 * the brute-force limits before the (expensive) password hash — keyed on the account the login
 * resolves to, so username and email share one budget — and unknown logins look exactly like wrong
 * passwords.
 */
export async function signIn(
  deps: RateLimitDeps & { db: Db },
  input: { login: string; password: string; ip: string },
): Promise<SignInResult> {
  const user = await findUserByLogin(deps.db, input.login);
  const attempt: LoginAttempt = {
    account: user ? { userId: user.id } : { login: input.login },
    ip: input.ip,
  };
  const claimed = await claimLoginAttempt(deps, attempt);
  if (!claimed.allowed)
    return { ok: false, reason: "throttled", retryAfterSeconds: claimed.retryAfterSeconds };
  const passwordOk = await verifyUserPassword(user, input.password);
  if (!user || !passwordOk) return { ok: false, reason: "invalid_credentials" };
  await releaseLoginAttempt(deps, attempt);
  return { ok: true, user };
}
