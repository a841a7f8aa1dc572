import { generateToken, hashToken } from "../../src/crypto.ts";
import type { TestApp } from "./harness.ts";

let counter = 0;

/** Registers a user through the real tRPC procedure; returns the session token too. */
export async function registerUser(t: TestApp, options: { username?: string; password?: string } = {}) {
  counter += 1;
  const username = options.username ?? `user${counter}_${Math.random().toString(36).slice(2, 8)}`;
  const password = options.password ?? "password123";
  const { token, user } = await t
    .caller()
    .auth.register({ username, email: `${username}@example.com`, password });
  const row = await t.deps.db
    .selectFrom("users")
    .selectAll()
    .where("id", "=", user.id)
    .executeTakeFirstOrThrow();
  return { token, user, row, password };
}

export interface TestApplication {
  id: string;
  clientSecret: string;
  redirectUris: string[];
}

/**
 * An application row for OAuth flow tests.
 * TODO(#3): switch to the domain's createApplication once it exists (same return shape).
 */
export async function insertTestApplication(
  t: TestApp,
  options: { ownerId: string; name?: string; redirectUris?: string[]; description?: string | null },
): Promise<TestApplication> {
  const id = t.deps.nextId();
  const clientSecret = generateToken();
  const redirectUris = options.redirectUris ?? ["https://client.example/callback"];
  await t.deps.db
    .insertInto("applications")
    .values({
      id,
      owner_id: options.ownerId,
      name: options.name ?? "Test App",
      description: options.description ?? null,
      icon_hash: null,
      bot_user_id: null,
      bot_public: true,
      bot_require_code_grant: false,
      terms_of_service_url: null,
      privacy_policy_url: null,
      redirect_uris: redirectUris,
      client_secret_hash: hashToken(clientSecret),
      bot_token_hash: null,
      verify_key: "00".repeat(32),
      signing_key: "",
      version: 1,
      created_at: t.clock.now(),
      updated_at: t.clock.now(),
    })
    .execute();
  return { id, clientSecret, redirectUris };
}
