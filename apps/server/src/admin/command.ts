import { type ParseArgsConfig, parseArgs } from "node:util";
import { type Config, loadConfig } from "../config.ts";
import { type Db, openDatabase } from "../db/database.ts";
import { ensureDatabaseReachable } from "../db/reachability.ts";

/** One operator command of `bun run admin`; `run` returns what to print on success. */
export interface AdminCommand {
  summary: string;
  /** Arguments after the command name, e.g. `--owner <user> --name <name> --redirect <uri>…`. */
  usage: string;
  run(args: string[]): Promise<string>;
}

/** Bad input: the message is printed alone (no stack) and the exit code is 1. */
export class AdminInputError extends Error {}

/** Snowflake worker id of admin processes, kept apart from servers' WORKER_ID (0–1022) so ids never collide. */
export const ADMIN_WORKER_ID = 1023;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** `node:util` parseArgs, strict, with its errors as AdminInputError naming the command. */
export function parseArguments<const T extends Options>(
  command: string,
  args: string[],
  options: T,
  positionals: { min: number; max: number; names: string },
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new AdminInputError(`${command}: ${(error as Error).message}`);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min || count > positionals.max)
    throw new AdminInputError(
      positionals.max === 0
        ? `${command} takes no positional arguments (got ${parsed.positionals.join(" ")})`
        : `${command} needs ${positionals.names} (got ${count === 0 ? "nothing" : parsed.positionals.join(" ")})`,
    );
  return parsed;
}

/** A whole number option in [min, max]. */
export function integerOption(
  command: string,
  name: string,
  value: string | undefined,
  fallback: number,
  max: number,
) {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
    throw new AdminInputError(`${command}: --${name} must be a whole number from 1 to ${max} (got ${value})`);
  return Number(value);
}

/** The server's configuration and database (reachable, as at start), closed afterwards. */
export async function withDatabase<T>(run: (db: Db, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = openDatabase(config);
  try {
    await ensureDatabaseReachable(database, config.databaseUrl);
    return await run(database.db, config);
  } finally {
    await database.close();
  }
}

/** Columns padded to their widest cell; the header underlined by nothing but its own line. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
