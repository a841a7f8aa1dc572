import type { Deps } from "../deps.ts";
import { type AuthenticatedClient, confirmClient, forgetClient } from "../domain/client-authentication.ts";
import { invalidClient, type OAuthError } from "./errors.ts";

/**
 * The answer when a client matched only against the process cache turned out not to be current (its
 * secret was reset, or the application deleted, possibly in another process): the cache entry is
 * dropped so the next request reads the row, and this one fails with invalid_client.
 */
export function staleClient(deps: Deps, client: AuthenticatedClient): OAuthError {
  forgetClient(deps.db, client.id);
  return invalidClient();
}

/**
 * Before a slow (transactional) path acts for a client matched only against the process cache: one
 * SELECT proves its secret is still the stored one, so a reset or deletion elsewhere is seen at once.
 */
export async function requireCurrentClient(deps: Deps, client: AuthenticatedClient): Promise<void> {
  if (!(await confirmClient(deps.db, client))) throw staleClient(deps, client);
}
