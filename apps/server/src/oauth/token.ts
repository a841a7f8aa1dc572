import type { Deps } from "../deps.ts";
import type { AuthenticatedClient } from "../domain/client-authentication.ts";
import type { IssuedTokens } from "../domain/issued-tokens.ts";
import { exchangeAuthorizationCode } from "./authorization-code-grant.ts";
import { issueClientCredentials } from "./client-credentials-grant.ts";
import { invalidRequest, unsupportedGrantType } from "./errors.ts";
import { issueIdToken } from "./id-token.ts";
import { isGrantType } from "./metadata.ts";
import type { Params } from "./params.ts";
import { refreshAccessToken } from "./refresh-token-grant.ts";
import { formatScope } from "./scope.ts";

export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token?: string;
  scope: string;
  /** OpenID Connect (SPEC §13): when the grant holds `openid`, at the code exchange and on refresh. */
  id_token?: string;
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
  refresh_token: refreshAccessToken,
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
  const response = toTokenResponse(tokens, now);
  if (tokens.authentication !== null && tokens.scopes.includes("openid"))
    response.id_token = await issueIdToken(deps, {
      clientId: client.id,
      scopes: tokens.scopes,
      authentication: tokens.authentication,
      accessToken: tokens.accessToken,
    });
  return response;
}
