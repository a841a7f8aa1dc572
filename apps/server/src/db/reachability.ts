import { sql } from "kysely";
import type { DatabaseHandle } from "./database.ts";

/** PostgreSQL cannot be used at start; the message is one line saying what to do. */
export class DatabaseUnavailableError extends Error {}

/** Where DATABASE_URL points, without its password. */
export function postgresTarget(databaseUrl: string): {
  host: string;
  port: string;
  database: string;
  user: string;
} {
  const url = new URL(databaseUrl);
  const user = decodeURIComponent(url.username) || "postgres";
  return {
    host: url.hostname || "localhost",
    port: url.port || "5432",
    database: decodeURIComponent(url.pathname.slice(1)) || user,
    user,
  };
}

/** The driver's error as one actionable line, or null when it is not a connection problem we know. */
export function describeConnectionError(error: unknown, databaseUrl: string): string | null {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  const { host, port, database, user } = postgresTarget(databaseUrl);
  const at = `PostgreSQL at ${host}:${port}`;
  switch (code) {
    case "3D000":
      return `database "${database}" does not exist on ${at}: create it with createdb -h ${host} -p ${port} -U ${user} ${database}`;
    case "ECONNREFUSED":
      return `cannot reach ${at} (connection refused): start PostgreSQL or fix the host and port in DATABASE_URL`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot reach ${at}: the host name "${host}" does not resolve; fix DATABASE_URL`;
    case "CONNECT_TIMEOUT":
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `cannot reach ${at} (no answer): check the network, the firewall and the host in DATABASE_URL`;
    case "28P01":
      return `${at} rejected the password of user "${user}": fix the credentials in DATABASE_URL`;
    case "28000":
      return `${at} refused user "${user}" for database "${database}": create the role or allow it in pg_hba.conf`;
    case "42501":
      return `user "${user}" may not create tables in database "${database}" on ${at}: grant it CREATE (or use the owner)`;
    default:
      return null;
  }
}

/** One trivial statement before anything else, so a missing or unreachable database says so plainly. */
export async function ensureDatabaseReachable(
  handle: DatabaseHandle,
  databaseUrl: string | null,
): Promise<void> {
  if (handle.kind !== "postgres" || databaseUrl === null) return;
  try {
    await sql`select 1`.execute(handle.db);
  } catch (error) {
    const message = describeConnectionError(error, databaseUrl);
    if (message === null) throw error;
    throw new DatabaseUnavailableError(message, { cause: error });
  }
}
