import type { Db } from "../db/database.ts";
import { createAuthorizationCode } from "../domain/authorization-codes.ts";
import { findConsent, recordConsent } from "../domain/consents.ts";
import { type AuthorizationRequest, type ErrorTarget, errorTargetOf } from "./authorization-request.ts";
import { consentRequired, loginRequired, OAuthError } from "./errors.ts";
import { isSubset, type Scope } from "./scope.ts";

/**
 * Appends response parameters to the registered URI with `searchParams.set`: its own query is kept
 * (a clashing key is overwritten, as at Fluxer), and `iss` (RFC 9207) is always present.
 */
function authorizationResponseUrl(
  redirectUri: string,
  params: Record<string, string | null>,
  issuer: string,
): string {
  const url = new URL(redirectUri);
  url.hash = "";
  for (const [name, value] of Object.entries(params)) if (value !== null) url.searchParams.set(name, value);
  url.searchParams.set("iss", issuer);
  return url.toString();
}

export function errorRedirectUrl(target: ErrorTarget, error: OAuthError, issuer: string): string {
  return authorizationResponseUrl(
    target.redirectUri,
    { error: error.code, error_description: error.description, state: target.state },
    issuer,
  );
}

/** Scopes the user cannot untick when requested: the app's sign-in itself. */
export const REQUIRED_SCOPES: readonly Scope[] = ["openid", "identify"];

/** The scopes the user approved: a subset of the request; `openid` and `identify` stay when requested. */
export function narrowScopes(requested: readonly Scope[], granted: Iterable<string>): Scope[] {
  const chosen = new Set(granted);
  return requested.filter((scope) => REQUIRED_SCOPES.includes(scope) || chosen.has(scope));
}

/**
 * OIDC `max_age`: whether the user signed in too long ago for this request (whole seconds, as the
 * relying party compares the ID token's auth_time).
 */
export function signInTooOld(request: AuthorizationRequest, authenticatedAt: Date, now: Date): boolean {
  if (request.maxAge === null) return false;
  return Math.floor(now.getTime() / 1000) - Math.floor(authenticatedAt.getTime() / 1000) > request.maxAge;
}

export interface GrantContext {
  db: Db;
  now: Date;
  issuer: string;
  codeTtlSeconds: number;
}

/**
 * Issues the code and returns the success redirect. With `remember`, the approval also widens the
 * remembered consent in the same transaction (a silent prompt=none grant changes no consent).
 */
export async function grantAuthorization(
  ctx: GrantContext,
  input: {
    request: AuthorizationRequest;
    userId: string;
    /** When the user signed in (the session's start): the ID token's auth_time. */
    authenticatedAt: Date;
    scopes: Scope[];
    remember: boolean;
  },
): Promise<string> {
  const { request } = input;
  const code = await ctx.db.transaction().execute(async (trx) => {
    if (input.remember)
      await recordConsent(trx, {
        userId: input.userId,
        applicationId: request.client.id,
        scopes: input.scopes,
        now: ctx.now,
      });
    return createAuthorizationCode(trx, {
      applicationId: request.client.id,
      userId: input.userId,
      redirectUri: request.redirectUri,
      scopes: input.scopes,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: request.codeChallengeMethod,
      nonce: request.nonce,
      authTime: input.authenticatedAt,
      now: ctx.now,
      ttlSeconds: ctx.codeTtlSeconds,
    });
  });
  return authorizationResponseUrl(request.redirectUri, { code, state: request.state }, ctx.issuer);
}

/**
 * prompt=none: the code only if a user is signed in (recently enough for `max_age`) and already
 * consented to every requested scope.
 */
export async function authorizeSilently(
  ctx: GrantContext,
  input: { request: AuthorizationRequest; user: { id: string; authenticatedAt: Date } | null },
): Promise<string> {
  const { request, user } = input;
  const target = errorTargetOf(request);
  if (user === null) return errorRedirectUrl(target, loginRequired("The user is not signed in"), ctx.issuer);
  if (signInTooOld(request, user.authenticatedAt, ctx.now))
    return errorRedirectUrl(target, loginRequired("The user signed in longer ago than max_age"), ctx.issuer);
  const consent = await findConsent(ctx.db, { userId: user.id, applicationId: request.client.id });
  if (!consent || !isSubset(request.scopes, consent.scopes))
    return errorRedirectUrl(target, consentRequired("The user has not approved these scopes"), ctx.issuer);
  return grantAuthorization(ctx, {
    request,
    userId: user.id,
    authenticatedAt: user.authenticatedAt,
    scopes: request.scopes,
    remember: false,
  });
}

export function denyAuthorization(request: AuthorizationRequest, issuer: string): string {
  return errorRedirectUrl(
    errorTargetOf(request),
    new OAuthError("access_denied", "The user denied the request"),
    issuer,
  );
}
