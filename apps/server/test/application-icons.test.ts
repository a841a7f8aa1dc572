import { afterAll, describe, expect, test } from "bun:test";
import { sha256 } from "@oslojs/crypto/sha2";
import { encodeHexLowerCase } from "@oslojs/encoding";
import {
  applicationRow,
  base64,
  countRows,
  createApplicationOk,
  GIF_BASE64,
  mutate,
  PNG_BASE64,
} from "./support/applications.ts";
import { registerUser } from "./support/fixtures.ts";
import { createTestApp } from "./support/harness.ts";

const t = await createTestApp();
afterAll(() => t.close());
const owner = await registerUser(t);

const MiB = 1024 * 1024;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const hashOf = (b64: string) => encodeHexLowerCase(sha256(Buffer.from(b64, "base64")));

function pngOfSize(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(PNG_SIGNATURE);
  return bytes;
}

describe("icons", () => {
  test("an uploaded data: URI icon is served byte-identical, with its type and a long cache life", async () => {
    const app = await createApplicationOk(t, owner.token, { icon: `data:image/png;base64,${PNG_BASE64}` });
    expect(app.icon_hash).toBe(hashOf(PNG_BASE64));
    const res = await t.request(`/icons/${app.id}/${app.icon_hash}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(
      new Uint8Array(Buffer.from(PNG_BASE64, "base64")),
    );
    // An extension on the URL is tolerated.
    expect((await t.request(`/icons/${app.id}/${app.icon_hash}.png`)).status).toBe(200);
  });

  test("replacing the icon serves the new one by type sniffed from its bytes; null removes it", async () => {
    const app = await createApplicationOk(t, owner.token, { icon: PNG_BASE64 });
    // Declared as PNG, really a GIF: the magic bytes decide.
    const res = await mutate(t, "update", owner.token, {
      id: app.id,
      version: 1,
      icon: `data:image/png;base64,${GIF_BASE64}`,
    });
    const updated = res.body.result.data;
    expect(updated.icon_hash).toBe(hashOf(GIF_BASE64));
    const gif = await t.request(`/icons/${app.id}/${updated.icon_hash}`);
    expect(gif.headers.get("content-type")).toBe("image/gif");
    expect(new Uint8Array(await gif.arrayBuffer())).toEqual(
      new Uint8Array(Buffer.from(GIF_BASE64, "base64")),
    );
    expect((await t.request(`/icons/${app.id}/${app.icon_hash}`)).status).toBe(404);

    const removed = await mutate(t, "update", owner.token, { id: app.id, version: 2, icon: null });
    expect(removed.body.result.data.icon_hash).toBeNull();
    expect((await t.request(`/icons/${app.id}/${updated.icon_hash}`)).status).toBe(404);
  });

  test.each([
    ["JPEG", [0xff, 0xd8, 0xff, 0xe0, 0, 0x10], "image/jpeg"],
    ["WebP", [...Buffer.from("RIFF"), 0x24, 0, 0, 0, ...Buffer.from("WEBPVP8 ")], "image/webp"],
  ])("%s is accepted by its magic bytes", async (_name, bytes, type) => {
    const app = await createApplicationOk(t, owner.token, { icon: base64(new Uint8Array(bytes)) });
    const res = await t.request(`/icons/${app.id}/${app.icon_hash}`);
    expect(res.headers.get("content-type")).toBe(type);
  });

  test("exactly 1 MiB is accepted", async () => {
    const app = await createApplicationOk(t, owner.token, { icon: base64(pngOfSize(MiB)) });
    const res = await t.request(`/icons/${app.id}/${app.icon_hash}`);
    expect((await res.arrayBuffer()).byteLength).toBe(MiB);
  });

  test.each([
    [
      "a non-image",
      base64(new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'/>")),
      "PNG, JPEG, GIF or WebP",
    ],
    ["an oversized image (1 MiB + 1)", base64(pngOfSize(MiB + 1)), "1 MiB"],
    ["invalid base64", "!!!not base64!!!", "base64"],
    ["an empty string", "", "base64"],
    ["a non-base64 data URI", `data:image/png,${PNG_BASE64}`, "base64"],
  ])(
    "%s is INVALID_ICON with a clear message; nothing is created or changed",
    async (_name, icon, message) => {
      const before = await countRows(t, "applications");
      const created = await mutate(t, "create", owner.token, { name: "With icon", icon });
      expect(created.status).toBe(400);
      expect(created.body.error.data.apiCode).toBe("INVALID_ICON");
      expect(created.body.error.message).toContain(message);
      expect(await countRows(t, "applications")).toBe(before);

      const app = await createApplicationOk(t, owner.token, { icon: PNG_BASE64 });
      const row = await applicationRow(t, app.id);
      const updated = await mutate(t, "update", owner.token, { id: app.id, version: 1, icon });
      expect(updated.body.error.data.apiCode).toBe("INVALID_ICON");
      expect(await applicationRow(t, app.id)).toEqual(row);
      expect((await t.request(`/icons/${app.id}/${app.icon_hash}`)).status).toBe(200);
    },
  );

  test.each([
    ["an unknown hash", (id: string) => `/icons/${id}/${"0".repeat(64)}`],
    ["a malformed hash", (id: string) => `/icons/${id}/not-a-hash`],
    ["a malformed application id", () => `/icons/abc/${"0".repeat(64)}`],
    ["an application id beyond int8", () => `/icons/99999999999999999999/${"0".repeat(64)}`],
  ])("%s is a 404 REST envelope", async (_name, path) => {
    const app = await createApplicationOk(t, owner.token, { icon: PNG_BASE64 });
    const res = await t.request(path(app.id));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: "NOT_FOUND", message: "Unknown icon" });
  });
});
