import { constantTimeEqual, generateToken, hashToken } from "../crypto.ts";
import type { Db } from "../db/database.ts";
import type { ApplicationRow } from "../db/schema.ts";
import { isSnowflake } from "../snowflake.ts";

/** `<application_id>.<secret>`: the id lets us find the row by key, the secret proves possession. */
export function generateBotToken(applicationId: string): { token: string; hash: string } {
  const token = `${applicationId}.${generateToken()}`;
  return { token, hash: hashToken(token) };
}

/**
 * The application a bot token belongs to, or null. Only the SHA-256 of the whole token is stored;
 * the comparison is constant-time, and a reset or deleted application's token is unknown at once.
 */
export async function validateBotToken(db: Db, token: string): Promise<ApplicationRow | null> {
  const dot = token.indexOf(".");
  if (dot <= 0) return null;
  const applicationId = token.slice(0, dot);
  if (!isSnowflake(applicationId)) return null;
  const presented = hashToken(token);
  const application = await db
    .selectFrom("applications")
    .selectAll()
    .where("id", "=", applicationId)
    .executeTakeFirst();
  if (!application?.bot_token_hash) return null;
  return constantTimeEqual(presented, application.bot_token_hash) ? application : null;
}
