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

/** The scopes the user approved: a subset of the request; `identify` cannot be unticked when requested. */
export function narrowScopes(requested: readonly Scope[], granted: Iterable<string>): Scope[] {
  const chosen = new Set(granted);
  return requested.filter((scope) => scope === "identify" || chosen.has(scope));
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
  input: { request: AuthorizationRequest; userId: string; scopes: Scope[]; remember: boolean },
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
      now: ctx.now,
      ttlSeconds: ctx.codeTtlSeconds,
    });
  });
  return authorizationResponseUrl(request.redirectUri, { code, state: request.state }, ctx.issuer);
}

/** prompt=none: the code only if a user is signed in and already consented to every requested scope. */
export async function authorizeSilently(
  ctx: GrantContext,
  input: { request: AuthorizationRequest; userId: string | null },
): Promise<string> {
  const { request } = input;
  const target = errorTargetOf(request);
  if (input.userId === null)
    return errorRedirectUrl(target, loginRequired("The user is not signed in"), ctx.issuer);
  const consent = await findConsent(ctx.db, { userId: input.userId, applicationId: request.client.id });
  if (!consent || !isSubset(request.scopes, consent.scopes))
    return errorRedirectUrl(target, consentRequired("The user has not approved these scopes"), ctx.issuer);
  return grantAuthorization(ctx, { request, userId: input.userId, scopes: request.scopes, remember: false });
}

export function denyAuthorization(request: AuthorizationRequest, issuer: string): string {
  return errorRedirectUrl(
    errorTargetOf(request),
    new OAuthError("access_denied", "The user denied the request"),
    issuer,
  );
}
