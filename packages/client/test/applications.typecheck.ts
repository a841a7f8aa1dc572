/**
 * Type-level test for `applications.*`, checked by `bun run typecheck` (never executed): each marked
 * call is a compile error. If one stops being an error, `@ts-expect-error` becomes unused and tsc fails.
 */
import { createClient, type RouterOutputs } from "../src/index.ts";

export async function applicationTypeChecks() {
  const client = createClient({ url: "http://localhost" });

  // @ts-expect-error name is required
  await client.applications.create.mutate({ description: "no name" });
  // @ts-expect-error redirect_uris is a list of strings
  await client.applications.create.mutate({ name: "a", redirect_uris: "https://a.example/cb" });
  // @ts-expect-error wire fields are snake_case
  await client.applications.create.mutate({ name: "a", redirectUris: [] });
  // @ts-expect-error update needs the version it was based on
  await client.applications.update.mutate({ id: "1", name: "b" });
  // @ts-expect-error version is a number
  await client.applications.update.mutate({ id: "1", version: "1" });
  // @ts-expect-error delete is sudo: the password is required
  await client.applications.delete.mutate({ id: "1" });
  // @ts-expect-error get is a query
  await client.applications.get.mutate({ id: "1" });

  const app: RouterOutputs["applications"]["get"] = await client.applications.get.query({ id: "1" });
  // @ts-expect-error reads never carry the client secret
  const secret: string = app.client_secret;
  const created = await client.applications.create.mutate({ name: "a" });
  const shownOnce: string = created.client_secret;
  return { secret, shownOnce };
}
