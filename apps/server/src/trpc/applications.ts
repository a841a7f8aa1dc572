import { router } from "./trpc.ts";

/** Filled in by the applications issue (#3). */
export const applicationsRouter = router({});
