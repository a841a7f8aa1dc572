import { z } from "zod";
import { listAuthorizedApplications, revokeAuthorization } from "../domain/authorizations.ts";
import { isSnowflake } from "../snowflake.ts";
import { protectedProcedure, router } from "./trpc.ts";

const applicationId = z.string().refine(isSnowflake, "Must be a snowflake id");

/** The signed-in user's grants to third-party applications (SPEC §9). */
export const authorizationsRouter = router({
  list: protectedProcedure.query(({ ctx }) => listAuthorizedApplications(ctx.db, ctx.user.id)),

  revoke: protectedProcedure
    .input(z.object({ application_id: applicationId }))
    .mutation(async ({ ctx, input }) => {
      await revokeAuthorization(ctx.db, {
        userId: ctx.user.id,
        applicationId: input.application_id,
        now: ctx.clock.now(),
        nextId: ctx.nextId,
      });
      return { ok: true as const };
    }),
});
