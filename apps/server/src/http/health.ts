import { Elysia } from "elysia";
import { sql } from "kysely";
import type { Deps } from "../deps.ts";

export function healthRoutes(deps: Deps) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => ({ status: "ok" }))
    .get("/readyz", async ({ set }) => {
      try {
        await sql`select 1`.execute(deps.db);
        return { status: "ok" };
      } catch (error) {
        deps.log.warn("readiness check failed", { error });
        set.status = 503;
        return { status: "unavailable" };
      }
    });
}
