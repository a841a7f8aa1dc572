import type { Db } from "../db/database.ts";
import { findAuthorizationClient } from "../domain/applications.ts";
import { matchRedirectUri } from "../domain/redirect-uris.ts";
import { invalidRequest, OAuthError, unsupportedResponseType } from "./errors.ts";
import { type CodeChallengeMethod, isValidCodeChallenge } from "./pkce.ts";
import { parseScope, type Scope } from "./scope.ts";

/** The parameters of an authorization request (SPEC §7.1); anything else is ignored (RFC 6749 §3.1). */
export const AUTHORIZE_PARAMS = [
  "client_id",
  "redirect_uri",
  "response_type",
  "scope",
  "state",
  "prompt",
  "code_challenge",
  "code_challenge_method",
  "response_mode",
  "nonce",
  "max_age",
] as const;

/** OIDC Core §3.1.2.1 `prompt` values honoured (space-separated; `none` only alone). */
export const PROMPT_VALUES = ["none", "login", "consent"] as const;
/** `prompt` as decided: `login` forces a fresh sign-in, `none` shows nothing, `consent` is the default. */
export type Prompt = (typeof PROMPT_VALUES)[number];

const MAX_NONCE_LENGTH = 512;

/** What the consent page shows about the client. */
export interface AuthorizationClient {
  id: string;
  name: string;
  description: string | null;
  iconHash: string | null;
  ownerUsername: string | null;
  termsOfServiceUrl: string | null;
  privacyPolicyUrl: string | null;
}

export interface AuthorizationRequest {
  client: AuthorizationClient;
  /**
   * The URI presented: a registered string, or a registered http loopback URI on another port. The code
   * is bound to it and the token endpoint compares against it exactly.
   */
  redirectUri: string;
  scopes: Scope[];
  state: string | null;
  prompt: Prompt;
  codeChallenge: string | null;
  codeChallengeMethod: CodeChallengeMethod | null;
  /** OpenID Connect: returned in the ID token. */
  nonce: string | null;
  /** OpenID Connect: the longest time in seconds since the user signed in that is still acceptable. */
  maxAge: number | null;
}

/** Where a redirectable error goes; null when client or redirect URI could not be trusted. */
export interface ErrorTarget {
  redirectUri: string;
  state: string | null;
}

/** A validated request's errors go back to its redirect URI, with its state. */
export function errorTargetOf(request: AuthorizationRequest): ErrorTarget {
  return { redirectUri: request.redirectUri, state: request.state };
}

export type AuthorizeValidation =
  | { ok: true; request: AuthorizationRequest }
  | { ok: false; error: OAuthError; target: ErrorTarget | null };

/** Read access to parameters: URLSearchParams fits, so do forms and JSON bodies converted to it. */
export interface ParamSource {
  getAll(name: string): string[];
}

/** RFC 6749 §3.1: a parameter sent without a value is treated as omitted. */
function single(params: ParamSource, name: string): { value: string | null; duplicated: boolean } {
  const values = params.getAll(name).filter((value) => value !== "");
  return { value: values[0] ?? null, duplicated: values.length > 1 };
}

const fatal = (code: "invalid_request" | "invalid_client", description: string): AuthorizeValidation => ({
  ok: false,
  error: new OAuthError(code, description, { redirectable: false, status: 400 }),
  target: null,
});

/**
 * Validates in the order of SPEC §7.1. Client and redirect URI first: until both are known, nothing
 * may be redirected (an attacker-chosen redirect_uri would turn errors into an open redirector), so a
 * duplicated client_id or redirect_uri is also fatal. After that every problem, including other
 * duplicated parameters, is redirected with the state (unless the state itself was duplicated).
 */
export async function validateAuthorizationRequest(
  db: Db,
  params: ParamSource,
): Promise<AuthorizeValidation> {
  const clientId = single(params, "client_id");
  if (clientId.duplicated) return fatal("invalid_request", "client_id is duplicated");
  if (!clientId.value) return fatal("invalid_request", "client_id is required");
  const client = await findAuthorizationClient(db, clientId.value);
  if (!client) return fatal("invalid_client", "Unknown client_id");

  const redirectUri = single(params, "redirect_uri");
  if (redirectUri.duplicated) return fatal("invalid_request", "redirect_uri is duplicated");
  if (!redirectUri.value) return fatal("invalid_request", "redirect_uri is required");
  // Raw string equality with a registered URI (no normalisation, no prefix matching, SPEC §12); only
  // the port of a registered http loopback URI is free (SPEC §7.1).
  const matchedRedirectUri = matchRedirectUri(client.redirect_uris, redirectUri.value);
  if (matchedRedirectUri === null)
    return fatal("invalid_request", "redirect_uri is not registered for this client");
  // Registration validates URIs; this only keeps a bad stored row from becoming a 500.
  if (!URL.canParse(matchedRedirectUri))
    return fatal("invalid_request", "The registered redirect_uri is invalid");

  const state = single(params, "state");
  const target: ErrorTarget = {
    redirectUri: matchedRedirectUri,
    state: state.duplicated ? null : state.value,
  };
  const fail = (error: OAuthError): AuthorizeValidation => ({ ok: false, error, target });

  const duplicated = AUTHORIZE_PARAMS.filter((name) => single(params, name).duplicated);
  if (duplicated.length > 0) return fail(invalidRequest(`Duplicated parameter: ${duplicated.join(", ")}`));

  const responseMode = single(params, "response_mode").value;
  if (responseMode !== null && responseMode !== "query")
    return fail(invalidRequest("Only response_mode=query is supported"));

  const responseType = single(params, "response_type").value;
  if (responseType === null) return fail(invalidRequest("response_type is required"));
  if (responseType !== "code") return fail(unsupportedResponseType("Only response_type=code is supported"));

  let scopes: Scope[];
  try {
    scopes = parseScope(single(params, "scope").value);
  } catch (error) {
    if (error instanceof OAuthError) return fail(error);
    throw error;
  }
  if (scopes.length === 0) return fail(new OAuthError("invalid_scope", "scope is required"));

  const prompts = (single(params, "prompt").value ?? "consent").split(" ").filter((value) => value !== "");
  if (prompts.some((value) => !(PROMPT_VALUES as readonly string[]).includes(value)))
    return fail(invalidRequest("prompt must be consent, login or none"));
  if (prompts.includes("none") && prompts.length > 1)
    return fail(invalidRequest("prompt=none cannot be combined with other values"));
  const prompt: Prompt = prompts.includes("none") ? "none" : prompts.includes("login") ? "login" : "consent";

  const nonce = single(params, "nonce").value;
  if (nonce !== null && nonce.length > MAX_NONCE_LENGTH)
    return fail(invalidRequest(`nonce must be at most ${MAX_NONCE_LENGTH} characters`));
  const maxAgeValue = single(params, "max_age").value;
  if (maxAgeValue !== null && !/^\d{1,9}$/.test(maxAgeValue))
    return fail(invalidRequest("max_age must be a whole number of seconds"));
  const maxAge = maxAgeValue === null ? null : Number(maxAgeValue);

  const challenge = single(params, "code_challenge").value;
  const method = single(params, "code_challenge_method").value;
  if (challenge === null && method !== null)
    return fail(invalidRequest("code_challenge_method without code_challenge"));
  let codeChallengeMethod: CodeChallengeMethod | null = null;
  if (challenge !== null) {
    // RFC 7636 §4.3: an omitted method means plain.
    const resolved = method ?? "plain";
    if (resolved !== "S256" && resolved !== "plain")
      return fail(invalidRequest("code_challenge_method must be S256 or plain"));
    if (!isValidCodeChallenge(challenge, resolved)) return fail(invalidRequest("Invalid code_challenge"));
    codeChallengeMethod = resolved;
  }
  // A public client has no secret: the PKCE verifier is what proves the code is its own (SPEC §7.2).
  if (client.public_client && codeChallengeMethod !== "S256")
    return fail(invalidRequest("A public client must use PKCE with code_challenge_method=S256"));

  return {
    ok: true,
    request: {
      client: {
        id: client.id,
        name: client.name,
        description: client.description,
        iconHash: client.icon_hash,
        ownerUsername: client.owner_username,
        termsOfServiceUrl: client.terms_of_service_url,
        privacyPolicyUrl: client.privacy_policy_url,
      },
      redirectUri: matchedRedirectUri,
      scopes,
      state: target.state,
      prompt,
      codeChallenge: challenge,
      codeChallengeMethod,
      nonce,
      maxAge,
    },
  };
}
