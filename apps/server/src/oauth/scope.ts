import { invalidScope } from "./errors.ts";

/** Closed registry in canonical order (SPEC §6); `openid` is OpenID Connect (§13). */
export const SCOPES = ["openid", "identify", "email", "guilds", "connections", "bot"] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * What generic OpenID Connect relying parties ask for (`openid profile email offline_access`):
 * `profile` is read as `identify`; `offline_access` asks for nothing (refresh tokens are always issued).
 */
export const SCOPE_SYNONYMS = { profile: "identify" } as const satisfies Record<string, Scope>;
export const NO_OP_SCOPES = ["offline_access"] as const;

/** Every scope string a request may carry: what metadata advertises in `scopes_supported`. */
export const ACCEPTED_SCOPE_VALUES = [...SCOPES, ...Object.keys(SCOPE_SYNONYMS), ...NO_OP_SCOPES];

function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** The registry scope a requested value stands for; null for a no-op; undefined when unknown. */
function resolveScope(value: string): Scope | null | undefined {
  if (isScope(value)) return value;
  if (Object.hasOwn(SCOPE_SYNONYMS, value)) return SCOPE_SYNONYMS[value as keyof typeof SCOPE_SYNONYMS];
  if ((NO_OP_SCOPES as readonly string[]).includes(value)) return null;
  return undefined;
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
  const resolved = value
    .split(/[ +]+/)
    .filter((part) => part.length > 0)
    .map(resolveScope);
  // The unknown value is not echoed: error descriptions never carry client input (RFC 6749 §5.2).
  if (resolved.includes(undefined)) throw invalidScope("Unknown scope");
  return normalizeScopes(resolved.filter((scope): scope is Scope => typeof scope === "string"));
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
