import { invalidScope } from "./errors.ts";

/** Closed registry in canonical order (SPEC §6). */
export const SCOPES = ["identify", "email", "guilds", "connections", "bot"] as const;
export type Scope = (typeof SCOPES)[number];

function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Canonical order, no duplicates. */
export function normalizeScopes(scopes: Iterable<string>): Scope[] {
  const set = new Set(scopes);
  return SCOPES.filter((scope) => set.has(scope));
}

/**
 * Splits a scope parameter on spaces (and '+', as Fluxer accepts), deduplicates and orders it.
 * Unknown scope → invalid_scope. An empty parameter yields [].
 */
export function parseScope(value: string | null | undefined): Scope[] {
  if (!value) return [];
  const parts = value.split(/[ +]+/).filter((part) => part.length > 0);
  const unknown = parts.filter((part) => !isScope(part));
  // The unknown value is not echoed: error descriptions never carry client input (RFC 6749 §5.2).
  if (unknown.length > 0) throw invalidScope("Unknown scope");
  return normalizeScopes(parts);
}

/**
 * A `scope` parameter that was sent (token endpoint): like parseScope, but a value naming no scope at all
 * (e.g. "+" or spaces) is invalid_scope rather than a token that grants nothing.
 */
export function parseRequestedScope(value: string | null | undefined): Scope[] {
  const scopes = parseScope(value);
  if (scopes.length === 0) throw invalidScope("scope must name at least one scope");
  return scopes;
}

export function formatScope(scopes: readonly string[]): string {
  return normalizeScopes(scopes).join(" ");
}

export function isSubset(requested: readonly string[], granted: readonly string[]): boolean {
  return requested.every((scope) => granted.includes(scope));
}
