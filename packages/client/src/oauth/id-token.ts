import { createRemoteJWKSet, customFetch, jwtVerify } from "jose";
import { OAuthClientError } from "./errors.ts";

/**
 * OpenID Connect ID tokens (Core 1.0 §3.1.3.7): the signature against the issuer's JWKS
 * (`/v1/oauth2/keys`, fetched once and again when an unknown key id appears, e.g. after a key
 * rotation), `iss`, `aud` (this client), `exp`/`iat`, the algorithm the server signs with, the nonce
 * of the authorization request, and `at_hash` when present. jose does the JWS work.
 */

/** The claims of a validated ID token (SPEC §13); the profile ones depend on the granted scopes. */
export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  auth_time?: number;
  nonce?: string;
  at_hash?: string;
  preferred_username?: string;
  name?: string;
  email?: string;
  email_verified?: boolean;
  [claim: string]: unknown;
}

const ALGORITHMS = ["RS256"];

function invalidIdToken(description: string, cause?: unknown): OAuthClientError {
  return new OAuthClientError("invalid_id_token", description, null, { cause });
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Core §3.1.3.6: the left half of the access token's SHA-256 (RS256), base64url. */
async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken)));
  return base64url(digest.slice(0, 16));
}

export type IdTokenVerifier = (
  idToken: string,
  expected: { accessToken: string; nonce: string | null },
) => Promise<IdTokenClaims>;

export function createIdTokenVerifier(options: {
  issuer: string;
  clientId: string;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
}): IdTokenVerifier {
  const jwks = createRemoteJWKSet(new URL(`${options.issuer}/v1/oauth2/keys`), {
    [customFetch]: (url: string, init: RequestInit) => options.fetch(url, init),
  });
  return async (idToken, expected) => {
    let claims: IdTokenClaims;
    try {
      const { payload } = await jwtVerify(idToken, jwks, {
        issuer: options.issuer,
        audience: options.clientId,
        algorithms: ALGORITHMS,
        requiredClaims: ["iss", "sub", "aud", "exp", "iat"],
      });
      claims = payload as IdTokenClaims;
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      throw invalidIdToken(`The ID token is not valid: ${message}`, cause);
    }
    // Core §2: with several audiences, azp must name this client.
    if (Array.isArray(claims.aud) && claims.aud.length > 1 && claims.azp !== options.clientId)
      throw invalidIdToken("The ID token has several audiences and its azp is not this client");
    // Core §3.1.3.7: the nonce the authorization request carried, exactly (none when none was sent).
    if ((claims.nonce ?? null) !== expected.nonce)
      throw invalidIdToken(
        expected.nonce === null
          ? "The ID token carries a nonce although the request sent none"
          : "The ID token's nonce is not the one this request was sent with",
      );
    if (claims.at_hash !== undefined && claims.at_hash !== (await accessTokenHash(expected.accessToken)))
      throw invalidIdToken("The ID token's at_hash does not match the access token");
    return claims;
  };
}
