import type { Db } from "../db/database.ts";
import type { UserRow } from "../db/schema.ts";
import type { RateLimitDeps } from "../rate-limit/limiter-for-deps.ts";
import type { ServerKeys } from "../secret-key.ts";
import { verifyDeviceCookie } from "./device-cookies.ts";
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
 * passwords. `deviceCookie` is the browser's device cookie, if any (login-throttle.ts).
 */
export async function signIn(
  deps: RateLimitDeps & { db: Db; keys: Pick<ServerKeys, "deviceCookieKey"> },
  input: { login: string; password: string; ip: string; deviceCookie: string | null },
): Promise<SignInResult> {
  const user = await findUserByLogin(deps.db, input.login);
  const deviceId =
    user && input.deviceCookie
      ? verifyDeviceCookie(deps.keys.deviceCookieKey, input.deviceCookie, {
          userId: user.id,
          now: deps.clock.now(),
        })
      : null;
  const attempt: LoginAttempt = {
    account: user ? { userId: user.id } : { login: input.login },
    ip: input.ip,
    deviceId,
  };
  const claimed = await claimLoginAttempt(deps, attempt);
  if (!claimed.allowed)
    return { ok: false, reason: "throttled", retryAfterSeconds: claimed.retryAfterSeconds };
  if (claimed.delayMs > 0) await Bun.sleep(claimed.delayMs);
  const passwordOk = await verifyUserPassword(user, input.password);
  if (!user || !passwordOk) return { ok: false, reason: "invalid_credentials" };
  await releaseLoginAttempt(deps, attempt);
  return { ok: true, user };
}
