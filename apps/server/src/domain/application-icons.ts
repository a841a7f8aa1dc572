import { sha256 } from "@oslojs/crypto/sha2";
import { decodeBase64IgnorePadding, encodeHexLowerCase } from "@oslojs/encoding";
import type { Db } from "../db/database.ts";
import { ApiError } from "./errors.ts";

export const MAX_ICON_BYTES = 1024 * 1024;

export interface Icon {
  bytes: Uint8Array;
  contentType: "image/png" | "image/jpeg" | "image/gif" | "image/webp";
  /** Hex SHA-256 of the bytes: a content address, so a served URL never changes meaning. */
  hash: string;
}

const DATA_URI = /^data:[a-z0-9.+/-]*(;[a-z0-9=.+-]+)*;base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function startsWith(bytes: Uint8Array, prefix: number[], offset = 0): boolean {
  return prefix.every((byte, i) => bytes[offset + i] === byte);
}

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** The type is decided by magic bytes only: a declared data: URI media type proves nothing. */
function sniffImageType(bytes: Uint8Array): Icon["contentType"] | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) return "image/gif";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp";
  return null;
}

/** Base64 (optionally a data: URI) → a checked image; anything else is INVALID_ICON. */
export function parseIcon(input: string): Icon {
  const encoded = input.replace(DATA_URI, "");
  if (encoded.startsWith("data:")) throw new ApiError("INVALID_ICON", "Icon data URI must be base64-encoded");
  // Reject before decoding: 4 base64 chars carry 3 bytes.
  if (encoded.length > Math.ceil(MAX_ICON_BYTES / 3) * 4)
    throw new ApiError("INVALID_ICON", "Icon must be at most 1 MiB");
  if (encoded.length === 0 || !BASE64.test(encoded))
    throw new ApiError("INVALID_ICON", "Icon is not valid base64");
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64IgnorePadding(encoded);
  } catch {
    throw new ApiError("INVALID_ICON", "Icon is not valid base64");
  }
  if (bytes.length > MAX_ICON_BYTES) throw new ApiError("INVALID_ICON", "Icon must be at most 1 MiB");
  const contentType = sniffImageType(bytes);
  if (!contentType) throw new ApiError("INVALID_ICON", "Icon must be a PNG, JPEG, GIF or WebP image");
  return { bytes, contentType, hash: encodeHexLowerCase(sha256(bytes)) };
}

/** Makes `icon` the application's only stored icon (null removes it); run inside the update's transaction. */
export async function replaceIcon(
  db: Db,
  input: { applicationId: string; icon: Icon | null; now: Date },
): Promise<void> {
  let remove = db.deleteFrom("application_icons").where("application_id", "=", input.applicationId);
  if (input.icon) {
    await db
      .insertInto("application_icons")
      .values({
        application_id: input.applicationId,
        hash: input.icon.hash,
        content_type: input.icon.contentType,
        data: input.icon.bytes,
        created_at: input.now,
      })
      .onConflict((oc) => oc.columns(["application_id", "hash"]).doNothing())
      .execute();
    remove = remove.where("hash", "!=", input.icon.hash);
  }
  await remove.execute();
}

export async function findIcon(
  db: Db,
  applicationId: string,
  hash: string,
): Promise<{ contentType: string; data: Uint8Array } | null> {
  const row = await db
    .selectFrom("application_icons")
    .select(["content_type", "data"])
    .where("application_id", "=", applicationId)
    .where("hash", "=", hash)
    .executeTakeFirst();
  return row ? { contentType: row.content_type, data: row.data } : null;
}
