/** Unique violations look different in postgres.js (constraint_name) and PGlite (constraint). */
export function uniqueViolation(error: unknown): string | null {
  if (typeof error !== "object" || error === null) return null;
  const e = error as { code?: unknown; constraint_name?: unknown; constraint?: unknown };
  if (e.code !== "23505") return null;
  return String(e.constraint_name ?? e.constraint ?? "");
}
