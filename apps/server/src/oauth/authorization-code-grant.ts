/**
 * grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6): read → decide → write.
 *
 * `decideCodeExchange` below is the only place any rule of this grant is stated; the read gathers what
 * it needs in one query, and each outcome has exactly one write. Database round trips (client
 * authentication included; the read also confirms a client matched from the process cache):
 * - issue: 2 — the read, then one statement that consumes the code (deletes it: the compare-and-swap
 *   is that the row is still there) and creates the family with its first pair. If the swap fails,
 *   another exchange won: read and decide again (which then finds a replay).
 * - replay: 1 + the revocation transaction (BEGIN, UPDATE families, INSERT audit ×2, COMMIT).
 * - every refusal: 1 (the read), nothing written; the code stays usable.
 */
import { generateToken, hashToken, hasTokenShape } from "../crypto.ts";
import type { Deps } from "../deps.ts";
import {
  type CodeExchangeState,
  consumeCodeIntoFamily,
  readCodeExchange,
  revokeReplayedCode,
} from "../domain/authorization-codes.ts";
import {
  type AuthenticatedClient,
  type ConfirmedClient,
  confirmAgainst,
} from "../domain/client-authentication.ts";
import type { IssuedTokens } from "../domain/issued-tokens.ts";
import { countRevocations } from "../metrics.ts";
import { staleClient } from "./client.ts";
import { invalidGrant, invalidRequest } from "./errors.ts";
import type { Params } from "./params.ts";
import { isValidCodeVerifier, verifyCodeVerifier } from "./pkce.ts";

export interface CodeExchangeRequest {
  redirectUri: string;
  /** The presented code_verifier, or null when the request has none. */
  verifier: string | null;
}

export type CodeExchangeDecision =
  | { kind: "stale_client" }
  | { kind: "refuse"; description: string }
  | { kind: "replay"; client: ConfirmedClient; userId: string }
  | {
      kind: "issue";
      client: ConfirmedClient;
      userId: string;
      scopes: string[];
      authTime: Date | null;
      nonce: string | null;
    };

/** Every rule of the code grant, in order. Pure: state and time in, one decision out. */
export function decideCodeExchange(
  state: CodeExchangeState,
  client: AuthenticatedClient,
  request: CodeExchangeRequest,
  now: Date,
): CodeExchangeDecision {
  // Client authentication comes first (SPEC §7.2): a secret reset or a deletion anywhere is seen here.
  const confirmed = confirmAgainst(client, state.storedSecretHash, { publicClient: state.publicClient });
  if (!confirmed) return { kind: "stale_client" };
  const { code } = state;
  if (code === null) {
    // Single use (RFC 6749 §4.1.2): an exchange deletes its code, and the family it created remembers
    // the code's hash; a second use is a replay, which revokes what the first one produced.
    if (state.issuedFamily) return { kind: "replay", client: confirmed, userId: state.issuedFamily.userId };
    return { kind: "refuse", description: "Invalid authorization code" };
  }
  // Another client's code: refused without a word about it, and nothing of theirs is revoked.
  if (code.applicationId !== confirmed.id)
    return { kind: "refuse", description: "Invalid authorization code" };
  if (code.expiresAt.getTime() <= now.getTime())
    return { kind: "refuse", description: "Authorization code expired" };
  if (code.redirectUri !== request.redirectUri)
    return { kind: "refuse", description: "redirect_uri does not match the authorization request" };
  // Without a secret, only an S256 verifier proves the code is the client's own (SPEC §7.2); the
  // authorization endpoint already insists, this covers codes issued before the client became public.
  if (confirmed.secretHash === null && code.codeChallengeMethod !== "S256")
    return { kind: "refuse", description: "A public client's code must be bound to an S256 code_challenge" };
  // PKCE (RFC 7636 §4.6): a verifier is required iff a challenge was bound; one sent for a code
  // without a challenge is a downgrade attempt.
  if (code.codeChallenge === null) {
    if (request.verifier !== null)
      return { kind: "refuse", description: "code_verifier sent for a code issued without PKCE" };
  } else {
    if (request.verifier === null) return { kind: "refuse", description: "Missing code_verifier" };
    if (!isValidCodeVerifier(request.verifier))
      return { kind: "refuse", description: "code_verifier must be 43-128 unreserved characters" };
    if (!verifyCodeVerifier(request.verifier, code.codeChallenge, code.codeChallengeMethod ?? "plain"))
      return { kind: "refuse", description: "code_verifier does not match the code challenge" };
  }
  return {
    kind: "issue",
    client: confirmed,
    userId: code.userId,
    scopes: code.scopes,
    authTime: code.authTime,
    nonce: code.nonce,
  };
}

export async function exchangeAuthorizationCode(
  deps: Deps,
  client: AuthenticatedClient,
  params: Params,
): Promise<IssuedTokens> {
  const code = params.get("code");
  const redirectUri = params.get("redirect_uri");
  if (code === undefined) throw invalidRequest("Missing code");
  if (redirectUri === undefined) throw invalidRequest("Missing redirect_uri");
  const request = { redirectUri, verifier: params.get("code_verifier") ?? null };
  if (!hasTokenShape(code)) throw invalidGrant("Invalid authorization code");
  const codeHash = hashToken(code);
  const now = deps.clock.now();

  // A lost compare-and-swap means the state changed under us: read and decide once more. The second
  // decision cannot be `issue` for the same reason (the code is consumed, or the application gone).
  for (let attempt = 0; attempt < 2; attempt++) {
    const state = await readCodeExchange(deps.db, { clientId: client.id, codeHash });
    const decision = decideCodeExchange(state, client, request, now);
    switch (decision.kind) {
      case "stale_client":
        throw staleClient(deps, client);
      case "refuse":
        throw invalidGrant(decision.description);
      case "replay": {
        const revoked = await revokeReplayedCode(deps.db, decision.client, {
          codeHash,
          userId: decision.userId,
          now,
          nextId: deps.nextId,
        });
        deps.metrics.codeReplays.inc();
        countRevocations(deps.metrics, "code_replay", revoked.length);
        throw invalidGrant("Authorization code already used");
      }
      case "issue": {
        const tokens = await consumeCodeIntoFamily(deps.db, decision.client, {
          codeHash,
          familyId: deps.nextId(),
          userId: decision.userId,
          scopes: decision.scopes,
          authTime: decision.authTime,
          nonce: decision.nonce,
          now,
          accessTokenTtlSeconds: deps.config.accessTokenTtlSeconds,
          accessToken: generateToken(),
          refreshToken: generateToken(),
        });
        if (tokens) return tokens;
      }
    }
  }
  throw new Error("authorization code exchange: the code changed twice under one request");
}
