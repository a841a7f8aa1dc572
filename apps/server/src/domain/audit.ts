import type { Db } from "../db/database.ts";

export type AuditEventType =
  | "refresh_token.reuse_detected"
  | "authorization_code.replayed"
  | "token_family.revoked"
  | "application.secret_reset"
  | "application.bot_token_reset"
  | "application.deleted"
  | "authorization.revoked";

export interface AuditEvent {
  id: string;
  type: AuditEventType;
  at: Date;
  userId?: string | null;
  applicationId?: string | null;
  familyId?: string | null;
  data?: Record<string, unknown>;
}

function toRow(event: AuditEvent) {
  return {
    id: event.id,
    type: event.type,
    user_id: event.userId ?? null,
    application_id: event.applicationId ?? null,
    family_id: event.familyId ?? null,
    data: JSON.stringify(event.data ?? {}),
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
