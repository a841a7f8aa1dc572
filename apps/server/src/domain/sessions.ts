import { generateAlphanumeric, hashToken } from "../crypto.ts";
import type { Db } from "../db/database.ts";
import type { UserRow } from "../db/schema.ts";

export const SESSION_TOKEN_PATTERN = /^flx_[A-Za-z0-9]{36}$/;

export function generateSessionToken(): string {
  return `flx_${generateAlphanumeric(36)}`;
}

export interface Session {
  id: string;
  userId: string;
  expiresAt: Date;
  /** When the user signed in: a session is only ever created by signing in (OpenID Connect auth_time). */
  authenticatedAt: Date;
}

export async function createSession(
  db: Db,
  input: { id: string; userId: string; now: Date; ttlSeconds: number },
): Promise<{ token: string; session: Session }> {
  const token = generateSessionToken();
  const expiresAt = new Date(input.now.getTime() + input.ttlSeconds * 1000);
  await db
    .insertInto("sessions")
    .values({
      id: input.id,
      user_id: input.userId,
      token_hash: hashToken(token),
      created_at: input.now,
      expires_at: expiresAt,
    })
    .execute();
  return { token, session: { id: input.id, userId: input.userId, expiresAt, authenticatedAt: input.now } };
}

/** One indexed lookup by hash; the token itself is never stored. */
export async function validateSessionToken(
  db: Db,
  token: string,
  now: Date,
): Promise<{ session: Session; user: UserRow } | null> {
  if (!SESSION_TOKEN_PATTERN.test(token)) return null;
  const row = await db
    .selectFrom("sessions")
    .innerJoin("users", "users.id", "sessions.user_id")
    .selectAll("users")
    .select([
      "sessions.id as session_id",
      "sessions.expires_at as session_expires_at",
      "sessions.created_at as session_created_at",
    ])
    .where("sessions.token_hash", "=", hashToken(token))
    .where("sessions.expires_at", ">", now)
    .executeTakeFirst();
  if (!row) return null;
  const { session_id, session_expires_at, session_created_at, ...user } = row;
  return {
    session: {
      id: session_id,
      userId: user.id,
      expiresAt: new Date(session_expires_at),
      authenticatedAt: new Date(session_created_at),
    },
    user,
  };
}

export async function invalidateSession(db: Db, sessionId: string): Promise<void> {
  await db.deleteFrom("sessions").where("id", "=", sessionId).execute();
}

/** Signs the user out everywhere; returns how many sessions ended. */
export async function invalidateUserSessions(db: Db, userId: string): Promise<number> {
  const result = await db.deleteFrom("sessions").where("user_id", "=", userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
