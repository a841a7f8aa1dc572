import { createApplication } from "../../src/domain/applications.ts";
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
  botToken: string;
  botUserId: string;
  redirectUris: string[];
}

/** An application for OAuth flow tests, created by the domain's createApplication (bot user, keys). */
export async function insertTestApplication(
  t: TestApp,
  options: {
    ownerId: string;
    name?: string;
    redirectUris?: string[];
    description?: string | null;
    publicClient?: boolean;
  },
): Promise<TestApplication> {
  const redirectUris = options.redirectUris ?? ["https://client.example/callback"];
  const { application, clientSecret, botToken } = await createApplication(t.deps.db, {
    id: t.deps.nextId(),
    botUserId: t.deps.nextId(),
    ownerId: options.ownerId,
    now: t.clock.now(),
    // Fixtures may build more applications than a user could through the API.
    maxApplications: Number.MAX_SAFE_INTEGER,
    fields: {
      name: options.name ?? "Test App",
      description: options.description ?? null,
      redirectUris,
      publicClient: options.publicClient ?? false,
    },
    keys: t.deps.keys,
  });
  return {
    id: application.id,
    clientSecret,
    botToken,
    botUserId: application.bot_user_id ?? "",
    redirectUris,
  };
}
