import { sql } from "kysely";
import type { Db } from "../db/database.ts";
import { normalizeScopes, SCOPES, type Scope } from "../oauth/scope.ts";

/** Remembered consent of one user for one application (table `authorizations`). */
export interface Consent {
  userId: string;
  applicationId: string;
  scopes: Scope[];
  createdAt: Date;
  updatedAt: Date;
}

export async function findConsent(
  db: Db,
  input: { userId: string; applicationId: string },
): Promise<Consent | null> {
  const row = await db
    .selectFrom("authorizations")
    .selectAll()
    .where("user_id", "=", input.userId)
    .where("application_id", "=", input.applicationId)
    .executeTakeFirst();
  if (!row) return null;
  return {
    userId: row.user_id,
    applicationId: row.application_id,
    scopes: normalizeScopes(row.scopes),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/**
 * Records an approval, widening (never narrowing) what was remembered: one upsert whose conflict branch
 * unions the stored and the new scopes in canonical order, so two concurrent approvals cannot lose
 * each other's scopes the way a read-modify-write would.
 */
export async function recordConsent(
  db: Db,
  input: { userId: string; applicationId: string; scopes: readonly Scope[]; now: Date },
): Promise<void> {
  const canonical = sql`array[${sql.join(SCOPES.map((scope) => sql.lit(scope)))}]::text[]`;
  await db
    .insertInto("authorizations")
    .values({
      user_id: input.userId,
      application_id: input.applicationId,
      scopes: normalizeScopes(input.scopes),
      created_at: input.now,
      updated_at: input.now,
    })
    .onConflict((oc) =>
      oc.columns(["user_id", "application_id"]).doUpdateSet({
        scopes: sql<string[]>`array(
          select s from unnest(authorizations.scopes || excluded.scopes) as s
          group by s order by array_position(${canonical}, s))`,
        updated_at: input.now,
      }),
    )
    .execute();
}
