import {
  BodyAbortedError,
  BodyTooLargeError,
  InvalidEncodingError,
  mediaType,
  readBodyText,
} from "./body.ts";

/** Page forms are small; 64 KiB is far above any honest sign-in or consent form. */
export const FORM_BODY_LIMIT = 64 * 1024;

export type FormResult =
  | { ok: true; form: URLSearchParams }
  | { ok: false; status: 400 | 413 | 415; message: string };

/** An `application/x-www-form-urlencoded` body, size-limited and strictly UTF-8; never throws on bad input. */
export async function readForm(request: Request): Promise<FormResult> {
  if (mediaType(request) !== "application/x-www-form-urlencoded")
    return { ok: false, status: 415, message: "Forms must be sent as application/x-www-form-urlencoded." };
  try {
    const form = new URLSearchParams(await readBodyText(request, FORM_BODY_LIMIT));
    // PostgreSQL text cannot hold NUL, and no honest form sends one.
    for (const [name, value] of form)
      if (name.includes("\u0000") || value.includes("\u0000"))
        return { ok: false, status: 400, message: "The form contains a NUL character." };
    return { ok: true, form };
  } catch (error) {
    if (error instanceof BodyTooLargeError)
      return { ok: false, status: 413, message: "The form is too large." };
    if (error instanceof InvalidEncodingError)
      return { ok: false, status: 400, message: "The form is not valid UTF-8." };
    if (error instanceof BodyAbortedError)
      return { ok: false, status: 400, message: "The form arrived incomplete." };
    throw error;
  }
}

/** One value of a field that must not repeat; null when absent, empty or repeated. */
export function singleField(form: URLSearchParams, name: string): string | null {
  const values = form.getAll(name);
  return values.length === 1 && values[0] !== "" ? (values[0] ?? null) : null;
}
