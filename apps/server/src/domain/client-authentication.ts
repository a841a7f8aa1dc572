import type { Kysely } from "kysely";
import { constantTimeEqual, hashToken } from "../crypto.ts";
import type { ApplicationRow, Database } from "../db/schema.ts";
import { isSnowflake } from "../snowflake.ts";

/**
 * Client authentication for the token, revocation and introspection endpoints: the application whose
 * id is `clientId` if `secret` hashes to its stored client secret hash, else null.
 * The hash comparison is constant-time; an unknown client costs the same hashing as a known one.
 */
export async function authenticateClient(
  db: Kysely<Database>,
  clientId: string,
  secret: string,
): Promise<ApplicationRow | null> {
  const presented = hashToken(secret);
  if (!isSnowflake(clientId)) return null;
  const application = await db
    .selectFrom("applications")
    .selectAll()
    .where("id", "=", clientId)
    .executeTakeFirst();
  if (!application) return null;
  return constantTimeEqual(presented, application.client_secret_hash) ? application : null;
}
