import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { authorizationServerMetadata } from "../oauth/metadata.ts";
import { PUBLIC_CORS } from "./oidc.ts";

/** RFC 8414 metadata, generated from the same constants the endpoints enforce. */
export function metadataRoutes(deps: Deps) {
  const document = JSON.stringify(authorizationServerMetadata(deps.config));
  return new Elysia({ name: "metadata" }).get(
    "/.well-known/oauth-authorization-server",
    () =>
      new Response(document, {
        headers: {
          "Content-Type": "application/json",
          "Cache-Control": "public, max-age=300",
          ...PUBLIC_CORS,
        },
      }),
  );
}
