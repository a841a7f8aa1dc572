import type { Deps } from "../deps.ts";
import type { AuthenticatedClient } from "../domain/client-authentication.ts";
import type { IssuedTokens } from "../domain/token-families.ts";
import { countRevocations } from "../metrics.ts";
import { exchangeAuthorizationCode } from "./authorization-code-grant.ts";
import { issueClientCredentials } from "./client-credentials-grant.ts";
import { invalidRequest, unsupportedGrantType } from "./errors.ts";
import { isGrantType } from "./metadata.ts";
import { rotateRefreshToken } from "./refresh-token-grant.ts";
import { formatScope } from "./scope.ts";

/** Form parameters after the HTTP edge: each name at most once, empty values already dropped. */
export type Params = ReadonlyMap<string, string>;

/**
 * What a grant's transaction decides: tokens, or why the grant is invalid. The failure is returned,
 * not thrown, so a revocation made on the way commits; the caller throws invalid_grant afterwards.
 * `graceRetry` and `detected` say what happened, for the metrics once it has committed.
 */
export type GrantOutcome =
  | { ok: true; tokens: IssuedTokens; graceRetry?: true }
  | {
      ok: false;
      description: string;
      detected?: { kind: "refresh_reuse" | "code_replay"; revokedFamilies: number };
    };

/** Counts a reuse or replay (and the families it revoked) once its transaction has committed. */
export function countDetection(deps: Deps, outcome: GrantOutcome): void {
  if (outcome.ok || !outcome.detected) return;
  const { kind, revokedFamilies } = outcome.detected;
  (kind === "refresh_reuse" ? deps.metrics.refreshReuseDetected : deps.metrics.codeReplays).inc();
  countRevocations(deps.metrics, kind, revokedFamilies);
}

export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

function toTokenResponse(tokens: IssuedTokens, now: Date): TokenResponse {
  const response: TokenResponse = {
    access_token: tokens.accessToken,
    token_type: "Bearer",
    expires_in: Math.max(0, Math.floor((tokens.expiresAt.getTime() - now.getTime()) / 1000)),
    scope: formatScope(tokens.scopes),
  };
  if (tokens.refreshToken !== null) response.refresh_token = tokens.refreshToken;
  return response;
}

const grants = {
  authorization_code: exchangeAuthorizationCode,
  refresh_token: rotateRefreshToken,
  client_credentials: issueClientCredentials,
} as const;

/** POST /v1/oauth2/token after client authentication: dispatch on grant_type (RFC 6749 §4, §6). */
export async function handleTokenRequest(
  deps: Deps,
  client: AuthenticatedClient,
  params: Params,
): Promise<TokenResponse> {
  const grantType = params.get("grant_type");
  if (grantType === undefined) throw invalidRequest("Missing grant_type");
  if (!isGrantType(grantType)) throw unsupportedGrantType("Unsupported grant_type");
  const now = deps.clock.now();
  const tokens = await grants[grantType](deps, client, params);
  deps.metrics.tokensIssued.inc({ grant_type: grantType });
  return toTokenResponse(tokens, now);
}
