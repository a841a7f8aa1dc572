import { z } from "zod";
import { listAuthorizedApplications, revokeAuthorization } from "../domain/authorizations.ts";
import { countRevocations } from "../metrics.ts";
import { isSnowflake } from "../snowflake.ts";
import { byIp, rateLimited } from "./rate-limit.ts";
import { protectedProcedure, router } from "./trpc.ts";

const applicationId = z.string().refine(isSnowflake, "Must be a snowflake id");

/** The signed-in user's grants to third-party applications (SPEC §9). */
export const authorizationsRouter = router({
  list: protectedProcedure
    .use(rateLimited("applications:list"))
    .query(({ ctx }) => listAuthorizedApplications(ctx.db, ctx.user.id)),

  // Fluxer counts authorization revocation in the oauth:introspect bucket, per IP.
  revoke: protectedProcedure
    .use(rateLimited("oauth:introspect", byIp))
    .input(z.object({ application_id: applicationId }))
    .mutation(async ({ ctx, input }) => {
      const { revokedFamilies } = await revokeAuthorization(ctx.db, {
        userId: ctx.user.id,
        applicationId: input.application_id,
        now: ctx.clock.now(),
        nextId: ctx.nextId,
      });
      countRevocations(ctx.metrics, "authorization_revoked", revokedFamilies);
      return { ok: true as const };
    }),
});
