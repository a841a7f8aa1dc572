/**
 * Type-level test, checked by `bun run typecheck` (never executed): every call below is a compile error.
 * If one of them stops being an error, `@ts-expect-error` becomes unused and tsc fails.
 */
import { createClient, type RouterInputs, type RouterOutputs } from "../src/index.ts";

export async function typeLevelChecks() {
  const client = createClient({ url: "http://localhost" });

  // @ts-expect-error username must be a string
  await client.auth.register.mutate({ username: 1, email: "a@b.c", password: "password123" });
  // @ts-expect-error email is required
  await client.auth.register.mutate({ username: "a", password: "password123" });
  // @ts-expect-error login takes `login`, not `username`
  await client.auth.login.mutate({ username: "a", password: "password123" });
  // @ts-expect-error users.me is a query, not a mutation
  await client.users.me.mutate();
  // @ts-expect-error no such procedure
  await client.users.delete.mutate();

  const me: RouterOutputs["users"]["me"] = await client.users.me.query();
  // @ts-expect-error ids are snowflake strings, not numbers
  const id: number = me.id;
  const input: RouterInputs["auth"]["login"] = { login: "a", password: "b" };
  return { id, input };
}
