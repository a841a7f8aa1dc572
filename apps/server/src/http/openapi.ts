import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { API_ERRORS } from "../domain/errors.ts";
import { ID_TOKEN_SIGNING_ALG } from "../domain/signing-keys.ts";
import { PROMPT_VALUES } from "../oauth/authorization-request.ts";
import { ID_TOKEN_CLAIMS } from "../oauth/id-token.ts";
import {
  GRANT_TYPES,
  RESPONSE_MODES,
  RESPONSE_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
} from "../oauth/metadata.ts";
import { CODE_CHALLENGE_METHODS } from "../oauth/pkce.ts";
import { ACCEPTED_SCOPE_VALUES, SCOPES } from "../oauth/scope.ts";
import { consentBody } from "./authorize.ts";

/**
 * OpenAPI 3.1 description of every HTTP route except tRPC (`/trpc/*`, typed by its own client).
 * The OAuth routes parse their forms by hand, so the document is written here, next to them, from the
 * same constants they enforce (grant types, scopes, error codes); test/openapi.test.ts holds it to
 * `createApp().routes` and validates sampled responses against it.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ "application/json": { schema } });
const nullable = (type: string): Schema => ({ type: [type, "null"] });
const snowflake: Schema = { type: "string", pattern: "^[0-9]{1,20}$", description: "Snowflake id (decimal)" };

const partialUserProperties = {
  id: snowflake,
  username: { type: "string" },
  discriminator: { type: "string", pattern: "^[0-9]{4}$" },
  global_name: nullable("string"),
  avatar: nullable("string"),
};
const userViewProperties = {
  ...partialUserProperties,
  email: { ...nullable("string"), description: "Only with the `email` scope" },
  verified: { type: "boolean", description: "Only with the `email` scope" },
  flags: { type: "integer" },
  bot: { type: "boolean" },
  system: { type: "boolean" },
};
const userViewRequired = [
  "id",
  "username",
  "discriminator",
  "global_name",
  "avatar",
  "flags",
  "bot",
  "system",
];

const publicApplicationProperties = {
  id: { ...snowflake, description: "Also the OAuth client_id" },
  name: { type: "string" },
  icon_hash: nullable("string"),
  description: nullable("string"),
  owner: ref("PartialUser"),
  bot_public: { type: "boolean" },
  bot_require_code_grant: { type: "boolean" },
  terms_of_service_url: nullable("string"),
  privacy_policy_url: nullable("string"),
  verify_key: { type: "string", description: "Hex-encoded Ed25519 public key" },
};

const object = (properties: Record<string, Schema>, required: string[]): Schema => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
});

const authorizationServerMetadataProperties: Record<string, Schema> = {
  issuer: { type: "string" },
  authorization_endpoint: { type: "string" },
  token_endpoint: { type: "string" },
  revocation_endpoint: { type: "string" },
  introspection_endpoint: { type: "string" },
  userinfo_endpoint: { type: "string" },
  jwks_uri: { type: "string" },
  scopes_supported: { type: "array", items: { enum: [...ACCEPTED_SCOPE_VALUES] } },
  response_types_supported: { type: "array", items: { enum: [...RESPONSE_TYPES] } },
  response_modes_supported: { type: "array", items: { enum: [...RESPONSE_MODES] } },
  grant_types_supported: { type: "array", items: { enum: [...GRANT_TYPES] } },
  token_endpoint_auth_methods_supported: {
    type: "array",
    items: { enum: [...TOKEN_ENDPOINT_AUTH_METHODS] },
  },
  revocation_endpoint_auth_methods_supported: {
    type: "array",
    items: { enum: [...TOKEN_ENDPOINT_AUTH_METHODS] },
  },
  introspection_endpoint_auth_methods_supported: {
    type: "array",
    items: { enum: [...TOKEN_ENDPOINT_AUTH_METHODS] },
  },
  code_challenge_methods_supported: { type: "array", items: { enum: [...CODE_CHALLENGE_METHODS] } },
  authorization_response_iss_parameter_supported: { const: true },
};
const authorizationServerMetadataRequired = [
  "issuer",
  "authorization_endpoint",
  "token_endpoint",
  "revocation_endpoint",
  "introspection_endpoint",
  "scopes_supported",
  "response_types_supported",
  "grant_types_supported",
  "code_challenge_methods_supported",
];

const schemas: Record<string, Schema> = {
  Health: object({ status: { enum: ["ok", "unavailable"] } }, ["status"]),
  ApiError: {
    ...object(
      {
        code: { enum: Object.keys(API_ERRORS) },
        message: { type: "string" },
        errors: {
          type: "array",
          items: object({ path: { type: "string" }, code: { type: "string" }, message: { type: "string" } }, [
            "path",
            "code",
            "message",
          ]),
        },
        required_scope: { enum: [...SCOPES], description: "With MISSING_OAUTH_SCOPE" },
        retry_after: { type: "number", description: "Seconds, with RATE_LIMITED" },
        global: { type: "boolean", description: "With RATE_LIMITED" },
      },
      ["code", "message"],
    ),
    description: "REST error envelope (SPEC §3)",
  },
  OAuthError: {
    ...object(
      {
        error: { type: "string", description: "RFC 6749 §5.2 error code, or rate_limited" },
        error_description: { type: "string" },
        retry_after: { type: "number", description: "Seconds, with rate_limited" },
      },
      ["error"],
    ),
    description: "RFC 6749 §5.2 error response",
  },
  TokenResponse: object(
    {
      access_token: { type: "string" },
      token_type: { const: "Bearer" },
      expires_in: { type: "integer", minimum: 0 },
      refresh_token: { type: "string", description: "Absent for client_credentials" },
      scope: { type: "string" },
      id_token: { type: "string", description: "OpenID Connect: a JWS (RS256) when the grant holds openid" },
    },
    ["access_token", "token_type", "expires_in", "scope"],
  ),
  Introspection: {
    oneOf: [
      object(
        {
          active: { const: true },
          scope: { type: "string" },
          client_id: snowflake,
          token_type: { enum: ["Bearer", "refresh_token"] },
          exp: { type: "integer", description: "Access tokens only" },
          iat: { type: "integer" },
          sub: snowflake,
          iss: { type: "string" },
        },
        ["active", "scope", "client_id", "token_type", "iat", "sub", "iss"],
      ),
      object({ active: { const: false } }, ["active"]),
    ],
  },
  AuthorizationServerMetadata: object(
    authorizationServerMetadataProperties,
    authorizationServerMetadataRequired,
  ),
  OpenIDProviderMetadata: object(
    {
      ...authorizationServerMetadataProperties,
      subject_types_supported: { type: "array", items: { const: "public" } },
      id_token_signing_alg_values_supported: { type: "array", items: { const: ID_TOKEN_SIGNING_ALG } },
      claims_supported: { type: "array", items: { enum: [...ID_TOKEN_CLAIMS] } },
      prompt_values_supported: { type: "array", items: { enum: [...PROMPT_VALUES] } },
      claims_parameter_supported: { const: false },
      request_parameter_supported: { const: false },
      request_uri_parameter_supported: { const: false },
    },
    [
      ...authorizationServerMetadataRequired,
      "jwks_uri",
      "subject_types_supported",
      "id_token_signing_alg_values_supported",
    ],
  ),
  PartialUser: object(partialUserProperties, ["id", "username", "discriminator", "global_name", "avatar"]),
  User: object(userViewProperties, userViewRequired),
  UserInfo: {
    ...object(
      {
        sub: snowflake,
        ...userViewProperties,
        preferred_username: { type: "string", description: "openid + identify" },
        name: { type: "string", description: "openid + identify" },
        email_verified: { type: "boolean", description: "openid + email" },
      },
      ["sub"],
    ),
    description: "identify: the user object; openid: the OpenID Connect claims; openid alone: {sub}",
  },
  Jwks: object(
    {
      keys: {
        type: "array",
        items: {
          type: "object",
          properties: {
            kty: { const: "RSA" },
            kid: { type: "string" },
            alg: { const: ID_TOKEN_SIGNING_ALG },
            use: { const: "sig" },
            n: { type: "string" },
            e: { type: "string" },
          },
          required: ["kty", "kid", "alg", "use", "n", "e"],
          additionalProperties: false,
        },
      },
    },
    ["keys"],
  ),
  PublicApplication: object(publicApplicationProperties, Object.keys(publicApplicationProperties)),
  Application: object(
    {
      ...publicApplicationProperties,
      owner_id: snowflake,
      bot_user_id: { oneOf: [snowflake, { type: "null" }] },
      redirect_uris: { type: "array", items: { type: "string" } },
      public_client: { type: "boolean" },
      version: { type: "integer", minimum: 1 },
    },
    [
      ...Object.keys(publicApplicationProperties),
      "owner_id",
      "bot_user_id",
      "redirect_uris",
      "public_client",
      "version",
    ],
  ),
  CurrentAuthorization: object(
    {
      application: ref("PublicApplication"),
      scopes: { type: "array", items: { enum: [...SCOPES] } },
      expires: { type: "string", format: "date-time" },
      user: { ...ref("User"), description: "Only with the `identify` scope" },
    },
    ["application", "scopes", "expires"],
  ),
  ConsentRequest: (() => {
    const { $schema, ...schema } = z.toJSONSchema(consentBody) as Schema;
    return schema;
  })(),
  ConsentResponse: object({ redirect_to: { type: "string", format: "uri" } }, ["redirect_to"]),
  TokenRequest: {
    type: "object",
    properties: {
      grant_type: { enum: [...GRANT_TYPES] },
      code: { type: "string", description: "authorization_code" },
      redirect_uri: { type: "string", description: "authorization_code" },
      code_verifier: { type: "string", description: "authorization_code with PKCE (43–128 characters)" },
      refresh_token: { type: "string", description: "refresh_token" },
      scope: { type: "string", description: "refresh_token (narrows) or client_credentials" },
      client_id: { type: "string", description: "client_secret_post, or a public client" },
      client_secret: { type: "string", description: "client_secret_post" },
    },
    required: ["grant_type"],
  },
  TokenReference: {
    type: "object",
    properties: {
      token: { type: "string" },
      token_type_hint: { type: "string", description: "access_token or refresh_token: a hint only" },
      client_id: { type: "string" },
      client_secret: { type: "string" },
    },
    required: ["token"],
  },
};

const html = (description: string) => ({
  description,
  content: { "text/html": { schema: { type: "string" } } },
});
const redirect = (description: string) => ({
  description,
  headers: { Location: { schema: { type: "string" } } },
});
const apiError = (description: string) => ({ description, content: json(ref("ApiError")) });
const oauthError = (description: string) => ({ description, content: json(ref("OAuthError")) });
const ok = (description: string, schema: Schema) => ({ description, content: json(schema) });

/** Errors of every bearer resource (SPEC §8, RFC 6750 §3.1). */
const bearerErrors = {
  "400": apiError("Malformed Authorization header (INVALID_REQUEST)"),
  "401": apiError("Missing token (UNAUTHORIZED) or invalid, expired, revoked token (INVALID_TOKEN)"),
  "429": apiError("Rate limited (bucket oauth:introspect)"),
};
/** Errors of the client-authenticated OAuth endpoints. */
const oauthErrors = {
  "400": oauthError("invalid_request, invalid_grant, invalid_scope, unsupported_grant_type…"),
  "401": oauthError("invalid_client (with WWW-Authenticate: Basic when Basic was used)"),
  "413": oauthError("Body larger than 1 MiB"),
  "429": oauthError("rate_limited, with retry_after"),
  "500": oauthError("server_error"),
};
/** Refusals of the server-rendered forms. */
const formErrors = {
  "400": html("Malformed form or invalid input"),
  "403": html("Cross-site request or invalid CSRF token"),
  "413": html("Form too large"),
  "415": html("Not application/x-www-form-urlencoded"),
};
const formBody = (properties: Record<string, Schema>, required: string[]) => ({
  required: true,
  content: { "application/x-www-form-urlencoded": { schema: { type: "object", properties, required } } },
});
const query = (name: string, description: string, required = false) => ({
  name,
  in: "query",
  required,
  description,
  schema: { type: "string" },
});
const pathParameter = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: { type: "string" },
});

const authorizeParameters = [
  query("client_id", "The application id", true),
  query(
    "redirect_uri",
    "Exactly one of the registered redirect URIs (any port for a registered http loopback URI)",
    true,
  ),
  query("response_type", "code", true),
  query("scope", `Space-separated: ${ACCEPTED_SCOPE_VALUES.join(", ")}`),
  query("state", "Returned unchanged"),
  query("prompt", `Space-separated: ${PROMPT_VALUES.join(", ")} (none alone); default consent`),
  query("code_challenge", "PKCE (RFC 7636)"),
  query("code_challenge_method", "S256 or plain (default); public clients: S256"),
  query("nonce", "OpenID Connect: returned in the ID token"),
  query("max_age", "OpenID Connect: seconds since sign-in after which the user signs in again"),
];
const webAppPage = (summary: string) => ({
  get: {
    tags: ["web app"],
    summary,
    security: [{ sessionCookie: [] }],
    responses: {
      "200": html("The web app's HTML shell"),
      "303": redirect("Signed out: to /login?return_to=…"),
    },
  },
});

function paths() {
  return {
    "/healthz": {
      get: {
        tags: ["operations"],
        summary: "Process up",
        responses: { "200": ok("Up", ref("Health")) },
      },
    },
    "/readyz": {
      get: {
        tags: ["operations"],
        summary: "Database reachable",
        responses: {
          "200": ok("Ready", ref("Health")),
          "503": ok("The database did not answer", ref("Health")),
        },
      },
    },
    "/openapi.json": {
      get: {
        tags: ["operations"],
        summary: "This document",
        responses: { "200": ok("OpenAPI 3.1", { type: "object" }) },
      },
    },
    "/.well-known/oauth-authorization-server": {
      get: {
        tags: ["oauth"],
        summary: "Authorization server metadata (RFC 8414)",
        responses: {
          "200": ok("Metadata (Access-Control-Allow-Origin: *)", ref("AuthorizationServerMetadata")),
        },
      },
    },
    "/.well-known/openid-configuration": {
      get: {
        tags: ["oauth"],
        summary: "OpenID Provider metadata (OIDC Discovery 1.0)",
        responses: { "200": ok("Metadata (Access-Control-Allow-Origin: *)", ref("OpenIDProviderMetadata")) },
      },
    },
    "/v1/oauth2/keys": {
      get: {
        tags: ["oauth"],
        summary: "JWKS: the keys that sign ID tokens, and retired ones whose tokens may be alive",
        responses: {
          "200": {
            description: "JWK set (Access-Control-Allow-Origin: *)",
            content: { "application/jwk-set+json": { schema: ref("Jwks") } },
          },
        },
      },
    },
    "/v1/oauth2/authorize": {
      get: {
        tags: ["oauth"],
        summary: "Authorization endpoint (RFC 6749 §4.1.1)",
        parameters: authorizeParameters,
        security: [{}, { sessionCookie: [] }],
        responses: {
          "200": html("Consent page (signed in)"),
          "302": redirect("To the client with code/state/iss or error (RFC 9207), or to /login"),
          "400": {
            description: "Unknown client or redirect URI: never redirected",
            content: { "text/html": { schema: { type: "string" } }, ...json(ref("OAuthError")) },
          },
          "429": apiError("Rate limited (bucket oauth:authorize)"),
        },
      },
      post: {
        tags: ["oauth"],
        summary: "The consent page's answer (same-origin form with CSRF token)",
        security: [{ sessionCookie: [] }],
        requestBody: formBody(
          {
            csrf_token: { type: "string" },
            action: { enum: ["approve", "deny"] },
            grant: { type: "array", items: { enum: [...SCOPES] }, description: "Approved scopes" },
            client_id: { type: "string" },
            redirect_uri: { type: "string" },
            response_type: { type: "string" },
            scope: { type: "string" },
            state: { type: "string" },
            code_challenge: { type: "string" },
            code_challenge_method: { type: "string" },
            nonce: { type: "string" },
          },
          ["csrf_token", "action"],
        ),
        responses: {
          "303": redirect("To the client with code or error"),
          "401": html("Signed out meanwhile"),
          ...formErrors,
          "400": {
            description: "Malformed form, or unknown client / redirect URI: never redirected",
            content: { "text/html": { schema: { type: "string" } }, ...json(ref("OAuthError")) },
          },
          "429": apiError("Rate limited (bucket oauth:authorize)"),
        },
      },
    },
    "/v1/oauth2/authorize/consent": {
      post: {
        tags: ["oauth"],
        summary: "Consent for first-party frontends (JSON, session token)",
        security: [{ sessionToken: [] }],
        requestBody: { required: true, content: json(ref("ConsentRequest")) },
        responses: {
          "200": ok("Where to send the browser (code or error)", ref("ConsentResponse")),
          "400": {
            description: "Invalid body (REST envelope) or unknown client / redirect URI (OAuth error)",
            content: json({ oneOf: [ref("ApiError"), ref("OAuthError")] }),
          },
          "401": apiError("No valid session token"),
          "413": apiError("Body too large"),
          "415": apiError("Not application/json"),
          "429": apiError("Rate limited (bucket oauth:authorize)"),
        },
      },
    },
    "/v1/oauth2/token": {
      post: {
        tags: ["oauth"],
        summary: "Token endpoint (RFC 6749 §3.2): authorization_code, refresh_token, client_credentials",
        security: [{ clientSecretBasic: [] }, {}],
        requestBody: {
          required: true,
          content: { "application/x-www-form-urlencoded": { schema: ref("TokenRequest") } },
        },
        responses: { "200": ok("Tokens (Cache-Control: no-store)", ref("TokenResponse")), ...oauthErrors },
      },
      options: tokenEndpointPreflight(),
      ...postOnly(),
    },
    "/v1/oauth2/token/revoke": {
      post: {
        tags: ["oauth"],
        summary: "Revocation (RFC 7009): revokes the token's whole family",
        security: [{ clientSecretBasic: [] }, {}],
        requestBody: {
          required: true,
          content: { "application/x-www-form-urlencoded": { schema: ref("TokenReference") } },
        },
        responses: { "200": { description: "Revoked, or nothing to revoke (empty body)" }, ...oauthErrors },
      },
      options: tokenEndpointPreflight(),
      ...postOnly(),
    },
    "/v1/oauth2/introspect": {
      post: {
        tags: ["oauth"],
        summary: "Introspection (RFC 7662): active only for the calling client's live tokens",
        security: [{ clientSecretBasic: [] }, {}],
        requestBody: {
          required: true,
          content: { "application/x-www-form-urlencoded": { schema: ref("TokenReference") } },
        },
        responses: { "200": ok("Token state", ref("Introspection")), ...oauthErrors },
      },
      ...postOnly(),
    },
    "/v1/oauth2/userinfo": {
      get: userinfoOperation(),
      post: userinfoOperation(),
      options: {
        tags: ["resources"],
        summary: "CORS preflight: any origin, Authorization header, no credentials",
        responses: { "204": { description: "Access-Control-Allow-Origin: *" } },
      },
    },
    "/v1/users/@me": {
      get: {
        tags: ["resources"],
        summary: "The user (scope identify)",
        security: [{ bearer: ["identify"] }],
        responses: {
          "200": ok("The user", ref("User")),
          ...bearerErrors,
          "403": apiError("MISSING_OAUTH_SCOPE (identify)"),
        },
      },
    },
    "/v1/oauth2/@me": {
      get: {
        tags: ["resources"],
        summary: "The current authorization (any scope)",
        security: [{ bearer: [] }],
        responses: {
          "200": ok("Application, scopes, expiry and user", ref("CurrentAuthorization")),
          ...bearerErrors,
        },
      },
    },
    "/v1/applications/@me": currentApplication(),
    "/v1/oauth2/applications/@me": currentApplication(),
    "/icons/{applicationId}/{iconHash}": {
      get: {
        tags: ["resources"],
        summary: "An application icon (content-addressed, cached for a year)",
        parameters: [
          pathParameter("applicationId", "Application id"),
          pathParameter("iconHash", "SHA-256 of the icon, hex; an image extension is allowed"),
        ],
        responses: {
          "200": {
            description: "The image",
            content: Object.fromEntries(
              ["image/png", "image/jpeg", "image/gif", "image/webp"].map((type) => [
                type,
                { schema: { type: "string", contentMediaType: type } },
              ]),
            ),
          },
          "404": apiError("Unknown icon (NOT_FOUND)"),
        },
      },
    },
    "/favicon.svg": favicon(),
    "/favicon.ico": favicon(),
    "/": {
      get: { tags: ["pages"], summary: "Home page", responses: { "200": html("Home") } },
    },
    "/login": {
      get: {
        tags: ["pages"],
        summary: "Sign-in page",
        parameters: [query("return_to", "Same-origin path to come back to")],
        responses: { "200": html("Sign-in form (sets the pre-session CSRF cookie)") },
      },
      post: {
        tags: ["pages"],
        summary: "Sign in",
        requestBody: formBody(
          {
            csrf_token: { type: "string" },
            login: { type: "string" },
            password: { type: "string" },
            return_to: { type: "string" },
          },
          ["csrf_token", "login", "password"],
        ),
        responses: {
          "303": redirect("Signed in (sets the session cookie)"),
          "401": html("Wrong login or password"),
          ...formErrors,
          "429": html("Too many failed sign-ins"),
        },
      },
    },
    "/register": {
      get: {
        tags: ["pages"],
        summary: "Sign-up page",
        parameters: [query("return_to", "Same-origin path to come back to")],
        responses: { "200": html("Sign-up form") },
      },
      post: {
        tags: ["pages"],
        summary: "Create an account",
        requestBody: formBody(
          {
            csrf_token: { type: "string" },
            username: { type: "string" },
            email: { type: "string" },
            password: { type: "string" },
            return_to: { type: "string" },
          },
          ["csrf_token", "username", "email", "password"],
        ),
        responses: {
          "303": redirect("Account created, signed in"),
          ...formErrors,
          "409": html("Username or email taken"),
          "429": html("Too many sign-ups from this address"),
        },
      },
    },
    "/logout": {
      post: {
        tags: ["pages"],
        summary: "Sign out",
        security: [{ sessionCookie: [] }],
        requestBody: formBody({ csrf_token: { type: "string" }, return_to: { type: "string" } }, []),
        responses: { "303": redirect("Signed out"), ...formErrors },
      },
    },
    "/developers": {
      get: {
        tags: ["web app"],
        summary: "Developer portal",
        responses: { "302": redirect("To /developers/applications") },
      },
    },
    "/developers/applications": webAppPage("Applications"),
    "/developers/applications/{id}": {
      get: {
        ...webAppPage("An application").get,
        parameters: [pathParameter("id", "Application id")],
      },
    },
    "/settings/authorized-apps": webAppPage("Authorized apps"),
    "/assets/{name}": {
      get: {
        tags: ["web app"],
        summary: "The web app's bundled scripts and styles (content-hashed names)",
        parameters: [pathParameter("name", "File name")],
        responses: {
          "200": {
            description: "The file",
            content: {
              "text/javascript": { schema: { type: "string" } },
              "text/css": { schema: { type: "string" } },
            },
          },
          "404": apiError("Unknown file (NOT_FOUND)"),
        },
      },
    },
  };
}

/** RFC 9110 §15.5.6: the client-authenticated OAuth endpoints answer other methods with 405. */
function postOnly() {
  const operation = {
    tags: ["oauth"],
    summary: "Not allowed: this endpoint takes POST",
    responses: {
      "405": {
        description: "invalid_request, with Allow: POST",
        headers: { Allow: { schema: { const: "POST" } } },
        content: json(ref("OAuthError")),
      },
    },
  };
  return Object.fromEntries(["get", "head", "put", "patch", "delete"].map((method) => [method, operation]));
}

/** OIDC Core §5.3.1: GET and POST, bearer in Authorization; CORS `*`. */
/** SPEC §7.2: browsers of public clients call token and revocation cross-origin. */
function tokenEndpointPreflight() {
  return {
    tags: ["oauth"],
    summary: "CORS preflight: answered for the origins of public clients' redirect URIs",
    responses: {
      "204": {
        description:
          "Access-Control-Allow-Origin: the origin when a public client registered it (else no CORS headers); the request itself must come from the calling client's redirect origins",
      },
    },
  };
}

function userinfoOperation() {
  return {
    tags: ["resources"],
    summary:
      "The user: identify gives the user object (email and verified with email); openid the OIDC claims",
    security: [{ bearer: ["identify"] }, { bearer: ["openid"] }],
    responses: {
      "200": ok("The user (Access-Control-Allow-Origin: *)", ref("UserInfo")),
      ...bearerErrors,
      "403": apiError("MISSING_OAUTH_SCOPE (identify or openid)"),
    },
  };
}

function currentApplication() {
  return {
    get: {
      tags: ["resources"],
      summary: "The current application (Bot token or client-credentials bearer)",
      security: [{ botToken: [] }, { bearer: [] }],
      responses: {
        "200": ok("The application (no secrets)", ref("Application")),
        ...bearerErrors,
        "403": apiError("A user's token, not the application's (ACCESS_DENIED)"),
      },
    },
  };
}

function favicon() {
  return {
    get: {
      tags: ["pages"],
      summary: "The site icon (SVG)",
      responses: {
        "200": { description: "SVG", content: { "image/svg+xml": { schema: { type: "string" } } } },
      },
    },
  };
}

export function openApiDocument(config: { issuer: string }) {
  return {
    openapi: "3.1.0",
    info: {
      title: "Fluxer OAuth2 authorization server",
      version: "1.0.0",
      description:
        "OAuth 2.0 endpoints (RFC 6749, 6750, 7009, 7636, 7662, 8414, 9207), bearer resources, pages and " +
        "the web app. The management API is tRPC at /trpc (typed by @fluxer/client) and is not described here.",
    },
    servers: [{ url: config.issuer }],
    tags: [
      { name: "oauth" },
      { name: "resources" },
      { name: "pages" },
      { name: "web app" },
      { name: "operations" },
    ],
    paths: paths(),
    components: {
      schemas,
      securitySchemes: {
        clientSecretBasic: {
          type: "http",
          scheme: "basic",
          description: "client_id:client_secret (RFC 6749 §2.3.1)",
        },
        bearer: { type: "http", scheme: "bearer", description: "An access token (RFC 6750)" },
        botToken: { type: "apiKey", in: "header", name: "Authorization", description: "`Bot <token>`" },
        sessionToken: {
          type: "apiKey",
          in: "header",
          name: "Authorization",
          description: "A session token (flx_…)",
        },
        sessionCookie: { type: "apiKey", in: "cookie", name: "flx_session" },
      },
    },
  };
}

/** `GET /openapi.json`: built once per app. */
export function openApiRoutes(deps: Deps) {
  const body = JSON.stringify(openApiDocument(deps.config));
  return new Elysia({ name: "openapi" }).get(
    "/openapi.json",
    () =>
      new Response(body, {
        headers: {
          "Content-Type": "application/json",
          "Cache-Control": "public, max-age=300",
          "Access-Control-Allow-Origin": "*",
        },
      }),
  );
}
