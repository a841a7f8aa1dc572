import { afterAll, describe, expect, test } from "bun:test";
import { createTestApp } from "./support/harness.ts";
import { trpcHttp } from "./support/trpc-http.ts";

const t = await createTestApp();
afterAll(() => t.close());

async function userCount(): Promise<number> {
  const row = await t.deps.db
    .selectFrom("users")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function sessionCount(): Promise<number> {
  const row = await t.deps.db
    .selectFrom("sessions")
    .select((eb) => eb.fn.countAll<string | number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("auth", () => {
  test("register returns a session token and the user, password stored as argon2id", async () => {
    const res = await trpcHttp(t, "auth.register", {
      input: { username: "alice", email: "alice@example.com", password: "correct horse" },
    });
    expect(res.status).toBe(200);
    const { token, user } = res.body.result.data;
    expect(token).toMatch(/^flx_[A-Za-z0-9]{36}$/);
    expect(user).toMatchObject({ username: "alice", email: "alice@example.com", bot: false, system: false });
    const row = await t.deps.db
      .selectFrom("users")
      .selectAll()
      .where("id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toStartWith("$argon2id$");
    const session = await t.deps.db.selectFrom("sessions").selectAll().executeTakeFirstOrThrow();
    expect(session.token_hash).not.toBe(token);
    expect(session.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test.each([
    ["invalid email", { username: "bob", email: "not-an-email", password: "password123" }, "email"],
    ["short password", { username: "bob", email: "bob@example.com", password: "short" }, "password"],
    ["bad username", { username: "b o b", email: "bob@example.com", password: "password123" }, "username"],
    ["missing field", { username: "bob", password: "password123" }, "email"],
    ["wrong type", { username: 42, email: "bob@example.com", password: "password123" }, "username"],
  ])("register with %s is INVALID_FORM_BODY and writes nothing", async (_name, input, field) => {
    const before = await userCount();
    const res = await trpcHttp(t, "auth.register", { input });
    expect(res.status).toBe(400);
    expect(res.body.error.data.apiCode).toBe("INVALID_FORM_BODY");
    expect(res.body.error.data.zodIssues.fieldErrors[field]).toBeArray();
    expect(await userCount()).toBe(before);
  });

  test("a taken username (any case) is CONFLICT USERNAME_TAKEN and writes nothing", async () => {
    const before = await userCount();
    const res = await trpcHttp(t, "auth.register", {
      input: { username: "ALICE", email: "other@example.com", password: "password123" },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.data.code).toBe("CONFLICT");
    expect(res.body.error.data.apiCode).toBe("USERNAME_TAKEN");
    expect(await userCount()).toBe(before);
  });

  test("a taken email is CONFLICT EMAIL_TAKEN", async () => {
    const res = await trpcHttp(t, "auth.register", {
      input: { username: "alice2", email: "Alice@Example.com", password: "password123" },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.data.apiCode).toBe("EMAIL_TAKEN");
  });

  test("login by username or email; wrong password and unknown user get the same answer", async () => {
    const byName = await trpcHttp(t, "auth.login", { input: { login: "alice", password: "correct horse" } });
    expect(byName.status).toBe(200);
    const byEmail = await trpcHttp(t, "auth.login", {
      input: { login: "ALICE@example.com", password: "correct horse" },
    });
    expect(byEmail.status).toBe(200);

    const sessionsBefore = await sessionCount();
    const wrong = await trpcHttp(t, "auth.login", { input: { login: "alice", password: "wrong password" } });
    const unknown = await trpcHttp(t, "auth.login", {
      input: { login: "nobody", password: "wrong password" },
    });
    for (const res of [wrong, unknown]) {
      expect(res.status).toBe(401);
      expect(res.body.error.data.code).toBe("UNAUTHORIZED");
      expect(res.body.error.data.apiCode).toBe("INVALID_CREDENTIALS");
    }
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    expect(await sessionCount()).toBe(sessionsBefore);
  });

  test("a body that is not JSON is a 400 with a stable code and writes nothing", async () => {
    const before = await userCount();
    const res = await trpcHttp(t, "auth.register", { body: "{not json" });
    expect(res.status).toBe(400);
    expect(res.body.error.data.apiCode).toBe("INVALID_FORM_BODY");
    expect(await userCount()).toBe(before);
  });

  test("an oversized body is refused before parsing", async () => {
    const res = await trpcHttp(t, "auth.register", {
      body: JSON.stringify({
        username: "x".repeat(3 * 1024 * 1024),
        email: "a@b.c",
        password: "password123",
      }),
    });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe("PAYLOAD_TOO_LARGE");
  });

  test("users.me needs a session; logout ends it", async () => {
    const login = await trpcHttp(t, "auth.login", { input: { login: "alice", password: "correct horse" } });
    const token = login.body.result.data.token as string;
    const me = await trpcHttp(t, "users.me", { token, query: true });
    expect(me.body.result.data.username).toBe("alice");
    const bearer = await trpcHttp(t, "users.me", { token: `Bearer ${token}`, query: true });
    expect(bearer.status).toBe(200);

    expect((await trpcHttp(t, "auth.logout", { token })).status).toBe(200);
    const after = await trpcHttp(t, "users.me", { token, query: true });
    expect(after.status).toBe(401);
    expect(after.body.error.data.apiCode).toBe("UNAUTHORIZED");
    expect((await trpcHttp(t, "users.me", { query: true })).status).toBe(401);
  });

  test("an expired session is rejected", async () => {
    const login = await trpcHttp(t, "auth.login", { input: { login: "alice", password: "correct horse" } });
    const token = login.body.result.data.token as string;
    t.clock.advance(t.deps.config.sessionTtlSeconds + 1);
    expect((await trpcHttp(t, "users.me", { token, query: true })).status).toBe(401);
  });

  test("the session cookie counts only for same-origin requests", async () => {
    const login = await trpcHttp(t, "auth.login", { input: { login: "alice", password: "correct horse" } });
    const token = login.body.result.data.token as string;
    const cookie = `flx_session=${token}`;
    const cross = await t.request("/trpc/users.me", { headers: { cookie, origin: "https://evil.example" } });
    expect(cross.status).toBe(401);
    const same = await t.request("/trpc/users.me", { headers: { cookie, origin: "http://localhost:3000" } });
    expect(same.status).toBe(200);
  });
});

describe("http basics", () => {
  test("healthz and readyz", async () => {
    expect((await t.request("/healthz")).status).toBe(200);
    const ready = await t.request("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok" });
  });

  test("unknown routes get the REST envelope", async () => {
    const res = await t.request("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: "NOT_FOUND", message: "Not found" });
  });
});
