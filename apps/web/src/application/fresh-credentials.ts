/**
 * A new application's client secret and bot token, kept in memory between the Create click and the
 * application's page, which shows them once. Never written to storage: a reload loses them, as
 * "shown only once" promises.
 */
export interface FreshCredentials {
  clientSecret?: string;
  botToken?: string;
}

const fresh = new Map<string, FreshCredentials>();

export function rememberFreshCredentials(applicationId: string, credentials: FreshCredentials): void {
  fresh.set(applicationId, credentials);
}

/** Returns the credentials once and forgets them. */
export function takeFreshCredentials(applicationId: string): FreshCredentials | null {
  const credentials = fresh.get(applicationId) ?? null;
  fresh.delete(applicationId);
  return credentials;
}
