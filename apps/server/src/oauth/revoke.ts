/**
 * Token revocation (RFC 7009). The hint is ignored: access and refresh tokens are both always found,
 * and revoking either revokes its whole family. Unknown tokens and other clients' tokens succeed
 * silently (no existence oracle).
 *
 * Database round trips (client authentication included): 5 when something is revoked — SELECT
 * application (client auth, or its re-check when the client was matched from the cache), BEGIN, UPDATE family (WHERE id IN access ∪ refresh lookup) RETURNING,
 * INSERT audit, COMMIT; 4 when nothing matches.
 */
import { hashToken } from "../crypto.ts";
import type { Deps } from "../deps.ts";
import { hasTokenShape } from "../domain/access-tokens.ts";
import { recordAuditEvent } from "../domain/audit.ts";
import type { AuthenticatedClient } from "../domain/client-authentication.ts";
import { requireCurrentClient } from "./client.ts";
import { invalidRequest } from "./errors.ts";
import type { Params } from "./token.ts";

export async function revokeToken(deps: Deps, client: AuthenticatedClient, params: Params): Promise<void> {
  const token = params.get("token");
  if (token === undefined) throw invalidRequest("Missing token");
  await requireCurrentClient(deps, client);
  if (!hasTokenShape(token)) return;
  const tokenHash = hashToken(token);
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    const revoked = await trx
      .updateTable("token_families")
      .set({ revoked_at: now, revoked_reason: "client_revocation" })
      .where("application_id", "=", client.id)
      .where("revoked_at", "is", null)
      .where("id", "in", (eb) =>
        eb
          .selectFrom("access_tokens")
          .select("family_id")
          .where("token_hash", "=", tokenHash)
          .unionAll(eb.selectFrom("refresh_tokens").select("family_id").where("token_hash", "=", tokenHash)),
      )
      .returning(["id", "user_id"])
      .executeTakeFirst();
    if (!revoked) return;
    await recordAuditEvent(trx, {
      id: deps.nextId(),
      type: "token_family.revoked",
      at: now,
      userId: revoked.user_id,
      applicationId: client.id,
      familyId: revoked.id,
      data: { reason: "client_revocation" },
    });
  });
}
