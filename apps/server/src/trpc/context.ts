import type { UserRow } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { type Session, validateSessionToken } from "../domain/sessions.ts";
import { readSessionCookie } from "../http/cookies.ts";

export interface Context extends Deps {
  user: UserRow | null;
  session: Session | null;
  /** Client address as the rate limiter sees it (honours TRUST_PROXY). */
  ip: string;
}

/** `Authorization: flx_…` or `Bearer flx_…`; the page cookie only for same-origin requests (CSRF). */
export function sessionTokenFrom(request: Request, issuer: string): string | null {
  const header = request.headers.get("authorization");
  if (header) return header.startsWith("Bearer ") ? header.slice(7).trim() : header.trim();
  const cookie = readSessionCookie(request, { secure: issuer.startsWith("https:") });
  if (!cookie) return null;
  const origin = request.headers.get("origin");
  const fetchSite = request.headers.get("sec-fetch-site");
  const sameOrigin = origin ? origin === new URL(issuer).origin : fetchSite === "same-origin";
  return sameOrigin ? cookie : null;
}

export async function createContext(deps: Deps, request: Request, ip: string): Promise<Context> {
  const token = sessionTokenFrom(request, deps.config.issuer);
  const found = token ? await validateSessionToken(deps.db, token, deps.clock.now()) : null;
  return { ...deps, user: found?.user ?? null, session: found?.session ?? null, ip };
}
