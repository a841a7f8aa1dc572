import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { JWKS_MAX_AGE_SECONDS, publishedKeys } from "../domain/signing-keys.ts";
import { openidProviderMetadata } from "../oauth/metadata.ts";

/** Public documents any web page may read (SPEC §13): no credentials, so `*` is safe. */
export const PUBLIC_CORS = { "Access-Control-Allow-Origin": "*" } as const;

/**
 * OpenID Connect Discovery 1.0 (`/.well-known/openid-configuration`) and the JWKS it names
 * (`/v1/oauth2/keys`, Discord's path). The JWKS is read through the signing-key cache, so a rotation in
 * another process appears here before the new key signs (domain/signing-keys.ts).
 */
export function oidcRoutes(deps: Deps) {
  const discovery = JSON.stringify(openidProviderMetadata(deps.config));
  return new Elysia({ name: "oidc" })
    .get(
      "/.well-known/openid-configuration",
      () =>
        new Response(discovery, {
          headers: {
            "Content-Type": "application/json",
            "Cache-Control": "public, max-age=300",
            ...PUBLIC_CORS,
          },
        }),
    )
    .get("/v1/oauth2/keys", async () => {
      const jwks = await publishedKeys(deps.db, {
        now: deps.clock.now(),
        idTokenTtlSeconds: deps.config.idTokenTtlSeconds,
      });
      return new Response(JSON.stringify(jwks), {
        headers: {
          "Content-Type": "application/jwk-set+json",
          "Cache-Control": `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
          ...PUBLIC_CORS,
        },
      });
    });
}
