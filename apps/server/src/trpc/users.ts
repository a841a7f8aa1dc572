import { toUserView } from "../domain/users.ts";
import { protectedProcedure, router } from "./trpc.ts";

export const usersRouter = router({
  me: protectedProcedure.query(({ ctx }) => toUserView(ctx.user, { withEmail: true })),
});
