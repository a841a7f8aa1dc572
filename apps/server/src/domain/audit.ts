import type { Db } from "../db/database.ts";

/** Why a token family was revoked: stored on the family and in its `token_family.revoked` event. */
export type RevocationReason =
  | "refresh_reuse"
  | "code_replay"
  | "client_revocation"
  | "authorization_revoked"
  /** An operator revoked every grant of the user (`bun run admin users:revoke-grants`). */
  | "admin_revocation";

/**
 * What each audit event records besides its columns (type, time, user, application, family).
 * Ids, generations, reasons and redirect URIs only: never a token, code, secret or password.
 */
export interface AuditEventData {
  /** A rotated refresh token was presented again: its family is revoked (SPEC §7.2). */
  "refresh_token.reuse_detected": {
    family_id: string;
    /** Generation of the presented token (0 = issued by the code exchange); null when not known. */
    generation: number | null;
    /** When the presented token was first used (rotated). */
    used_at: string | null;
  };
  /** An authorization code was exchanged a second time; the families it produced are revoked. */
  "authorization_code.replayed": { revoked_families: string[] };
  "token_family.revoked": { family_id: string; reason: RevocationReason };
  "application.secret_reset": Record<string, never>;
  "application.bot_token_reset": Record<string, never>;
  "application.redirect_uris_changed": { added: string[]; removed: string[] };
  "application.deleted": Record<string, never>;
  /** A user revoked their authorization of the application ("Revoke Authorization"). */
  "authorization.revoked": { revoked_families: string[] };
}

export type AuditEventType = keyof AuditEventData;

interface AuditEventColumns {
  id: string;
  at: Date;
  userId?: string | null;
  applicationId?: string | null;
  familyId?: string | null;
}

/** One event: its `data` is the shape its `type` records. */
export type AuditEvent = {
  [Type in AuditEventType]: AuditEventColumns & { type: Type; data: AuditEventData[Type] };
}[AuditEventType];

function toRow(event: AuditEvent) {
  return {
    id: event.id,
    type: event.type,
    user_id: event.userId ?? null,
    application_id: event.applicationId ?? null,
    family_id: event.familyId ?? null,
    // An object, not a JSON string: both drivers serialise it for the jsonb column, so the column
    // holds a JSON object (`data->>'reason'` works in SQL), not a JSON string.
    data: event.data,
    created_at: event.at,
  };
}

/** Audit events carry ids and reasons only, never a token, code or secret. */
export async function recordAuditEvent(db: Db, event: AuditEvent): Promise<void> {
  await recordAuditEvents(db, [event]);
}

/** Several events in one INSERT; nothing is sent for an empty list. */
export async function recordAuditEvents(db: Db, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.insertInto("audit_events").values(events.map(toRow)).execute();
}
