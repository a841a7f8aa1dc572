import { createHmac } from "node:crypto";
import { generateToken } from "../crypto.ts";
import type { Db } from "../db/database.ts";
import { type AuditEvent, type RevocationReason, recordAuditEvent, recordAuditEvents } from "./audit.ts";
import type { ConfirmedClient } from "./client-authentication.ts";

/**
 * A token family is one grant (SPEC §4): every access and refresh token descended from one code
 * exchange or one client-credentials issue. Tokens are valid only while their family is not revoked,
 * so revoking the family row kills all of them at once, including ones a racing rotation inserts.
 */

/**
 * The successor pair of a refresh token. With a grace window it is HMAC(successor key, presented
 * token): any process recomputes the same pair for an idempotent retry, and no plaintext is stored.
 * The key is derived from SECRET_KEY and never stored, so a copy of the database cannot compute a
 * chain's live tokens from an old one. Without a grace window nothing needs recomputing: random.
 */
export function deriveSuccessorTokens(
  options: { successorKey: Uint8Array; graceSeconds: number },
  presentedRefreshToken: string,
): { accessToken: string; refreshToken: string } {
  if (options.graceSeconds === 0) return { accessToken: generateToken(), refreshToken: generateToken() };
  const derive = (label: string) =>
    createHmac("sha256", options.successorKey)
      .update(`${label}\0${presentedRefreshToken}`)
      .digest("base64url");
  return { accessToken: derive("access"), refreshToken: derive("refresh") };
}

export interface Revocation {
  reason: RevocationReason;
  now: Date;
  nextId: () => string;
}

type RevokedFamily = { id: string; user_id: string; application_id: string };

function revocationEvent(revoked: RevokedFamily, revocation: Revocation): AuditEvent {
  return {
    id: revocation.nextId(),
    type: "token_family.revoked",
    at: revocation.now,
    userId: revoked.user_id,
    applicationId: revoked.application_id,
    familyId: revoked.id,
    data: { family_id: revoked.id, reason: revocation.reason },
  };
}

/**
 * Revokes one family (no-op if it already is) and records `token_family.revoked` with the reason.
 * Returns whether this call revoked it.
 */
export async function revokeTokenFamily(db: Db, familyId: string, revocation: Revocation): Promise<boolean> {
  const revoked = await db
    .updateTable("token_families")
    .set({ revoked_at: revocation.now, revoked_reason: revocation.reason })
    .where("id", "=", familyId)
    .where("revoked_at", "is", null)
    .returning(["id", "user_id", "application_id"])
    .executeTakeFirst();
  if (!revoked) return false;
  await recordAuditEvent(db, revocationEvent(revoked, revocation));
  return true;
}

/**
 * Revokes the live family of an application that an access or refresh token (given by its hash)
 * belongs to, in one UPDATE, and records `token_family.revoked`. Returns whether a family was revoked;
 * an unknown token, or another application's, revokes nothing. Call inside a transaction.
 */
export async function revokeTokenFamilyOfToken(
  db: Db,
  client: ConfirmedClient,
  tokenHash: string,
  revocation: Revocation,
): Promise<boolean> {
  const revoked = await db
    .updateTable("token_families")
    .set({ revoked_at: revocation.now, revoked_reason: revocation.reason })
    .where("application_id", "=", client.id)
    .where("revoked_at", "is", null)
    .where("id", "in", (eb) =>
      eb
        .selectFrom("access_tokens")
        .select("family_id")
        .where("token_hash", "=", tokenHash)
        .unionAll(eb.selectFrom("refresh_tokens").select("family_id").where("token_hash", "=", tokenHash)),
    )
    .returning(["id", "user_id", "application_id"])
    .executeTakeFirst();
  if (!revoked) return false;
  await recordAuditEvent(db, revocationEvent(revoked, revocation));
  return true;
}

/** Revokes every live family matching the filter; one audit event per family. Returns their ids. */
export async function revokeTokenFamiliesWhere(
  db: Db,
  filter: { userId?: string; applicationId?: string; codeHash?: string },
  revocation: Revocation,
): Promise<string[]> {
  if (filter.userId === undefined && filter.applicationId === undefined && filter.codeHash === undefined)
    throw new Error("revokeTokenFamiliesWhere needs a filter");
  let query = db
    .updateTable("token_families")
    .set({ revoked_at: revocation.now, revoked_reason: revocation.reason })
    .where("revoked_at", "is", null);
  if (filter.userId !== undefined) query = query.where("user_id", "=", filter.userId);
  if (filter.applicationId !== undefined) query = query.where("application_id", "=", filter.applicationId);
  if (filter.codeHash !== undefined) query = query.where("code_hash", "=", filter.codeHash);
  const revoked = await query.returning(["id", "user_id", "application_id"]).execute();
  await recordAuditEvents(
    db,
    revoked.map((row) => revocationEvent(row, revocation)),
  );
  return revoked.map((row) => row.id);
}
