import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { findIcon } from "../domain/application-icons.ts";
import { isSnowflake } from "../snowflake.ts";
import { apiErrorResponse } from "./responses.ts";

// An optional extension is accepted (`<hash>.png`) because image URLs conventionally carry one.
const ICON_HASH = /^([0-9a-f]{64})(?:\.(?:png|jpe?g|gif|webp))?$/;

/** `GET /icons/{application_id}/{icon_hash}`: content-addressed, so it may be cached forever. */
export function iconRoutes(deps: Deps) {
  return new Elysia({ name: "icons" }).get("/icons/:applicationId/:iconHash", async ({ params }) => {
    const hash = ICON_HASH.exec(params.iconHash)?.[1];
    const icon =
      hash && isSnowflake(params.applicationId) ? await findIcon(deps.db, params.applicationId, hash) : null;
    if (!icon) return apiErrorResponse("NOT_FOUND", "Unknown icon");
    return new Response(new Uint8Array(icon.data), {
      headers: {
        "Content-Type": icon.contentType,
        "Cache-Control": "public, max-age=31536000, immutable",
      },
    });
  });
}
