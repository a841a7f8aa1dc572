import { TRPCClientError } from "@trpc/client";

interface ErrorData {
  apiCode?: string;
  zodIssues?: { formErrors: string[]; fieldErrors: Record<string, string[] | undefined> } | null;
  retry_after?: number | null;
}

function dataOf(error: unknown): ErrorData | null {
  if (!(error instanceof TRPCClientError)) return null;
  return (error.data as ErrorData | undefined) ?? null;
}

/** The server's stable code (`VERSION_CONFLICT`, `INVALID_PASSWORD`, …), or null for network failures. */
export function apiCodeOf(error: unknown): string | null {
  return dataOf(error)?.apiCode ?? null;
}

/** zod's field errors from the server, by wire field name (`name`, `redirect_uris`, …). */
export function fieldErrorsOf(error: unknown): Record<string, string | undefined> {
  const fieldErrors = dataOf(error)?.zodIssues?.fieldErrors ?? {};
  return Object.fromEntries(Object.entries(fieldErrors).map(([field, messages]) => [field, messages?.[0]]));
}

const PLAIN_MESSAGES: Record<string, string> = {
  INVALID_PASSWORD: "Wrong password. Nothing was changed.",
  VERSION_CONFLICT: "This application was changed elsewhere. Nothing was saved.",
  RATE_LIMITED: "Too many requests. Wait a moment and try again.",
  MAX_APPLICATIONS: "You have reached the maximum number of applications.",
  UNKNOWN_APPLICATION: "This application does not exist (any more).",
  ACCESS_DENIED: "You do not have access to this application.",
};

/** One sentence for a form's error line; field errors are shown next to their fields instead. */
export function messageOf(error: unknown): string {
  const code = apiCodeOf(error);
  if (code && PLAIN_MESSAGES[code]) return PLAIN_MESSAGES[code];
  const data = dataOf(error);
  if (data?.zodIssues) return data.zodIssues.formErrors[0] ?? "Some fields need attention.";
  if (error instanceof TRPCClientError && code) return error.message;
  return "Something went wrong. Check your connection and try again.";
}
