export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** tRPC carries base64 icons (≤ 1 MiB decoded ≈ 1.34 MiB encoded) plus the other fields. */
export const TRPC_BODY_LIMIT = 2 * 1024 * 1024;

export class BodyTooLargeError extends Error {}
export class InvalidEncodingError extends Error {}
/** The client closed the connection (or stopped sending) before the body was complete: its fault, not ours. */
export class BodyAbortedError extends Error {}

const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads at most `limit` bytes; throws instead of buffering an oversized body (BodyTooLargeError) or
 * waiting on one the client abandoned: a connection closed mid-body, or fewer bytes than its
 * Content-Length (BodyAbortedError, a client error).
 */
export async function readBodyBytes(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw new BodyTooLargeError();
  if (!request.body) return new Uint8Array();
  // A declared length within the limit: the runtime reads exactly that many bytes natively, far
  // cheaper than a stream reader; only chunked bodies need counting as they arrive.
  if (request.headers.has("content-length")) {
    let buffer: ArrayBuffer;
    try {
      buffer = await request.arrayBuffer();
    } catch {
      throw new BodyAbortedError();
    }
    if (buffer.byteLength !== declared) throw new BodyAbortedError();
    return new Uint8Array(buffer);
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch {
      throw new BodyAbortedError();
    }
    const { done, value } = chunk;
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

/** UTF-8 or InvalidEncodingError: never a lossy decode that would store U+FFFD (SPEC §3). */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new InvalidEncodingError();
  }
}

export async function readBodyText(request: Request, limit: number = DEFAULT_BODY_LIMIT): Promise<string> {
  return decodeUtf8(await readBodyBytes(request, limit));
}

/** The media type without parameters, lower-cased ("application/json; charset=utf-8" → "application/json"). */
export function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}
