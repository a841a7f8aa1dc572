import type { Db } from "../db/database.ts";
import { normalizeScopes, type Scope } from "../oauth/scope.ts";
import { type PublicApplication, toPublicApplication } from "./applications.ts";
import { recordAuditEvent } from "./audit.ts";
import { revokeTokenFamiliesWhere } from "./token-families.ts";

/** "Get Authorized Applications": one entry per application the user has granted access to. */
export interface AuthorizedApplication {
  application: PublicApplication;
  scopes: Scope[];
  authorized_at: string;
}

/**
 * Applications with a remembered consent, plus any with a live authorization-code family but no
 * consent row (e.g. a code issued before consent was remembered): each once, scopes united, newest first.
 */
export async function listAuthorizedApplications(db: Db, userId: string): Promise<AuthorizedApplication[]> {
  const consents = await db
    .selectFrom("authorizations")
    .select(["application_id", "scopes", "updated_at as at"])
    .where("user_id", "=", userId)
    .execute();
  const families = await db
    .selectFrom("token_families")
    .select(["application_id", "scopes", "created_at as at"])
    .where("user_id", "=", userId)
    .where("grant_type", "=", "authorization_code")
    .where("revoked_at", "is", null)
    .execute();

  const byApplication = new Map<string, { scopes: Set<string>; at: Date }>();
  for (const row of [...consents, ...families]) {
    const at = new Date(row.at);
    const entry = byApplication.get(row.application_id);
    if (!entry) byApplication.set(row.application_id, { scopes: new Set(row.scopes), at });
    else {
      for (const scope of row.scopes) entry.scopes.add(scope);
      if (at > entry.at) entry.at = at;
    }
  }
  if (byApplication.size === 0) return [];

  const applications = await db
    .selectFrom("applications")
    .selectAll()
    .where("id", "in", [...byApplication.keys()])
    .execute();
  if (applications.length === 0) return [];
  const owners = await db
    .selectFrom("users")
    .selectAll()
    .where("id", "in", [...new Set(applications.map((row) => row.owner_id))])
    .execute();
  const ownerById = new Map(owners.map((owner) => [owner.id, owner]));

  return applications
    .flatMap((row) => {
      const owner = ownerById.get(row.owner_id);
      const entry = byApplication.get(row.id);
      if (!owner || !entry) return [];
      return [
        {
          application: toPublicApplication(row, owner),
          scopes: normalizeScopes(entry.scopes),
          authorized_at: entry.at.toISOString(),
        },
      ];
    })
    .sort((a, b) => b.authorized_at.localeCompare(a.authorized_at));
}

/**
 * "Revoke Authorization": in one transaction, revoke every token family of this user × application
 * (their tokens die at once), delete codes not yet exchanged (else a code issued just before would
 * mint new tokens after the revocation) and forget the remembered consent. Idempotent.
 */
export async function revokeAuthorization(
  db: Db,
  input: { userId: string; applicationId: string; now: Date; nextId: () => string },
): Promise<{ revokedFamilies: number }> {
  return db.transaction().execute(async (trx) => {
    // Codes first: this waits for an exchange in flight (it holds its code's row lock), so the family
    // it creates is already committed when the next statement revokes every family of the pair.
    await trx
      .deleteFrom("authorization_codes")
      .where("user_id", "=", input.userId)
      .where("application_id", "=", input.applicationId)
      .execute();
    const families = await revokeTokenFamiliesWhere(
      trx,
      { userId: input.userId, applicationId: input.applicationId },
      { reason: "authorization_revoked", now: input.now, nextId: input.nextId },
    );
    const consent = await trx
      .deleteFrom("authorizations")
      .where("user_id", "=", input.userId)
      .where("application_id", "=", input.applicationId)
      .executeTakeFirst();
    if (families.length > 0 || consent.numDeletedRows > 0n) {
      await recordAuditEvent(trx, {
        id: input.nextId(),
        type: "authorization.revoked",
        at: input.now,
        userId: input.userId,
        applicationId: input.applicationId,
        data: { revoked_families: families },
      });
    }
    return { revokedFamilies: families.length };
  });
}

/**
 * Every grant of a user at once (an operator after an incident): every live family revoked, codes not
 * yet exchanged deleted, every remembered consent forgotten, one `authorization.revoked` event per
 * application. Same order as revokeAuthorization, for the same reason.
 */
export async function revokeAllAuthorizations(
  db: Db,
  input: { userId: string; now: Date; nextId: () => string },
): Promise<{ revokedFamilies: number; forgottenConsents: number }> {
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom("authorization_codes").where("user_id", "=", input.userId).execute();
    const families = await trx
      .selectFrom("token_families")
      .select(["id", "application_id"])
      .where("user_id", "=", input.userId)
      .where("revoked_at", "is", null)
      .execute();
    const revoked = await revokeTokenFamiliesWhere(
      trx,
      { userId: input.userId },
      { reason: "admin_revocation", now: input.now, nextId: input.nextId },
    );
    const consents = await trx
      .deleteFrom("authorizations")
      .where("user_id", "=", input.userId)
      .returning("application_id")
      .execute();
    const byApplication = new Map<string, string[]>();
    for (const { application_id } of consents) byApplication.set(application_id, []);
    for (const family of families)
      if (revoked.includes(family.id))
        byApplication.set(family.application_id, [
          ...(byApplication.get(family.application_id) ?? []),
          family.id,
        ]);
    for (const [applicationId, revokedFamilies] of byApplication)
      await recordAuditEvent(trx, {
        id: input.nextId(),
        type: "authorization.revoked",
        at: input.now,
        userId: input.userId,
        applicationId,
        data: { revoked_families: revokedFamilies },
      });
    return { revokedFamilies: revoked.length, forgottenConsents: consents.length };
  });
}
