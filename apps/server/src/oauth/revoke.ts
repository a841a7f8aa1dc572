/**
 * Token revocation (RFC 7009). The hint is ignored: access and refresh tokens are both always found,
 * and revoking either revokes its whole family. Unknown tokens and other clients' tokens succeed
 * silently (no existence oracle).
 *
 * Database round trips (client authentication included): 5 when something is revoked — SELECT
 * application (client auth, or its re-check when the client was matched from the cache), BEGIN, UPDATE family (WHERE id IN access ∪ refresh lookup) RETURNING,
 * INSERT audit, COMMIT; 4 when nothing matches.
 */
import { hashToken, hasTokenShape } from "../crypto.ts";
import type { Deps } from "../deps.ts";
import type { AuthenticatedClient } from "../domain/client-authentication.ts";
import { revokeTokenFamilyOfToken } from "../domain/token-families.ts";
import { countRevocations } from "../metrics.ts";
import { requireConfirmedClient } from "./client.ts";
import { invalidRequest } from "./errors.ts";
import type { Params } from "./params.ts";

export async function revokeToken(deps: Deps, client: AuthenticatedClient, params: Params): Promise<void> {
  const token = params.get("token");
  if (token === undefined) throw invalidRequest("Missing token");
  const confirmed = await requireConfirmedClient(deps, client);
  if (!hasTokenShape(token)) return;
  const revocation = { reason: "client_revocation", now: deps.clock.now(), nextId: deps.nextId } as const;
  const tokenHash = hashToken(token);
  const revoked = await deps.db
    .transaction()
    .execute((trx) => revokeTokenFamilyOfToken(trx, confirmed, tokenHash, revocation));
  countRevocations(deps.metrics, "client_revocation", revoked ? 1 : 0);
}
