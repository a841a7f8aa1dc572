import { z } from "zod";
import { ApiError } from "../domain/errors.ts";
import { createSession, invalidateSession } from "../domain/sessions.ts";
import { signIn } from "../domain/sign-in.ts";
import {
  emailSchema,
  MAX_LOGIN_LENGTH,
  MAX_PASSWORD_LENGTH,
  passwordSchema,
  usernameSchema,
} from "../domain/user-fields.ts";
import { createUser, toUserView } from "../domain/users.ts";
import { RateLimitedError } from "../rate-limit/rate-limited-error.ts";
import { byIp, rateLimited } from "./rate-limit.ts";
import { protectedProcedure, publicProcedure, router } from "./trpc.ts";

export const authRouter = router({
  register: publicProcedure
    .use(rateLimited("auth:register", byIp))
    .input(z.object({ username: usernameSchema, email: emailSchema, password: passwordSchema }))
    .mutation(async ({ ctx, input }) => {
      const now = ctx.clock.now();
      const user = await createUser(ctx.db, { id: ctx.nextId(), ...input, now });
      const { token } = await createSession(ctx.db, {
        id: ctx.nextId(),
        userId: user.id,
        now,
        ttlSeconds: ctx.config.sessionTtlSeconds,
      });
      return { token, user: toUserView(user, { withEmail: true }) };
    }),

  login: publicProcedure
    .input(
      z.object({
        login: z.string().trim().min(1).max(MAX_LOGIN_LENGTH),
        password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const result = await signIn(ctx, {
        login: input.login,
        password: input.password,
        ip: ctx.ip,
        deviceCookie: ctx.deviceCookie,
      });
      if (!result.ok && result.reason === "throttled") throw new RateLimitedError(result.retryAfterSeconds);
      // One answer for unknown users and wrong passwords: no account enumeration.
      if (!result.ok) throw new ApiError("INVALID_CREDENTIALS", "Invalid login or password");
      const { user } = result;
      const { token } = await createSession(ctx.db, {
        id: ctx.nextId(),
        userId: user.id,
        now: ctx.clock.now(),
        ttlSeconds: ctx.config.sessionTtlSeconds,
      });
      return { token, user: toUserView(user, { withEmail: true }) };
    }),

  logout: protectedProcedure.mutation(async ({ ctx }) => {
    await invalidateSession(ctx.db, ctx.session.id);
    return { ok: true as const };
  }),
});
