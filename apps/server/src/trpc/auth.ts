import { z } from "zod";
import { ApiError } from "../domain/errors.ts";
import { createSession, invalidateSession } from "../domain/sessions.ts";
import { signIn } from "../domain/sign-in.ts";
import { createUser, toUserView } from "../domain/users.ts";
import { RateLimitedError } from "../rate-limit/rate-limited-error.ts";
import { byIp, rateLimited } from "./rate-limit.ts";
import { protectedProcedure, publicProcedure, router } from "./trpc.ts";

export const usernameSchema = z
  .string()
  .trim()
  .min(2, "Username must be 2–32 characters")
  .max(32, "Username must be 2–32 characters")
  .regex(/^[A-Za-z0-9_.]+$/, "Username may contain letters, digits, '_' and '.'");
export const emailSchema = z.email("Invalid email address").max(254);
export const passwordSchema = z
  .string()
  .min(8, "Password must be at least 8 characters")
  .max(256, "Password must be at most 256 characters");

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
    .input(z.object({ login: z.string().trim().min(1).max(254), password: z.string().min(1).max(256) }))
    .mutation(async ({ ctx, input }) => {
      const result = await signIn(ctx, { login: input.login, password: input.password, ip: ctx.ip });
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
