import { afterAll, expect, test } from "bun:test";
import { startTestServer } from "@fluxer/server/test/support/harness.ts";
import { TRPCClientError } from "@trpc/client";
import { type AppRouter, createClient } from "../src/index.ts";

const server = await startTestServer();
afterAll(() => server.stop());

test("register, log in, read users.me and log out through the typed client on a real socket", async () => {
  const anonymous = createClient({ url: server.url });
  const registered = await anonymous.auth.register.mutate({
    username: "clientuser",
    email: "client@example.com",
    password: "password123",
  });
  expect(registered.user.username).toBe("clientuser");

  const { token } = await anonymous.auth.login.mutate({ login: "clientuser", password: "password123" });
  const client = createClient({ url: server.url, token });
  const me = await client.users.me.query();
  expect(me).toMatchObject({ id: registered.user.id, username: "clientuser", email: "client@example.com" });

  await client.auth.logout.mutate();
  const error = await client.users.me.query().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TRPCClientError);
  const trpcError = error as TRPCClientError<AppRouter>;
  expect(trpcError.data?.code).toBe("UNAUTHORIZED");
  expect(trpcError.data?.apiCode).toBe("UNAUTHORIZED");
});
