import type { Db } from "../db/database.ts";
import type { UserRow } from "../db/schema.ts";
import { findOwnedApplication } from "./applications.ts";
import type { AuditEventData, AuditEventType } from "./audit.ts";

/** One audit event as the application's owner sees it (SPEC §9 `applications.events`). */
export type ApplicationEvent = {
  [Type in AuditEventType]: { id: string; type: Type; at: string; data: AuditEventData[Type] };
}[AuditEventType];

export interface ApplicationEventPage {
  events: ApplicationEvent[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: string | null;
}

/**
 * The owner's view of an application's audit events, newest first: snowflake ids are time-ordered,
 * so `id < before` pages backwards through time. Unknown → UNKNOWN_APPLICATION; someone else's →
 * ACCESS_DENIED, as applications.get.
 */
export async function listApplicationEvents(
  db: Db,
  input: { id: string; user: UserRow; before: string | null; limit: number },
): Promise<ApplicationEventPage> {
  await findOwnedApplication(db, input.id, input.user);
  let query = db
    .selectFrom("audit_events")
    .select(["id", "type", "created_at", "data"])
    .where("application_id", "=", input.id);
  if (input.before !== null) query = query.where("id", "<", input.before);
  // One row more than the page tells whether there is a next page.
  const rows = await query
    .orderBy("id", "desc")
    .limit(input.limit + 1)
    .execute();
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    // Rows are written only through recordAuditEvent, whose types pair each `type` with its `data`.
    events: page.map(
      (row) =>
        ({
          id: row.id,
          type: row.type,
          at: new Date(row.created_at).toISOString(),
          data: row.data,
        }) as ApplicationEvent,
    ),
    next: rows.length > input.limit && last ? last.id : null,
  };
}
