import { sql } from "kysely";
import type { Db } from "../db/database.ts";
import { isSnowflake } from "../snowflake.ts";
import { isRedirectOrigin, redirectUriPrefixOf } from "./redirect-uris.ts";

/**
 * Browser origins at the token and revocation endpoints (SPEC §7.2). A preflight names no client, so
 * it is answered for any origin a public client registered; the request itself is then held to the
 * redirect origins of the client it names.
 */

/** The calling client's registered redirect URIs; null when there is no such application. */
export async function findRedirectUris(db: Db, clientId: string): Promise<string[] | null> {
  if (!isSnowflake(clientId)) return null;
  const row = await db
    .selectFrom("applications")
    .select("redirect_uris")
    .where("id", "=", clientId)
    .executeTakeFirst();
  return row?.redirect_uris ?? null;
}

/** Whether some public client registered a redirect URI on this origin (the prefix narrows, the check decides). */
export async function isPublicClientOrigin(db: Db, origin: string): Promise<boolean> {
  const prefix = redirectUriPrefixOf(origin);
  const rows = await db
    .selectFrom("applications")
    .select("redirect_uris")
    .where("public_client", "=", true)
    .where(
      sql<boolean>`exists (select 1 from unnest(redirect_uris) as uri where uri = ${prefix}
        or starts_with(uri, ${`${prefix}/`}) or starts_with(uri, ${`${prefix}?`}) or starts_with(uri, ${`${prefix}:`}))`,
    )
    .execute();
  return rows.some((row) => isRedirectOrigin(row.redirect_uris, origin));
}
