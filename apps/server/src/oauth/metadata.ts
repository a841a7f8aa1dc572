import type { Config } from "../config.ts";
import { ID_TOKEN_SIGNING_ALG } from "../domain/signing-keys.ts";
import { PROMPT_VALUES } from "./authorization-request.ts";
import { ID_TOKEN_CLAIMS } from "./id-token.ts";
import { CODE_CHALLENGE_METHODS } from "./pkce.ts";
import { ACCEPTED_SCOPE_VALUES } from "./scope.ts";

/**
 * One source for what the server advertises (RFC 8414) and what it enforces: the token endpoint
 * dispatches on GRANT_TYPES, client authentication accepts TOKEN_ENDPOINT_AUTH_METHODS, /authorize
 * accepts CODE_CHALLENGE_METHODS and SCOPES. Adding a value here without a handler fails the metadata test.
 */
export const GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/**
 * Client authentication at the token and revocation endpoints. `none` (a public client's id alone,
 * SPEC §7.2) only for PUBLIC_CLIENT_GRANT_TYPES; the grant's read confirms the client is public.
 */
const SECRET_AUTH_METHODS = ["client_secret_basic", "client_secret_post"] as const;
export const TOKEN_ENDPOINT_AUTH_METHODS = [...SECRET_AUTH_METHODS, "none"] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];
/** A public client may revoke its own tokens without its secret. */
export const REVOCATION_ENDPOINT_AUTH_METHODS = TOKEN_ENDPOINT_AUTH_METHODS;
/** Introspection is for resource servers and confidential clients: never `none`. */
export const INTROSPECTION_ENDPOINT_AUTH_METHODS = SECRET_AUTH_METHODS;

/** The grants a public client may use without its secret; never client_credentials. */
export const PUBLIC_CLIENT_GRANT_TYPES = ["authorization_code", "refresh_token"] as const;

/** What the token endpoint accepts for a request of this grant type. */
export function tokenEndpointAuthMethodsFor(
  grantType: string | undefined,
): readonly TokenEndpointAuthMethod[] {
  return (PUBLIC_CLIENT_GRANT_TYPES as readonly (string | undefined)[]).includes(grantType)
    ? TOKEN_ENDPOINT_AUTH_METHODS
    : SECRET_AUTH_METHODS;
}

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
    jwks_uri: `${issuer}/v1/oauth2/keys`,
  };
}

export function authorizationServerMetadata(config: Pick<Config, "issuer">) {
  return {
    issuer: config.issuer,
    ...endpoints(config.issuer),
    scopes_supported: [...ACCEPTED_SCOPE_VALUES],
    response_types_supported: [...RESPONSE_TYPES],
    response_modes_supported: [...RESPONSE_MODES],
    grant_types_supported: [...GRANT_TYPES],
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    revocation_endpoint_auth_methods_supported: [...REVOCATION_ENDPOINT_AUTH_METHODS],
    introspection_endpoint_auth_methods_supported: [...INTROSPECTION_ENDPOINT_AUTH_METHODS],
    code_challenge_methods_supported: [...CODE_CHALLENGE_METHODS],
    authorization_response_iss_parameter_supported: true,
  };
}

/**
 * OpenID Provider metadata (OIDC Discovery 1.0 §3): the RFC 8414 document plus what OpenID Connect
 * relying parties read. Values whose discovery default would promise more than is enforced (request
 * objects by reference, claims parameter) are stated explicitly.
 */
export function openidProviderMetadata(config: Pick<Config, "issuer">) {
  return {
    ...authorizationServerMetadata(config),
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [ID_TOKEN_SIGNING_ALG],
    claims_supported: [...ID_TOKEN_CLAIMS],
    prompt_values_supported: [...PROMPT_VALUES],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}
