import { type RawBuilder, sql } from "kysely";
import { type NaturalBatchOptions, naturalBatches } from "../batching.ts";
import type { Db } from "./database.ts";

/**
 * Natural batching (../batching.ts) for the token endpoint's statements: each statement on its own
 * costs PostgreSQL a parse/bind/execute, a snapshot, a transaction and a WAL flush, and the server a
 * driver round trip — more than the row it writes (`bun run bench`: the client-credentials write ran
 * 3.5× more rows per second in batches of 8). A batch's columns go as arrays (`unnest`, below), so one
 * statement text serves every batch size and stays prepared. A batch is one statement, so one
 * transaction: it commits or fails whole, and then each of its items runs again alone.
 */
export type BatchedStatementOptions<Item, Row> = NaturalBatchOptions<Db, Item, Row>;

export function batchedStatement<Item, Row>(
  options: BatchedStatementOptions<Item, Row>,
): (db: Db, item: Item) => Promise<Row | undefined> {
  return naturalBatches(options);
}

/**
 * PostgreSQL's types for the columns a batch passes as arrays: what each element is sent as, and what
 * the column reads as in the statement. Timestamps go as ISO strings: postgres.js types an array
 * parameter by its first element, and a Date there would make it `timestamptz`, which PostgreSQL
 * refuses to cast to `timestamptz[]`.
 */
interface ArrayElementTypes {
  bigint: { sent: string; read: string };
  integer: { sent: number; read: number };
  text: { sent: string; read: string };
  "text null": { sent: string | null; read: string | null };
  timestamptz: { sent: string; read: Date };
  "timestamptz null": { sent: string | null; read: Date | null };
}

/**
 * One column of a batch: `unnest($n::type[])`. Several in one select list are zipped row by row
 * (PostgreSQL 10+), which gives the batch as a table without naming its columns twice.
 */
export function unnest<Type extends keyof ArrayElementTypes>(
  values: readonly ArrayElementTypes[Type]["sent"][],
  type: Type,
): RawBuilder<ArrayElementTypes[Type]["read"]> {
  return sql`unnest(${values}::${sql.raw(type.replace(" null", ""))}[])`;
}

/** `[0, 1, … n-1]`: the batch's `position` column, which its rows answer by. */
export function positionsOf(items: readonly unknown[]): number[] {
  return items.map((_, position) => position);
}

/** A timestamp as a batch column sends it (see `ArrayElementTypes`). */
export const sentTimestamp = (date: Date): string => date.toISOString();

/** A batch column of space-separated lists (scopes) as text[]: a text[][] cannot be ragged. */
export function spaceSeparated(column: string): RawBuilder<string[]> {
  return sql<string[]>`string_to_array(${sql.ref(column)}, ' ')`;
}

/** Rows a write returned, each with the position of the item it answers (matched by a unique key). */
export function positioned<Item, Row>(
  items: readonly Item[],
  itemKey: (item: Item) => string,
  rows: readonly Row[],
  rowKey: (row: Row) => string,
): (Row & { position: number })[] {
  const positions = new Map(items.map((item, position) => [itemKey(item), position]));
  return rows.flatMap((row) => {
    const position = positions.get(rowKey(row));
    return position === undefined ? [] : [{ ...row, position }];
  });
}
