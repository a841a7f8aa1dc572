import { generateToken, hashToken } from "../crypto.ts";
import type { Db } from "../db/database.ts";
import type { CodeChallengeMethod } from "../oauth/pkce.ts";

export interface NewAuthorizationCode {
  applicationId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string | null;
  codeChallengeMethod: CodeChallengeMethod | null;
  now: Date;
  ttlSeconds: number;
}

/** 32 random bytes; only the SHA-256 is stored, the plaintext goes out once in the redirect. */
export async function createAuthorizationCode(db: Db, input: NewAuthorizationCode): Promise<string> {
  const code = generateToken();
  await db
    .insertInto("authorization_codes")
    .values({
      code_hash: hashToken(code),
      application_id: input.applicationId,
      user_id: input.userId,
      redirect_uri: input.redirectUri,
      scopes: input.scopes,
      code_challenge: input.codeChallenge,
      code_challenge_method: input.codeChallengeMethod,
      created_at: input.now,
      expires_at: new Date(input.now.getTime() + input.ttlSeconds * 1000),
      consumed_at: null,
    })
    .execute();
  return code;
}
