import { router } from "./trpc.ts";

/** Filled in by the token issue (#5). */
export const authorizationsRouter = router({});
