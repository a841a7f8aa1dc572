/**
 * A failed OAuth step. `error` and `error_description` are the server's RFC 6749 §5.2 fields when it
 * answered with one; otherwise a code of this library's own (`invalid_state`, `invalid_issuer`,
 * `invalid_callback`, `invalid_response`, `request_failed`). `status` is the HTTP status of the
 * server's answer, or null when no answer was involved (a check made before any request).
 */
export class OAuthClientError extends Error {
  readonly error: string;
  readonly error_description: string | null;
  readonly status: number | null;

  constructor(
    error: string,
    errorDescription: string | null,
    status: number | null,
    options: { cause?: unknown } = {},
  ) {
    super(errorDescription ? `${error}: ${errorDescription}` : error, options);
    this.name = "OAuthClientError";
    this.error = error;
    this.error_description = errorDescription;
    this.status = status;
  }
}
