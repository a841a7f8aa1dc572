/** RFC 6749 §4.1.2.1 / §5.2 error codes (plus RFC 6750 and OIDC prompt errors used at /authorize). */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "unsupported_response_type"
  | "invalid_scope"
  | "access_denied"
  | "login_required"
  | "consent_required"
  | "invalid_token"
  | "server_error";

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  login_required: 400,
  consent_required: 400,
  invalid_token: 401,
  server_error: 500,
};

/**
 * RFC 6749 §5.2 / §4.1.2.1: error_description is limited to %x20-21 / %x23-5B / %x5D-7E (printable
 * ASCII without `"` and `\\`). Anything else is replaced, so no description can break a JSON consumer,
 * a redirect or a WWW-Authenticate header, whatever text a caller built it from.
 */
export function toDescriptionCharacters(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, "?");
}

/**
 * One error type for the protocol layer. `redirectable` says whether /authorize may send it to the
 * client's redirect URI: only once client and redirect URI are validated (SPEC §7.1).
 */
export class OAuthError extends Error {
  readonly status: number;
  readonly description: string;
  constructor(
    readonly code: OAuthErrorCode,
    description: string,
    readonly options: { redirectable?: boolean; status?: number } = {},
  ) {
    super(`${code}: ${description}`);
    this.description = toDescriptionCharacters(description);
    this.name = "OAuthError";
    this.status = options.status ?? STATUS[code];
  }

  get redirectable(): boolean {
    return this.options.redirectable ?? true;
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: this.description };
  }
}

export const invalidRequest = (description: string) => new OAuthError("invalid_request", description);
export const invalidClient = (description = "Client authentication failed") =>
  new OAuthError("invalid_client", description);
export const invalidGrant = (description: string) => new OAuthError("invalid_grant", description);
export const unauthorizedClient = (description: string) => new OAuthError("unauthorized_client", description);
export const unsupportedGrantType = (description: string) =>
  new OAuthError("unsupported_grant_type", description);
export const unsupportedResponseType = (description: string) =>
  new OAuthError("unsupported_response_type", description);
export const invalidScope = (description: string) => new OAuthError("invalid_scope", description);
export const accessDenied = (description: string) => new OAuthError("access_denied", description);
export const loginRequired = (description: string) => new OAuthError("login_required", description);
export const consentRequired = (description: string) => new OAuthError("consent_required", description);
export const serverError = (description = "The server could not complete the request") =>
  new OAuthError("server_error", description);

export function isOAuthError(error: unknown): error is OAuthError {
  return error instanceof OAuthError;
}
