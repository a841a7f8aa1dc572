import { sha256 } from "@oslojs/crypto/sha2";
import { encodeBase64urlNoPadding } from "@oslojs/encoding";
import { type JWTPayload, SignJWT } from "jose";
import type { UserRow } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import type { Authentication } from "../domain/issued-tokens.ts";
import { currentSigningKey, type SigningKey } from "../domain/signing-keys.ts";
import type { UserProfileRow } from "../domain/users.ts";
import { findUserById } from "../domain/users.ts";
import { invalidGrant } from "./errors.ts";

/**
 * OpenID Connect ID tokens (Core 1.0 §2, §3.1.3.6; SPEC §13). Issued only for grants that hold
 * `openid`. Claims by scope: `identify` adds preferred_username and name, `email` adds email and
 * email_verified. `picture` needs an image URL and users here have none, so it is never emitted.
 */

/** Every claim an ID token or userinfo answer may carry (discovery's `claims_supported`). */
export const ID_TOKEN_CLAIMS = [
  "iss",
  "sub",
  "aud",
  "exp",
  "iat",
  "auth_time",
  "nonce",
  "at_hash",
  "preferred_username",
  "name",
  "email",
  "email_verified",
] as const;

/** The profile claims of a user, by scope: shared by the ID token and userinfo. */
export function userClaims(user: UserProfileRow, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes("identify")) {
    claims.preferred_username = user.username;
    claims.name = user.global_name ?? user.username;
  }
  if (scopes.includes("email")) {
    claims.email = user.email;
    claims.email_verified = user.verified;
  }
  return claims;
}

/** at_hash (Core §3.1.3.6): the left half of the SHA-256 of the access token (RS256), base64url. */
export function accessTokenHash(accessToken: string): string {
  return encodeBase64urlNoPadding(sha256(new TextEncoder().encode(accessToken)).slice(0, 16));
}

export interface IdTokenInput {
  issuer: string;
  clientId: string;
  user: UserRow;
  scopes: readonly string[];
  /** When the user signed in (null: unknown, e.g. a grant from before OpenID Connect; then omitted). */
  authTime: Date | null;
  /** The authorization request's nonce; never on refreshed ID tokens (Core §12.2). */
  nonce: string | null;
  accessToken: string;
  now: Date;
  ttlSeconds: number;
}

export function idTokenClaims(input: IdTokenInput): JWTPayload {
  const iat = Math.floor(input.now.getTime() / 1000);
  const claims: JWTPayload = {
    iss: input.issuer,
    sub: input.user.id,
    aud: input.clientId,
    exp: iat + input.ttlSeconds,
    iat,
    at_hash: accessTokenHash(input.accessToken),
  };
  if (input.authTime !== null) claims.auth_time = Math.floor(input.authTime.getTime() / 1000);
  if (input.nonce !== null) claims.nonce = input.nonce;
  return { ...claims, ...userClaims(input.user, input.scopes) };
}

export async function signIdToken(key: SigningKey, input: IdTokenInput): Promise<string> {
  return new SignJWT(idTokenClaims(input))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .sign(key.privateKey);
}

/**
 * The ID token of a token response whose grant holds `openid`: the user as they are now, signed with
 * the current key. One read (the user) beyond the grant's own, and none for the key once cached.
 */
export async function issueIdToken(
  deps: Deps,
  input: { clientId: string; scopes: readonly string[]; authentication: Authentication; accessToken: string },
): Promise<string> {
  const now = deps.clock.now();
  const user = await findUserById(deps.db, input.authentication.userId);
  if (!user) throw invalidGrant("The user no longer exists");
  const key = await currentSigningKey(deps, now);
  return signIdToken(key, {
    issuer: deps.config.issuer,
    clientId: input.clientId,
    user,
    scopes: input.scopes,
    authTime: input.authentication.authTime,
    nonce: input.authentication.nonce,
    accessToken: input.accessToken,
    now,
    ttlSeconds: deps.config.idTokenTtlSeconds,
  });
}
