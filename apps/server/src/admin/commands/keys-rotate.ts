import { systemClock } from "../../clock.ts";
import { rotateSigningKey, SigningKeyRotationError } from "../../domain/signing-keys.ts";
import { loadServerKeys } from "../../secret-key.ts";
import { type AdminCommand, AdminInputError, parseArguments, withDatabase } from "../command.ts";

/**
 * SPEC §13: a new ID token signing key. It is published at once and signs a little later, when every
 * server process and every JWKS copy cached by relying parties has seen it; the old key stays in the
 * JWKS until the last ID token it signed has expired (ID_TOKEN_TTL_SECONDS).
 */
export const keysRotate: AdminCommand = {
  summary:
    "rotate the OpenID Connect ID token signing key (the old one stays published until its tokens expire)",
  usage: "",
  run: async (args) => {
    parseArguments("keys:rotate", args, {}, { min: 0, max: 0, names: "" });
    return withDatabase(async (db, config) => {
      let rotation: Awaited<ReturnType<typeof rotateSigningKey>>;
      try {
        rotation = await rotateSigningKey(db, await loadServerKeys(config), {
          now: systemClock.now(),
          idTokenTtlSeconds: config.idTokenTtlSeconds,
        });
      } catch (error) {
        if (error instanceof SigningKeyRotationError)
          throw new AdminInputError(`keys:rotate: ${error.message}`);
        throw error;
      }
      const { kid, activatesAt, replaces, deleted } = rotation;
      const lines = replaces
        ? [
            `new signing key ${kid}: published now, signs from ${activatesAt.toISOString()}`,
            `old signing key ${replaces.kid}: signs until then, published until ${replaces.publishedUntil.toISOString()}`,
          ]
        : [`first signing key ${kid}: published and signing from ${activatesAt.toISOString()}`];
      if (deleted > 0) lines.push(`deleted ${deleted} retired key(s) whose ID tokens have all expired`);
      return lines.join("\n");
    });
  },
};
