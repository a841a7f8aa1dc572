/**
 * grant_type=refresh_token (RFC 6749 §6) with rotation inside the token family: read → decide → write.
 *
 * `decideRefresh` below is the only place any rule of this grant is stated; the read gathers what it
 * needs in one query, and each outcome has exactly one write. Database round trips (client
 * authentication included; the read also confirms a client matched from the process cache):
 * - rotate (scoped or not): 2 — the read, then one statement that consumes the token (compare-and-swap
 *   on `used_at is null` and the family's `revoked_at is null`) and inserts the successor pair. If the
 *   swap fails, the state changed under us: read and decide again.
 * - grace retry: 1 (the read; the pair it returns was written by the first attempt).
 * - reuse: 1 + the revocation transaction (BEGIN, UPDATE family, INSERT audit ×2, COMMIT).
 * - every refusal: 1, nothing written.
 */
import { hashToken, hasTokenShape } from "../crypto.ts";
import type { Deps } from "../deps.ts";
import {
  type AuthenticatedClient,
  type ConfirmedClient,
  confirmAgainst,
} from "../domain/client-authentication.ts";
import type { IssuedTokens } from "../domain/issued-tokens.ts";
import {
  type RefreshState,
  readRefresh,
  revokeFamilyOnReuse,
  rotateRefreshToken,
} from "../domain/refresh-tokens.ts";
import { deriveSuccessorTokens } from "../domain/token-families.ts";
import { countRevocations } from "../metrics.ts";
import { staleClient } from "./client.ts";
import { invalidGrant, invalidRequest, invalidScope } from "./errors.ts";
import type { Params } from "./params.ts";
import { isSubset, parseRequestedScope } from "./scope.ts";

export interface RefreshPolicy {
  /** REFRESH_REUSE_GRACE_SECONDS: 0 = every second use is reuse. */
  graceSeconds: number;
  /** REFRESH_TOKEN_IDLE_SECONDS: a refresh token unused this long has expired; null = never. */
  idleSeconds: number | null;
}

export type RefreshDecision =
  | { kind: "stale_client" }
  | { kind: "refuse"; error: "invalid_grant" | "invalid_scope"; description: string }
  | {
      kind: "reuse";
      client: ConfirmedClient;
      familyId: string;
      userId: string;
      generation: number;
      usedAt: Date;
    }
  | { kind: "grace_retry"; expiresAt: Date; scopes: string[]; userId: string; authTime: Date | null }
  | {
      kind: "rotate";
      client: ConfirmedClient;
      familyId: string;
      userId: string;
      generation: number;
      refreshScopes: string[];
      accessScopes: string[];
      authTime: Date | null;
    };

/** REFRESH_TOKEN_IDLE_SECONDS: a refresh token created that long ago has expired (null: never). */
export function isIdleExpired(createdAt: Date, now: Date, idleSeconds: number | null): boolean {
  return idleSeconds !== null && now.getTime() - createdAt.getTime() >= idleSeconds * 1000;
}

const sameScopes = (a: readonly string[], b: readonly string[]) => isSubset(a, b) && isSubset(b, a);

/** Every rule of the refresh grant, in order. Pure: state and time in, one decision out. */
export function decideRefresh(
  state: RefreshState,
  client: AuthenticatedClient,
  request: { scopes: string[] | null },
  now: Date,
  policy: RefreshPolicy,
): RefreshDecision {
  // Client authentication comes first (SPEC §7.2): a secret reset or a deletion anywhere is seen here.
  const confirmed = confirmAgainst(client, state.storedSecretHash, { publicClient: state.publicClient });
  if (!confirmed) return { kind: "stale_client" };
  const { token } = state;
  // Unknown, or another client's: the same answer, so it tells nothing about whose a token is.
  if (token === null || token.applicationId !== confirmed.id)
    return { kind: "refuse", error: "invalid_grant", description: "Invalid refresh token" };
  if (token.familyRevokedAt !== null)
    return { kind: "refuse", error: "invalid_grant", description: "Refresh token revoked" };
  // The access token's scope: what the request names (a subset of the presented token's, which is the
  // originally granted scope), else exactly the presented token's (RFC 6749 §6).
  const accessScopes = request.scopes ?? token.scopes;

  if (token.usedAt !== null) {
    // Grace window: re-presenting the immediate predecessor of a not-yet-used successor returns the
    // same successor pair, but only for the same request: a retry asking for another scope is refused.
    const inGrace =
      policy.graceSeconds > 0 && now.getTime() - token.usedAt.getTime() <= policy.graceSeconds * 1000;
    if (inGrace && state.successor !== null && state.successor.usedAt === null) {
      if (!sameScopes(accessScopes, state.successor.accessScopes))
        return {
          kind: "refuse",
          error: "invalid_grant",
          description: "A retry must ask for the same scope as the first request",
        };
      return {
        kind: "grace_retry",
        expiresAt: state.successor.accessExpiresAt,
        scopes: state.successor.accessScopes,
        userId: token.userId,
        authTime: token.authTime,
      };
    }
    // Reuse of a rotated token: theft is assumed, the whole family is revoked.
    return {
      kind: "reuse",
      client: confirmed,
      familyId: token.familyId,
      userId: token.userId,
      generation: token.generation,
      usedAt: token.usedAt,
    };
  }

  if (isIdleExpired(token.createdAt, now, policy.idleSeconds))
    return { kind: "refuse", error: "invalid_grant", description: "Refresh token expired" };
  if (!isSubset(accessScopes, token.scopes))
    return {
      kind: "refuse",
      error: "invalid_scope",
      description: "Requested scope exceeds the original grant",
    };
  return {
    kind: "rotate",
    client: confirmed,
    familyId: token.familyId,
    userId: token.userId,
    generation: token.generation,
    refreshScopes: token.scopes,
    accessScopes,
    authTime: token.authTime,
  };
}

export async function refreshAccessToken(
  deps: Deps,
  client: AuthenticatedClient,
  params: Params,
): Promise<IssuedTokens> {
  const presented = params.get("refresh_token");
  if (presented === undefined) throw invalidRequest("Missing refresh_token");
  const request = { scopes: params.has("scope") ? parseRequestedScope(params.get("scope")) : null };
  if (!hasTokenShape(presented)) throw invalidGrant("Invalid refresh token");
  const tokenHash = hashToken(presented);
  const policy = {
    graceSeconds: deps.config.refreshReuseGraceSeconds,
    idleSeconds: deps.config.refreshTokenIdleSeconds,
  };
  const successor = deriveSuccessorTokens(
    { successorKey: deps.keys.successorKey, graceSeconds: policy.graceSeconds },
    presented,
  );
  const successorHashes = {
    access: hashToken(successor.accessToken),
    refresh: hashToken(successor.refreshToken),
  };
  const now = deps.clock.now();

  // A lost compare-and-swap means the state changed under us: read and decide once more. The second
  // decision cannot be `rotate` for the same reason (the token is used, or its family revoked).
  for (let attempt = 0; attempt < 2; attempt++) {
    const state = await readRefresh(deps.db, { clientId: client.id, tokenHash, successorHashes });
    const decision = decideRefresh(state, client, request, now, policy);
    switch (decision.kind) {
      case "stale_client":
        throw staleClient(deps, client);
      case "refuse":
        throw decision.error === "invalid_scope"
          ? invalidScope(decision.description)
          : invalidGrant(decision.description);
      case "grace_retry":
        return {
          ...successor,
          expiresAt: decision.expiresAt,
          scopes: decision.scopes,
          authentication: { userId: decision.userId, authTime: decision.authTime, nonce: null },
        };
      case "reuse": {
        const revoked = await revokeFamilyOnReuse(deps.db, decision.client, {
          familyId: decision.familyId,
          userId: decision.userId,
          generation: decision.generation,
          usedAt: decision.usedAt,
          now,
          nextId: deps.nextId,
        });
        deps.metrics.refreshReuseDetected.inc();
        countRevocations(deps.metrics, "refresh_reuse", revoked ? 1 : 0);
        throw invalidGrant("Refresh token already used");
      }
      case "rotate": {
        const tokens = await rotateRefreshToken(deps.db, decision.client, {
          tokenHash,
          userId: decision.userId,
          generation: decision.generation,
          refreshScopes: decision.refreshScopes,
          accessScopes: decision.accessScopes,
          authTime: decision.authTime,
          now,
          accessTokenTtlSeconds: deps.config.accessTokenTtlSeconds,
          ...successor,
          successorHashes,
        });
        if (tokens) {
          deps.metrics.refreshRotations.inc();
          return tokens;
        }
      }
    }
  }
  throw new Error("refresh: the token changed twice under one request");
}
