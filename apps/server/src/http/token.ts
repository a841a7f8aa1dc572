import { Elysia } from "elysia";
import { retryOnConflict } from "../db/retry.ts";
import type { Deps } from "../deps.ts";
import { type AuthenticatedClient, confirmClient } from "../domain/client-authentication.ts";
import { staleClient } from "../oauth/client.ts";
import { invalidRequest, isOAuthError, OAuthError, serverError } from "../oauth/errors.ts";
import { introspectToken } from "../oauth/introspect.ts";
import {
  INTROSPECTION_ENDPOINT_AUTH_METHODS,
  REVOCATION_ENDPOINT_AUTH_METHODS,
  type TokenEndpointAuthMethod,
  tokenEndpointAuthMethodsFor,
} from "../oauth/metadata.ts";
import type { Params } from "../oauth/params.ts";
import { revokeToken } from "../oauth/revoke.ts";
import { handleTokenRequest } from "../oauth/token.ts";
import {
  BodyAbortedError,
  BodyTooLargeError,
  InvalidEncodingError,
  mediaType,
  readBodyText,
} from "./body.ts";
import { authenticateClientRequest } from "./client-auth.ts";
import { limitByIp } from "./rate-limit.ts";
import { tokenEndpointCorsHeaders, tokenEndpointPreflight } from "./token-cors.ts";

/** RFC 6749 §5.1: token responses (and, here, every OAuth endpoint response) are never cached. */
const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" } as const;
const BASIC_CHALLENGE = 'Basic realm="fluxer", charset="UTF-8"';

/** Parameters an error may name: our own words, never the client's (error_description, RFC 6749 §5.2). */
const KNOWN_PARAMETERS = new Set([
  "grant_type",
  "code",
  "redirect_uri",
  "code_verifier",
  "refresh_token",
  "scope",
  "client_id",
  "client_secret",
  "token",
  "token_type_hint",
]);

/**
 * The form body: application/x-www-form-urlencoded only, valid UTF-8, ≤ 1 MiB, each parameter at
 * most once (RFC 6749 §3.2), and a parameter without a value counts as omitted (§3.1).
 */
async function readOAuthForm(request: Request): Promise<Params> {
  if (mediaType(request) !== "application/x-www-form-urlencoded")
    throw invalidRequest("The body must be application/x-www-form-urlencoded");
  let text: string;
  try {
    text = await readBodyText(request);
  } catch (error) {
    if (error instanceof BodyTooLargeError)
      throw new OAuthError("invalid_request", "Request body too large", { status: 413 });
    if (error instanceof InvalidEncodingError) throw invalidRequest("The body is not valid UTF-8");
    if (error instanceof BodyAbortedError) throw invalidRequest("The body arrived incomplete");
    throw error;
  }
  const seen = new Set<string>();
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (seen.has(name))
      throw invalidRequest(
        KNOWN_PARAMETERS.has(name) ? `Parameter ${name} is repeated` : "A parameter is repeated",
      );
    // No honest parameter carries NUL, and PostgreSQL text cannot store it: refuse it here.
    if (name.includes("\u0000") || value.includes("\u0000"))
      throw invalidRequest("Parameters must not contain NUL characters");
    seen.add(name);
    if (value !== "") params.set(name, value);
  }
  return params;
}

/** Elysia's response state: what a handler sets here goes out with the headers set before it. */
interface ResponseState {
  status?: number | string;
  headers: Record<string, string | number>;
}

const JSON_HEADERS = { "Content-Type": "application/json", ...NO_STORE } as const;

/**
 * A JSON answer, written into Elysia's response state and returned as its body text. A handler that
 * returned a Response instead would have it rebuilt by Elysia around a stream of its body, merged with
 * the headers every response carries (app.ts): a copy per request that cost more CPU than the rest of
 * the response.
 */
function json(
  set: ResponseState,
  body: unknown,
  status: number,
  headers: Record<string, string> = {},
): string {
  set.status = status;
  Object.assign(set.headers, JSON_HEADERS, headers);
  return JSON.stringify(body);
}

/**
 * Client authentication comes before the grant (SPEC §7.2): a grant error for a client matched only
 * against the process cache is reported only once the client is confirmed, else it is invalid_client.
 * Costs one SELECT only when nothing confirmed the client yet (the slow grant paths already did).
 */
async function confirmedError(
  deps: Deps,
  client: AuthenticatedClient | null,
  error: unknown,
): Promise<unknown> {
  if (client === null || !isOAuthError(error) || error.code === "invalid_client") return error;
  return (await confirmClient(deps.db, client)) ? error : staleClient(deps, client);
}

interface EndpointPolicy {
  /** The client authentication methods accepted for this request (what metadata advertises). */
  methods: (params: Params) => readonly TokenEndpointAuthMethod[];
  /** Browsers may call it cross-origin (token, revocation: SPEC §7.2). */
  cors: boolean;
}

/**
 * parse → authenticate the client → (browsers: check the origin) → decide → write. OAuth errors
 * become RFC 6749 §5.2 JSON; anything unexpected is logged and becomes server_error (bad input never
 * gets that far). CORS headers go only on answers to an origin the client registered.
 */
function oauthEndpoint(
  deps: Deps,
  name: string,
  policy: EndpointPolicy,
  handle: (set: ResponseState, client: AuthenticatedClient, params: Params) => Promise<string>,
) {
  return async ({ request, set }: { request: Request; set: ResponseState }): Promise<string> => {
    let client: AuthenticatedClient | null = null;
    let cors: Record<string, string> = {};
    try {
      const params = await readOAuthForm(request);
      const authenticated = await authenticateClientRequest(deps, request, params, policy.methods(params));
      client = authenticated;
      if (policy.cors) cors = await tokenEndpointCorsHeaders(deps, authenticated, request);
      // A grant racing an application delete can be PostgreSQL's deadlock victim: it rolled back
      // whole, so it is simply run again (and then sees the application gone).
      const body = await retryOnConflict(() => handle(set, authenticated, params));
      Object.assign(set.headers, cors);
      return body;
    } catch (thrown) {
      let error = thrown;
      try {
        error = await confirmedError(deps, client, thrown);
      } catch (cause) {
        error = cause;
      }
      if (isOAuthError(error)) {
        const headers: Record<string, string> = {};
        if (error.code === "invalid_client") headers["WWW-Authenticate"] = BASIC_CHALLENGE;
        return json(set, error.toJSON(), error.status, { ...headers, ...cors });
      }
      deps.log.error(`${name} endpoint failed`, { error });
      return json(set, serverError().toJSON(), 500);
    }
  };
}

/** RFC 9110 §15.5.6: the three endpoints take POST only. OPTIONS is left alone (CORS preflights). */
const OTHER_METHODS = ["GET", "HEAD", "PUT", "PATCH", "DELETE"] as const;
function methodNotAllowed({ set }: { set: ResponseState }): string {
  return json(set, invalidRequest("This endpoint accepts POST only").toJSON(), 405, { Allow: "POST" });
}

export function tokenRoutes(deps: Deps) {
  const tokenLimit = limitByIp(deps, "oauth:token", { envelope: "oauth" });
  // Revocation and introspection share Fluxer's `oauth:introspect` bucket with the bearer resources.
  const introspectLimit = limitByIp(deps, "oauth:introspect", { envelope: "oauth" });
  const routes = new Elysia({ name: "token" })
    .post(
      "/v1/oauth2/token",
      oauthEndpoint(
        deps,
        "token",
        { methods: (params) => tokenEndpointAuthMethodsFor(params.get("grant_type")), cors: true },
        async (set, client, params) => json(set, await handleTokenRequest(deps, client, params), 200),
      ),
      { parse: "none", beforeHandle: tokenLimit },
    )
    .post(
      "/v1/oauth2/token/revoke",
      oauthEndpoint(
        deps,
        "revocation",
        { methods: () => REVOCATION_ENDPOINT_AUTH_METHODS, cors: true },
        async (set, client, params) => {
          await revokeToken(deps, client, params);
          set.status = 200;
          Object.assign(set.headers, NO_STORE);
          return "";
        },
      ),
      { parse: "none", beforeHandle: introspectLimit },
    )
    .post(
      "/v1/oauth2/introspect",
      oauthEndpoint(
        deps,
        "introspection",
        { methods: () => INTROSPECTION_ENDPOINT_AUTH_METHODS, cors: false },
        async (set, client, params) => json(set, await introspectToken(deps, client, params), 200),
      ),
      { parse: "none", beforeHandle: introspectLimit },
    );
  for (const path of ["/v1/oauth2/token", "/v1/oauth2/token/revoke", "/v1/oauth2/introspect"])
    for (const method of OTHER_METHODS) routes.route(method, path, methodNotAllowed, { parse: "none" });
  for (const path of ["/v1/oauth2/token", "/v1/oauth2/token/revoke"])
    routes.options(path, ({ request }) => tokenEndpointPreflight(deps, request), {
      parse: "none",
      beforeHandle: tokenLimit,
    });
  return routes;
}
