import { afterAll, expect, test } from "bun:test";
import { snapshotDatabase } from "./support/db-snapshot.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";

const t = await createTestApp();
afterAll(() => t.close());

/** `{"name":"<prefix><bytes>"}` with raw bytes that are not UTF-8 inside the string. */
function jsonWithBytes(field: string, prefix: string, bytes: number[]): Uint8Array<ArrayBuffer> {
  const head = new TextEncoder().encode(`{"${field}":"${prefix}`);
  const tail = new TextEncoder().encode('"}');
  return new Uint8Array([...head, ...bytes, ...tail]);
}

test("tRPC bodies with invalid UTF-8 get 400 and change nothing (never stored as U+FFFD)", async () => {
  const owner = await registerUser(t);
  const before = await snapshotDatabase(t.deps.db);
  for (const bytes of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
    const response = await t.request("/trpc/applications.create", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: owner.token },
      body: jsonWithBytes("name", "App ", bytes),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "INVALID_FORM_BODY" });
  }
  expect(await snapshotDatabase(t.deps.db)).toEqual(before);
  // The same request in valid UTF-8 (é) goes through.
  const valid = await t.request("/trpc/applications.create", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: owner.token },
    body: jsonWithBytes("name", "App ", [0xc3, 0xa9]),
  });
  expect(valid.status).toBe(200);
  expect(((await valid.json()) as { result: { data: { name: string } } }).result.data.name).toBe("App é");
});
