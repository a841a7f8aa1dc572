export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** tRPC carries base64 icons (≤ 1 MiB decoded ≈ 1.34 MiB encoded) plus the other fields. */
export const TRPC_BODY_LIMIT = 2 * 1024 * 1024;

export class BodyTooLargeError extends Error {}
export class InvalidEncodingError extends Error {}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Reads at most `limit` bytes; throws instead of buffering an oversized or non-UTF-8 body. */
export async function readBodyBytes(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw new BodyTooLargeError();
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

export async function readBodyText(request: Request, limit: number = DEFAULT_BODY_LIMIT): Promise<string> {
  const bytes = await readBodyBytes(request, limit);
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new InvalidEncodingError();
  }
}

/** The media type without parameters, lower-cased ("application/json; charset=utf-8" → "application/json"). */
export function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}
