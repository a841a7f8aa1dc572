import { afterAll, expect, test } from "bun:test";
import { startTestServer } from "@fluxer/server/test/support/harness.ts";
import { TRPCClientError } from "@trpc/client";
import { type AppRouter, createClient } from "../src/index.ts";

const server = await startTestServer();
afterAll(() => server.stop());

async function apiCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return (error as TRPCClientError<AppRouter>).data?.apiCode;
}

test("an application's lifecycle through the typed client on a real socket", async () => {
  const anonymous = createClient({ url: server.url });
  const { token } = await anonymous.auth.register.mutate({
    username: "appowner",
    email: "appowner@example.com",
    password: "password123",
  });
  const client = createClient({ url: server.url, token });

  const created = await client.applications.create.mutate({
    name: "Typed App",
    redirect_uris: ["https://typed.example/cb"],
  });
  expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(created.bot_token.startsWith(`${created.id}.`)).toBe(true);
  expect(created.version).toBe(1);

  const listed = await client.applications.list.query();
  expect(listed.map((a) => a.id)).toEqual([created.id]);
  expect(listed[0]).not.toHaveProperty("client_secret");

  const shown = await anonymous.applications.getPublic.query({ id: created.id });
  expect(shown).toMatchObject({ id: created.id, name: "Typed App", owner: { username: "appowner" } });
  expect(shown).not.toHaveProperty("redirect_uris");

  const updated = await client.applications.update.mutate({ id: created.id, version: 1, name: "Renamed" });
  expect(updated).toMatchObject({ name: "Renamed", version: 2 });
  expect(
    await apiCodeOf(client.applications.update.mutate({ id: created.id, version: 1, name: "Stale" })),
  ).toBe("VERSION_CONFLICT");
  expect((await client.applications.get.query({ id: created.id })).name).toBe("Renamed");

  const reset = await client.applications.resetSecret.mutate({ id: created.id, password: "password123" });
  expect(reset.client_secret).not.toBe(created.client_secret);

  const bot = await fetch(`${server.url}/v1/applications/@me`, {
    headers: { authorization: `Bot ${created.bot_token}` },
  });
  expect(bot.status).toBe(200);
  expect(((await bot.json()) as { name: string }).name).toBe("Renamed");

  expect(await apiCodeOf(client.applications.delete.mutate({ id: created.id, password: "nope" }))).toBe(
    "INVALID_PASSWORD",
  );
  await client.applications.delete.mutate({ id: created.id, password: "password123" });
  expect(await client.applications.list.query()).toEqual([]);
  expect(await apiCodeOf(client.applications.get.query({ id: created.id }))).toBe("UNKNOWN_APPLICATION");
  const gone = await fetch(`${server.url}/v1/applications/@me`, {
    headers: { authorization: `Bot ${created.bot_token}` },
  });
  expect(gone.status).toBe(401);
});
