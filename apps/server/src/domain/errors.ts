/**
 * Stable API error codes (SPEC §3): the REST envelope's `code` and tRPC's `error.data.apiCode`.
 * Domain code throws ApiError; the HTTP and tRPC edges translate it, so the domain knows neither.
 */
export const API_ERRORS = {
  INVALID_FORM_BODY: 400,
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  INVALID_TOKEN: 401,
  INVALID_CREDENTIALS: 401,
  INVALID_PASSWORD: 403,
  ACCESS_DENIED: 403,
  MISSING_OAUTH_SCOPE: 403,
  NOT_FOUND: 404,
  UNKNOWN_USER: 404,
  UNKNOWN_APPLICATION: 404,
  METHOD_NOT_ALLOWED: 405,
  USERNAME_TAKEN: 409,
  EMAIL_TAKEN: 409,
  VERSION_CONFLICT: 409,
  MAX_APPLICATIONS: 400,
  INVALID_ICON: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
} as const;

export type ApiCode = keyof typeof API_ERRORS;

export interface FieldIssue {
  path: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiCode,
    message: string,
    readonly errors?: FieldIssue[],
  ) {
    super(message);
    this.name = "ApiError";
    this.status = API_ERRORS[code];
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}
