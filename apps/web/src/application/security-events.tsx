import type { RouterOutputs } from "@fluxer/client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { messageOf } from "../errors.ts";
import { useTRPC } from "../trpc.ts";
import { Section } from "../ui/section.tsx";

type AuditEvent = RouterOutputs["applications"]["events"]["events"][number];

const PAGE_SIZE = 20;

const TITLES: Record<string, string> = {
  "refresh_token.reuse_detected": "Refresh token reuse detected",
  "token_family.revoked": "Token family revoked",
  "authorization_code.replayed": "Authorization code used twice",
  "application.secret_reset": "Client secret reset",
  "application.bot_token_reset": "Bot token reset",
  "application.redirect_uris_changed": "Redirect URIs changed",
  "authorization.revoked": "A user deauthorized the application",
};

const REASONS: Record<string, string> = {
  refresh_reuse: "a used refresh token was presented again",
  code_replay: "its authorization code was used twice",
  client_revocation: "the application revoked a token",
  authorization_revoked: "the user deauthorized the application",
};

function text(value: unknown): string | null {
  return typeof value === "string" || typeof value === "number" ? String(value) : null;
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** The event's details in words; ids only, never a token (the server stores none). */
function details(event: AuditEvent): string[] {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const lines: string[] = [];
  const family = text(data.family_id);
  const generation = text(data.generation);
  if (family) lines.push(`Token family ${family}${generation ? `, generation ${generation}` : ""}`);
  const reason = text(data.reason);
  if (reason) lines.push(`Because ${REASONS[reason] ?? reason.replaceAll("_", " ")}`);
  const revoked = list(data.revoked_families);
  if (revoked.length > 0) lines.push(`Revoked token families ${revoked.join(", ")}`);
  const added = list(data.added);
  const removed = list(data.removed);
  if (added.length > 0) lines.push(`Added ${added.join(", ")}`);
  if (removed.length > 0) lines.push(`Removed ${removed.join(", ")}`);
  return lines;
}

function EventPage({
  id,
  before,
  last,
  onMore,
}: {
  id: string;
  before: string | undefined;
  last: boolean;
  onMore: (next: string) => void;
}) {
  const trpc = useTRPC();
  const page = useQuery(
    trpc.applications.events.queryOptions({ id, limit: PAGE_SIZE, ...(before ? { before } : {}) }),
  );
  if (page.isPending) return <li className="muted">Loading…</li>;
  if (page.error)
    return (
      <li className="form-error" role="alert">
        {messageOf(page.error)}
      </li>
    );
  const next = page.data.next;
  return (
    <>
      {page.data.events.map((event) => (
        <li key={event.id}>
          <strong>{TITLES[event.type] ?? event.type.replaceAll(/[._]/g, " ")}</strong>{" "}
          <time dateTime={event.at} className="muted">
            {new Date(event.at).toLocaleString()}
          </time>
          {details(event).map((line) => (
            <div key={line} className="muted">
              {line}
            </div>
          ))}
        </li>
      ))}
      {before === undefined && page.data.events.length === 0 ? (
        <li className="muted">No security events yet.</li>
      ) : null}
      {last && next ? (
        <li>
          <button type="button" className="secondary" onClick={() => onMore(next)}>
            Show older events
          </button>
        </li>
      ) : null}
    </>
  );
}

/** The application's audit trail, newest first: what a developer checks after a suspected leak. */
export function SecurityEvents({ id }: { id: string }) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  return (
    <Section title="Security events">
      <ol className="events">
        {cursors.map((before, index) => (
          <EventPage
            key={before ?? "newest"}
            id={id}
            before={before}
            last={index === cursors.length - 1}
            onMore={(next) => setCursors((current) => [...current, next])}
          />
        ))}
      </ol>
    </Section>
  );
}
