import type { Deps } from "../deps.ts";
import {
  type AuthenticatedClient,
  type ConfirmedClient,
  confirmClient,
  forgetClient,
} from "../domain/client-authentication.ts";
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

/** The confirmed client, reading its row if this request has not yet; invalid_client when stale. */
export async function requireConfirmedClient(
  deps: Deps,
  client: AuthenticatedClient,
): Promise<ConfirmedClient> {
  const confirmed = await confirmClient(deps.db, client);
  if (!confirmed) throw staleClient(deps, client);
  return confirmed;
}
