/**
 * grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6).
 *
 * Database round trips (client authentication included; "+1" is the SELECT application that client
 * authentication costs on this process's first request for the client or after a secret change):
 * - success: 1 (+1) — one statement consumes the code, checks client, expiry, redirect_uri and PKCE,
 *   and inserts family, access and refresh token (was 7: client auth, BEGIN, UPDATE, 3 INSERTs, COMMIT).
 * - invalid code / bad redirect_uri / PKCE / expired: the statement (0 rows), then the slow path: SELECT
 *   application (cached clients only), BEGIN, UPDATE, ROLLBACK (+1 SELECT when unknown or consumed).
 * - replay: the statement, then SELECT application (cached clients), BEGIN, UPDATE (0 rows), SELECT code,
 *   UPDATE families, INSERT audit ×2, COMMIT.
 * The SELECT application of the slow path confirms a cached client once: reporting the grant error
 * costs no second one.
 */
import { generateToken, hashToken, hasTokenShape } from "../crypto.ts";
import type { Deps } from "../deps.ts";
import { recordAuditEvent } from "../domain/audit.ts";
import type { AuthenticatedClient } from "../domain/client-authentication.ts";
import { exchangeCodeInOneStatement } from "../domain/one-statement-grants.ts";
import { createTokenFamily, type IssuedTokens, revokeTokenFamiliesWhere } from "../domain/token-families.ts";
import { requireCurrentClient } from "./client.ts";
import { invalidGrant, invalidRequest } from "./errors.ts";
import { computeS256Challenge, isValidCodeVerifier, verifyCodeVerifier } from "./pkce.ts";
import { countDetection, type GrantOutcome, type Params } from "./token.ts";

export async function exchangeAuthorizationCode(
  deps: Deps,
  client: AuthenticatedClient,
  params: Params,
): Promise<IssuedTokens> {
  const code = params.get("code");
  const redirectUri = params.get("redirect_uri");
  const verifier = params.get("code_verifier") ?? null;
  if (code === undefined) throw invalidRequest("Missing code");
  if (redirectUri === undefined) throw invalidRequest("Missing redirect_uri");
  if (!hasTokenShape(code)) throw invalidGrant("Invalid authorization code");
  const codeHash = hashToken(code);
  const now = deps.clock.now();

  // A malformed verifier never matches; the slow path says why.
  if (verifier === null || isValidCodeVerifier(verifier)) {
    const tokens = await exchangeCodeInOneStatement(
      deps.db,
      client,
      {
        familyId: deps.nextId(),
        codeHash,
        redirectUri,
        verifier,
        s256Challenge: verifier === null ? null : computeS256Challenge(verifier),
      },
      {
        now,
        accessTokenTtlSeconds: deps.config.accessTokenTtlSeconds,
        accessToken: generateToken(),
        refreshToken: generateToken(),
      },
    );
    if (tokens) return tokens;
  }
  return exchangeSlowly(deps, client, { codeHash, redirectUri, verifier, now });
}

/** Every failure (and the replay revocation) in one transaction; also the path for stale cached clients. */
async function exchangeSlowly(
  deps: Deps,
  client: AuthenticatedClient,
  input: { codeHash: string; redirectUri: string; verifier: string | null; now: Date },
): Promise<IssuedTokens> {
  const { codeHash, redirectUri, verifier, now } = input;
  await requireCurrentClient(deps, client);
  const outcome: GrantOutcome = await deps.db.transaction().execute(async (trx) => {
    // Single use: the conditional UPDATE is the only way to consume a code; of N racing exchanges
    // exactly one sees the row (the others block on its lock, then see consumed_at set).
    const consumed = await trx
      .updateTable("authorization_codes")
      .set({ consumed_at: now })
      .where("code_hash", "=", codeHash)
      .where("consumed_at", "is", null)
      .returningAll()
      .executeTakeFirst();

    if (!consumed) {
      const existing = await trx
        .selectFrom("authorization_codes")
        .select(["application_id", "user_id"])
        .where("code_hash", "=", codeHash)
        .executeTakeFirst();
      if (existing && existing.application_id !== client.id)
        return { ok: false, description: "Invalid authorization code" };
      // Cleanup drops consumed codes an hour after expiry, but the family still records its code:
      // a late replay is recognised from there.
      const issued = existing
        ? null
        : await trx
            .selectFrom("token_families")
            .select("user_id")
            .where("code_hash", "=", codeHash)
            .where("application_id", "=", client.id)
            .executeTakeFirst();
      const userId = existing?.user_id ?? issued?.user_id;
      if (userId === undefined) return { ok: false, description: "Invalid authorization code" };
      // Replay (RFC 6749 §4.1.2): revoke what the code produced, and keep that revocation.
      const revocation = { reason: "code_replay" as const, now, nextId: deps.nextId };
      const families = await revokeTokenFamiliesWhere(trx, { codeHash }, revocation);
      await recordAuditEvent(trx, {
        id: deps.nextId(),
        type: "authorization_code.replayed",
        at: now,
        userId,
        applicationId: client.id,
        familyId: families[0] ?? null,
        data: { revoked_families: families },
      });
      return {
        ok: false,
        description: "Authorization code already used",
        detected: { kind: "code_replay", revokedFamilies: families.length },
      };
    }

    // Any failure below throws: the transaction rolls back and the code stays unconsumed.
    if (consumed.application_id !== client.id) throw invalidGrant("Invalid authorization code");
    if (new Date(consumed.expires_at).getTime() <= now.getTime())
      throw invalidGrant("Authorization code expired");
    if (consumed.redirect_uri !== redirectUri)
      throw invalidGrant("redirect_uri does not match the authorization request");
    if (consumed.code_challenge === null) {
      if (verifier !== null) throw invalidGrant("code_verifier sent for a code issued without PKCE");
    } else {
      if (verifier === null) throw invalidGrant("Missing code_verifier");
      const method = consumed.code_challenge_method ?? "plain";
      if (!verifyCodeVerifier(verifier, consumed.code_challenge, method))
        throw invalidGrant("code_verifier does not match the code challenge");
    }

    const tokens = await createTokenFamily(trx, {
      familyId: deps.nextId(),
      applicationId: client.id,
      userId: consumed.user_id,
      grantType: "authorization_code",
      scopes: consumed.scopes,
      codeHash,
      now,
      accessTokenTtlSeconds: deps.config.accessTokenTtlSeconds,
    });
    return { ok: true, tokens };
  });

  countDetection(deps, outcome);
  if (!outcome.ok) throw invalidGrant(outcome.description);
  return outcome.tokens;
}
