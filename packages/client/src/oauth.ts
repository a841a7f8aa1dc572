/**
 * `@fluxer/client/oauth`: what a third-party application needs to sign users in with Fluxer
 * (authorization code + PKCE S256, RFC 9207 `iss` check, refresh, revocation, introspection, and a
 * session that refreshes without ever tripping reuse detection), and OpenID Connect ID tokens,
 * validated when a token response carries one. No tRPC; WebCrypto, fetch and jose only, so it runs in
 * browsers, Node ≥ 20 and Bun.
 */
import { OAuthClientError } from "./oauth/errors.ts";
import { createIdTokenVerifier, type IdTokenClaims } from "./oauth/id-token.ts";
import { computeS256Challenge, generateRandomString } from "./oauth/pkce.ts";
import { createSession, type OAuthSession, type SessionOptions } from "./oauth/session.ts";
import {
  type Introspection,
  oauthErrorOf,
  type TokenSet,
  toIntrospection,
  toTokenSet,
} from "./oauth/token-set.ts";

export type { OAuthSession, SessionOptions, TokenStorage } from "./oauth/session.ts";
export { webStorage } from "./oauth/session.ts";
export type { IdTokenClaims, Introspection, TokenSet };
export { OAuthClientError };

export interface OAuthClientOptions {
  /** The server's issuer URL, e.g. "https://auth.example.com" (endpoint URLs are derived from it). */
  issuer: string;
  clientId: string;
  /** Confidential clients only (sent with client_secret_basic); public clients send none. */
  clientSecret?: string;
  redirectUri: string;
  /** A fetch to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export interface AuthorizationUrlOptions {
  /** Space-separated scopes, or a list of them. */
  scope: string | readonly string[];
  prompt?: "consent" | "none" | "login";
  /** OpenID Connect: made here when the scope holds `openid` and none is given. */
  nonce?: string;
  /** OpenID Connect: the longest acceptable time in seconds since the user signed in. */
  maxAge?: number;
}

export interface AuthorizationRequest {
  url: string;
  /** Keep these until the callback (e.g. in the user's session): `exchangeCode` needs them. */
  state: string;
  codeVerifier: string;
  /** The nonce sent (OpenID Connect); the ID token must carry it. */
  nonce?: string;
}

export interface CallbackChecks {
  state: string;
  codeVerifier: string;
  /** The authorization request's nonce: required when it sent one and the response has an ID token. */
  nonce?: string;
}

export interface OAuthClient {
  readonly issuer: string;
  readonly clientId: string;
  /** Where to send the user; PKCE S256 always. */
  authorizationUrl(options: AuthorizationUrlOptions): Promise<AuthorizationRequest>;
  /**
   * Checks the callback's `iss` (RFC 9207) and `state` before anything else, then redeems the code.
   * An error callback (`?error=access_denied`) throws an `OAuthClientError` with the server's error.
   * An `id_token` in the response is validated (signature against the issuer's JWKS, `iss`, `aud`,
   * `exp`, the request's `nonce`, `at_hash`): `invalid_id_token` otherwise; its claims are returned in
   * `id_token_claims`.
   */
  exchangeCode(callbackUrl: string | URL, checks: CallbackChecks): Promise<TokenSet>;
  /**
   * Rotates the refresh token: the one passed in is used up. `scope` may only narrow. A new
   * `id_token` is validated as in `exchangeCode` (without a nonce: OIDC Core §12.2).
   */
  refresh(refreshToken: string, options?: { scope?: string | readonly string[] }): Promise<TokenSet>;
  /** Revokes the token's whole family (RFC 7009). */
  revoke(token: string, options?: { tokenTypeHint?: "access_token" | "refresh_token" }): Promise<void>;
  /** RFC 7662; confidential clients only. */
  introspect(token: string): Promise<Introspection>;
  /** Keeps an access token valid: see `OAuthSession`. */
  session(tokens: TokenSet, options?: SessionOptions): OAuthSession;
}

function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

/** RFC 8414 §2: an http(s) URL without query or fragment; the trailing slash is dropped like the server does. */
function parseIssuer(issuer: unknown): string {
  const example = 'an absolute http(s) URL such as "https://auth.example.com"';
  const url = typeof issuer === "string" ? parseUrl(issuer) : null;
  if (typeof issuer !== "string" || url === null)
    throw new TypeError(`createOAuthClient: issuer must be ${example}, got ${JSON.stringify(issuer)}`);
  if (
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    url.search ||
    url.hash ||
    issuer.includes("#")
  )
    throw new TypeError(
      `createOAuthClient: issuer must be ${example} without query or fragment, got "${issuer}"`,
    );
  return issuer.replace(/\/+$/, "");
}

function checkOptions(options: OAuthClientOptions): string {
  if (typeof options !== "object" || options === null)
    throw new TypeError("createOAuthClient: expected { issuer, clientId, clientSecret?, redirectUri }");
  const issuer = parseIssuer(options.issuer);
  if (typeof options.clientId !== "string" || options.clientId === "")
    throw new TypeError("createOAuthClient: clientId must be a non-empty string");
  if (
    options.clientSecret !== undefined &&
    (typeof options.clientSecret !== "string" || !options.clientSecret)
  )
    throw new TypeError(
      "createOAuthClient: clientSecret must be a non-empty string, or omitted for a public client",
    );
  if (typeof options.redirectUri !== "string" || parseUrl(options.redirectUri) === null)
    throw new TypeError(
      `createOAuthClient: redirectUri must be an absolute URL registered for the application, got ${JSON.stringify(options.redirectUri)}`,
    );
  return issuer;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded, then base64'd into Basic. */
function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, "+");
  return `Basic ${btoa(`${encode(clientId)}:${encode(clientSecret)}`)}`;
}

function scopeString(scope: string | readonly string[]): string {
  return typeof scope === "string" ? scope : scope.join(" ");
}

/** The one value of a callback parameter; a missing or repeated one is null. */
function single(params: URLSearchParams, name: string): string | null {
  const values = params.getAll(name);
  return values.length === 1 ? (values[0] ?? null) : null;
}

function refuse(error: string, description: string): OAuthClientError {
  return new OAuthClientError(error, description, null);
}

export function createOAuthClient(options: OAuthClientOptions): OAuthClient {
  const issuer = checkOptions(options);
  const { clientId, clientSecret, redirectUri } = options;
  const endpoints = {
    authorization: `${issuer}/v1/oauth2/authorize`,
    token: `${issuer}/v1/oauth2/token`,
    revocation: `${issuer}/v1/oauth2/token/revoke`,
    introspection: `${issuer}/v1/oauth2/introspect`,
  };
  const fetchImpl = options.fetch ?? ((url: string, init: RequestInit) => globalThis.fetch(url, init));
  const verifyIdToken = createIdTokenVerifier({
    issuer,
    clientId,
    fetch: (url, init) => fetchImpl.call(globalThis, url, init),
  });

  /** One authenticated form POST; a non-2xx answer throws the server's OAuth error. */
  async function post(url: string, form: Record<string, string>): Promise<{ status: number; body: unknown }> {
    const body = new URLSearchParams(form);
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    };
    if (clientSecret !== undefined) headers.authorization = basicAuthorization(clientId, clientSecret);
    else body.set("client_id", clientId);
    let response: Response;
    try {
      response = await fetchImpl.call(globalThis, url, { method: "POST", headers, body: body.toString() });
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new OAuthClientError("request_failed", `${url}: ${message}`, null, { cause });
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {}
    if (!response.ok) throw oauthErrorOf(json, response.status);
    return { status: response.status, body: json };
  }

  /** A token request; an ID token in the answer is validated before the tokens are returned. */
  async function tokenRequest(form: Record<string, string>, nonce: string | null): Promise<TokenSet> {
    const { status, body } = await post(endpoints.token, form);
    const tokens = toTokenSet(body, status, Math.floor(Date.now() / 1000));
    if (tokens.id_token !== undefined)
      tokens.id_token_claims = await verifyIdToken(tokens.id_token, {
        accessToken: tokens.access_token,
        nonce,
      });
    return tokens;
  }

  async function refresh(refreshToken: string, refreshOptions: { scope?: string | readonly string[] } = {}) {
    const form: Record<string, string> = { grant_type: "refresh_token", refresh_token: refreshToken };
    if (refreshOptions.scope !== undefined) form.scope = scopeString(refreshOptions.scope);
    // OIDC Core §12.2: a refreshed ID token carries no nonce.
    const tokens = await tokenRequest(form, null);
    // A server that does not rotate keeps the presented token valid (RFC 6749 §6).
    return tokens.refresh_token === undefined ? { ...tokens, refresh_token: refreshToken } : tokens;
  }

  /** Refreshes with one token in flight at most once per client: concurrent sessions share it. */
  const refreshing = new Map<string, Promise<TokenSet>>();
  function refreshOnce(refreshToken: string): Promise<TokenSet> {
    let pending = refreshing.get(refreshToken);
    if (!pending) {
      pending = refresh(refreshToken).finally(() => refreshing.delete(refreshToken));
      refreshing.set(refreshToken, pending);
    }
    return pending;
  }

  return {
    issuer,
    clientId,

    async authorizationUrl({ scope, prompt, nonce: givenNonce, maxAge }) {
      const state = generateRandomString();
      const scopes = scopeString(scope);
      const nonce = givenNonce ?? (scopes.split(" ").includes("openid") ? generateRandomString() : undefined);
      const codeVerifier = generateRandomString();
      const url = new URL(endpoints.authorization);
      url.searchParams.set("client_id", clientId);
      url.searchParams.set("redirect_uri", redirectUri);
      url.searchParams.set("response_type", "code");
      url.searchParams.set("scope", scopes);
      url.searchParams.set("state", state);
      url.searchParams.set("code_challenge", await computeS256Challenge(codeVerifier));
      url.searchParams.set("code_challenge_method", "S256");
      if (prompt !== undefined) url.searchParams.set("prompt", prompt);
      if (nonce !== undefined) url.searchParams.set("nonce", nonce);
      if (maxAge !== undefined) url.searchParams.set("max_age", String(maxAge));
      return nonce === undefined
        ? { url: url.toString(), state, codeVerifier }
        : { url: url.toString(), state, codeVerifier, nonce };
    },

    async exchangeCode(callbackUrl, checks) {
      const callback = parseUrl(String(callbackUrl));
      if (callback === null) throw refuse("invalid_callback", "The callback URL is not an absolute URL");
      const params = callback.searchParams;
      const iss = single(params, "iss");
      if (iss !== issuer)
        throw refuse(
          "invalid_issuer",
          `The callback's iss ${JSON.stringify(iss)} is not the issuer ${issuer}`,
        );
      if (!checks.state || single(params, "state") !== checks.state)
        throw refuse(
          "invalid_state",
          "The callback's state does not match the one this request was sent with",
        );
      const error = single(params, "error");
      if (error !== null) throw new OAuthClientError(error, single(params, "error_description"), null);
      const code = single(params, "code");
      if (code === null) throw refuse("invalid_callback", "The callback carries no code");
      return tokenRequest(
        {
          grant_type: "authorization_code",
          code,
          redirect_uri: redirectUri,
          code_verifier: checks.codeVerifier,
        },
        checks.nonce ?? null,
      );
    },

    refresh,

    async revoke(token, revokeOptions = {}) {
      const form: Record<string, string> = { token };
      if (revokeOptions.tokenTypeHint) form.token_type_hint = revokeOptions.tokenTypeHint;
      await post(endpoints.revocation, form);
    },

    async introspect(token) {
      const { status, body } = await post(endpoints.introspection, { token });
      return toIntrospection(body, status);
    },

    session(tokens, sessionOptions = {}) {
      return createSession(refreshOnce, tokens, {
        ...sessionOptions,
        lockName: sessionOptions.lockName ?? `@fluxer/client/oauth ${issuer} ${clientId}`,
      });
    },
  };
}
