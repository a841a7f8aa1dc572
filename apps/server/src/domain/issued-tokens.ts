/**
 * What every grant hands back, and the two rules all three grant writes share: an access token lives
 * ACCESS_TOKEN_TTL_SECONDS, and a write that races a deletion of its application (or user) wrote
 * nothing — the caller reads again and sees the deletion.
 */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: Date;
  scopes: string[];
  /**
   * Who signed in, when, and the authorization request's nonce: what an OpenID Connect ID token says
   * when `scopes` hold `openid` (oauth/token.ts). Null for client credentials (no user signed in).
   */
  authentication: Authentication | null;
}

export interface Authentication {
  userId: string;
  /** Null for grants from before OpenID Connect was served. */
  authTime: Date | null;
  /** Only for the code exchange; refreshed ID tokens carry none (OIDC Core §12.2). */
  nonce: string | null;
}

export function accessTokenExpiry(now: Date, accessTokenTtlSeconds: number): Date {
  return new Date(now.getTime() + accessTokenTtlSeconds * 1000);
}

/** PostgreSQL's foreign-key violation: a parent row deleted between the statement's snapshot and its check. */
function isForeignKeyViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23503";
}

/** Runs a grant's write; a foreign-key violation (deleted parent) counts as "wrote nothing". */
export async function orNoneOnDeletedParent<T>(write: () => Promise<T[]>): Promise<T[]> {
  try {
    return await write();
  } catch (error) {
    if (isForeignKeyViolation(error)) return [];
    throw error;
  }
}
