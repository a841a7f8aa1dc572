import type { Config } from "../config.ts";
import { CODE_CHALLENGE_METHODS } from "./pkce.ts";
import { SCOPES } from "./scope.ts";

/**
 * One source for what the server advertises (RFC 8414) and what it enforces: the token endpoint
 * dispatches on GRANT_TYPES, client authentication accepts TOKEN_ENDPOINT_AUTH_METHODS, /authorize
 * accepts CODE_CHALLENGE_METHODS and SCOPES. Adding a value here without a handler fails the metadata test.
 */
export const GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export const TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

export const RESPONSE_TYPES = ["code"] as const;
export const RESPONSE_MODES = ["query"] as const;

/** Scopes a client-credentials token may carry (its subject is the application's bot user). */
export const CLIENT_CREDENTIALS_SCOPES = ["identify"] as const;

export function isGrantType(value: string): value is GrantType {
  return (GRANT_TYPES as readonly string[]).includes(value);
}

export function endpoints(issuer: string) {
  return {
    authorization_endpoint: `${issuer}/v1/oauth2/authorize`,
    token_endpoint: `${issuer}/v1/oauth2/token`,
    revocation_endpoint: `${issuer}/v1/oauth2/token/revoke`,
    introspection_endpoint: `${issuer}/v1/oauth2/introspect`,
    userinfo_endpoint: `${issuer}/v1/oauth2/userinfo`,
  };
}

export function authorizationServerMetadata(config: Pick<Config, "issuer">) {
  return {
    issuer: config.issuer,
    ...endpoints(config.issuer),
    scopes_supported: [...SCOPES],
    response_types_supported: [...RESPONSE_TYPES],
    response_modes_supported: [...RESPONSE_MODES],
    grant_types_supported: [...GRANT_TYPES],
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    introspection_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    code_challenge_methods_supported: [...CODE_CHALLENGE_METHODS],
    authorization_response_iss_parameter_supported: true,
  };
}
