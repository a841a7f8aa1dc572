import { OAuthClientError } from "./errors.ts";
import type { IdTokenClaims } from "./id-token.ts";

/** A token response (RFC 6749 §5.1) as the server sent it, plus `expires_at` computed on receipt. */
export interface TokenSet {
  access_token: string;
  token_type: "Bearer";
  /** Lifetime in seconds, as sent. */
  expires_in: number;
  /** Expiry in seconds since the epoch, computed when the response arrived: the field to persist. */
  expires_at: number;
  /** Absent for grants without one (client credentials). */
  refresh_token?: string;
  scope: string;
  /** Present when `openid` was granted. */
  id_token?: string;
  /** The claims of `id_token`, once `exchangeCode` or `refresh` validated it. */
  id_token_claims?: IdTokenClaims;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalidResponse(description: string, status: number): OAuthClientError {
  return new OAuthClientError("invalid_response", description, status);
}

/** Checks a successful token response's shape; anything malformed is an `invalid_response` error. */
export function toTokenSet(body: unknown, status: number, nowSeconds: number): TokenSet {
  if (!isRecord(body)) throw invalidResponse("The token response is not a JSON object", status);
  const { access_token, token_type, expires_in, refresh_token, scope, id_token } = body;
  if (typeof access_token !== "string" || access_token === "")
    throw invalidResponse("The token response has no access_token", status);
  if (typeof token_type !== "string" || token_type.toLowerCase() !== "bearer")
    throw invalidResponse("The token response's token_type is not Bearer", status);
  if (typeof expires_in !== "number" || !Number.isFinite(expires_in) || expires_in <= 0)
    throw invalidResponse("The token response has no valid expires_in", status);
  if (refresh_token !== undefined && typeof refresh_token !== "string")
    throw invalidResponse("The token response's refresh_token is not a string", status);
  if (id_token !== undefined && typeof id_token !== "string")
    throw invalidResponse("The token response's id_token is not a string", status);
  const tokens: TokenSet = {
    access_token,
    token_type: "Bearer",
    expires_in,
    expires_at: nowSeconds + expires_in,
    scope: typeof scope === "string" ? scope : "",
  };
  if (refresh_token !== undefined) tokens.refresh_token = refresh_token;
  if (id_token !== undefined) tokens.id_token = id_token;
  return tokens;
}

/** RFC 7662 §2.2; inactive tokens carry nothing but `active: false`. */
export interface Introspection {
  active: boolean;
  scope?: string;
  client_id?: string;
  /** `Bearer` for access tokens, `refresh_token` for refresh tokens. */
  token_type?: string;
  exp?: number;
  iat?: number;
  sub?: string;
  iss?: string;
}

export function toIntrospection(body: unknown, status: number): Introspection {
  if (!isRecord(body) || typeof body.active !== "boolean")
    throw invalidResponse("The introspection response has no boolean active", status);
  return body as unknown as Introspection;
}

export function oauthErrorOf(body: unknown, status: number): OAuthClientError {
  if (isRecord(body) && typeof body.error === "string") {
    const description = typeof body.error_description === "string" ? body.error_description : null;
    return new OAuthClientError(body.error, description, status);
  }
  return invalidResponse(`The server answered HTTP ${status} without an OAuth error`, status);
}
