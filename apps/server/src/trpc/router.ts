import { applicationsRouter } from "./applications.ts";
import { authRouter } from "./auth.ts";
import { authorizationsRouter } from "./authorizations.ts";
import { router } from "./trpc.ts";
import { usersRouter } from "./users.ts";

export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  applications: applicationsRouter,
  authorizations: authorizationsRouter,
});

export type AppRouter = typeof appRouter;
