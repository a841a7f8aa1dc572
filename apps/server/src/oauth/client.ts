import type { Deps } from "../deps.ts";
import { type AuthenticatedClient, confirmClient } from "../domain/client-authentication.ts";
import { invalidClient } from "./errors.ts";

/**
 * Before a slow (transactional) path acts for a client matched only against the process cache: one
 * SELECT proves its secret is still the stored one, so a reset or deletion elsewhere is seen at once.
 */
export async function requireCurrentClient(deps: Deps, client: AuthenticatedClient): Promise<void> {
  if (!(await confirmClient(deps.db, client))) throw invalidClient();
}
