/**
 * grant_type=refresh_token (RFC 6749 §6) with rotation inside the token family.
 *
 * Database round trips (client authentication included; "+1" is the SELECT application that client
 * authentication costs on this process's first request for the client or after a secret change):
 * - rotation: 1 (+1) — one statement consumes the token, locks the family and inserts the successor
 *   pair (was 7: client auth, BEGIN, UPDATE…RETURNING, SELECT family FOR UPDATE, 2 INSERTs, COMMIT).
 * - anything else runs the statement (0 rows) and then the transactional slow path: SELECT application
 *   (cached clients only), then
 *   - grace retry (same pair again): BEGIN, UPDATE (0 rows), SELECT token + family, SELECT successor,
 *     COMMIT;
 *   - reuse detected: BEGIN, UPDATE (0 rows), SELECT token + family, UPDATE family, INSERT audit ×2,
 *     COMMIT (+1 SELECT successor when a grace window is configured);
 *   - unknown token: BEGIN, UPDATE (0 rows), SELECT, COMMIT.
 *   The SELECT application confirms a cached client once: reporting a grant error costs no second one.
 */
import { hashToken, hasTokenShape } from "../crypto.ts";
import type { Deps } from "../deps.ts";
import { recordAuditEvent } from "../domain/audit.ts";
import type { AuthenticatedClient } from "../domain/client-authentication.ts";
import { rotateInOneStatement } from "../domain/one-statement-grants.ts";
import {
  deriveSuccessorTokens,
  type IssuedTokens,
  insertTokens,
  refreshIdleCutoff,
  revokeTokenFamily,
} from "../domain/token-families.ts";
import { requireCurrentClient } from "./client.ts";
import { invalidGrant, invalidRequest, invalidScope } from "./errors.ts";
import { isSubset, parseRequestedScope } from "./scope.ts";
import { countDetection, type GrantOutcome, type Params } from "./token.ts";

export async function rotateRefreshToken(
  deps: Deps,
  client: AuthenticatedClient,
  params: Params,
): Promise<IssuedTokens> {
  const presented = params.get("refresh_token");
  if (presented === undefined) throw invalidRequest("Missing refresh_token");
  const requestedScope = params.has("scope") ? parseRequestedScope(params.get("scope")) : null;
  if (!hasTokenShape(presented)) throw invalidGrant("Invalid refresh token");
  const tokenHash = hashToken(presented);
  const successor = deriveSuccessorTokens(
    { successorKey: deps.keys.successorKey, graceSeconds: deps.config.refreshReuseGraceSeconds },
    presented,
  );
  const now = deps.clock.now();

  const rotated = await rotateInOneStatement(
    deps.db,
    client,
    {
      tokenHash,
      requestedScopes: requestedScope,
      createdAfter: refreshIdleCutoff(deps.config, now),
    },
    {
      now,
      accessTokenTtlSeconds: deps.config.accessTokenTtlSeconds,
      accessToken: successor.accessToken,
      refreshToken: successor.refreshToken,
    },
  );
  if (rotated === "revoked") throw invalidGrant("Refresh token revoked");
  if (rotated) {
    deps.metrics.refreshRotations.inc();
    return rotated;
  }
  await requireCurrentClient(deps, client);
  return rotateSlowly(deps, client, { tokenHash, requestedScope, successor, now });
}

/**
 * Everything but a plain rotation, in one transaction: reuse (revoke the family), grace retries,
 * unknown/foreign/revoked/expired tokens, and rotations that lost a race to the fast path.
 */
async function rotateSlowly(
  deps: Deps,
  client: AuthenticatedClient,
  input: {
    tokenHash: string;
    requestedScope: string[] | null;
    successor: { accessToken: string; refreshToken: string };
    now: Date;
  },
): Promise<IssuedTokens> {
  const { tokenHash, requestedScope, successor, now } = input;
  const grace = deps.config.refreshReuseGraceSeconds;
  const idleCutoff = refreshIdleCutoff(deps.config, now);
  const outcome: GrantOutcome = await deps.db.transaction().execute(async (trx) => {
    // Of N concurrent rotations with one token exactly one sees the row.
    const consumed = await trx
      .updateTable("refresh_tokens")
      .set({ used_at: now })
      .where("token_hash", "=", tokenHash)
      .where("used_at", "is", null)
      .returning(["family_id", "generation", "scopes", "created_at"])
      .executeTakeFirst();

    if (consumed) {
      // Lock the family: a concurrent revocation either commits first (we see it and roll back) or
      // waits for us and then revokes the family, new tokens included. Never a live token after it.
      const family = await trx
        .selectFrom("token_families")
        .select(["application_id", "user_id", "scopes", "revoked_at"])
        .where("id", "=", consumed.family_id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      // Throwing rolls back: the presented token stays unused.
      if (family.application_id !== client.id) throw invalidGrant("Invalid refresh token");
      if (family.revoked_at !== null) throw invalidGrant("Refresh token revoked");
      if (idleCutoff !== null && new Date(consumed.created_at).getTime() <= idleCutoff.getTime())
        throw invalidGrant("Refresh token expired");
      // RFC 6749 §6: a subset of what the resource owner originally granted; omitted → unchanged.
      if (requestedScope !== null && !isSubset(requestedScope, family.scopes))
        throw invalidScope("Requested scope exceeds the original grant");
      const tokens = await insertTokens(trx, {
        familyId: consumed.family_id,
        applicationId: family.application_id,
        userId: family.user_id,
        scopes: requestedScope ?? consumed.scopes,
        generation: consumed.generation + 1,
        now,
        accessTokenTtlSeconds: deps.config.accessTokenTtlSeconds,
        accessToken: successor.accessToken,
        refreshToken: successor.refreshToken,
      });
      return { ok: true, tokens };
    }

    const existing = await trx
      .selectFrom("refresh_tokens")
      .innerJoin("token_families", "token_families.id", "refresh_tokens.family_id")
      .select([
        "refresh_tokens.family_id",
        "refresh_tokens.generation",
        "refresh_tokens.used_at",
        "token_families.application_id",
        "token_families.user_id",
        "token_families.scopes as family_scopes",
        "token_families.revoked_at",
      ])
      .where("refresh_tokens.token_hash", "=", tokenHash)
      .executeTakeFirst();
    if (!existing || existing.application_id !== client.id)
      return { ok: false, description: "Invalid refresh token" };
    if (existing.revoked_at !== null) return { ok: false, description: "Refresh token revoked" };

    const usedAt = existing.used_at === null ? null : new Date(existing.used_at);
    if (grace > 0 && usedAt !== null && now.getTime() - usedAt.getTime() <= grace * 1000) {
      // Idempotent retry: the immediate successor, still unused, is handed out again.
      const pair = await trx
        .selectFrom("refresh_tokens")
        .innerJoin("access_tokens", (join) =>
          join
            .onRef("access_tokens.family_id", "=", "refresh_tokens.family_id")
            .on("access_tokens.token_hash", "=", hashToken(successor.accessToken)),
        )
        .select(["refresh_tokens.scopes", "access_tokens.expires_at"])
        .where("refresh_tokens.token_hash", "=", hashToken(successor.refreshToken))
        .where("refresh_tokens.family_id", "=", existing.family_id)
        .where("refresh_tokens.used_at", "is", null)
        .executeTakeFirst();
      if (pair) {
        if (requestedScope !== null && !isSubset(requestedScope, existing.family_scopes))
          throw invalidScope("Requested scope exceeds the original grant");
        return {
          ok: true,
          graceRetry: true,
          tokens: {
            accessToken: successor.accessToken,
            refreshToken: successor.refreshToken,
            expiresAt: new Date(pair.expires_at),
            scopes: pair.scopes,
          },
        };
      }
    }

    // Reuse of a rotated token: assume theft, revoke the whole family and keep that revocation.
    const revoked = await revokeTokenFamily(trx, existing.family_id, {
      reason: "refresh_reuse",
      now,
      nextId: deps.nextId,
    });
    await recordAuditEvent(trx, {
      id: deps.nextId(),
      type: "refresh_token.reuse_detected",
      at: now,
      userId: existing.user_id,
      applicationId: existing.application_id,
      familyId: existing.family_id,
      data: {
        family_id: existing.family_id,
        generation: existing.generation,
        used_at: usedAt?.toISOString() ?? null,
      },
    });
    return {
      ok: false,
      description: "Refresh token already used",
      detected: { kind: "refresh_reuse", revokedFamilies: revoked ? 1 : 0 },
    };
  });

  countDetection(deps, outcome);
  if (!outcome.ok) throw invalidGrant(outcome.description);
  if (!outcome.graceRetry) deps.metrics.refreshRotations.inc();
  return outcome.tokens;
}
