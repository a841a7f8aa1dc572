import { type RawBuilder, sql } from "kysely";
import type { Db } from "./database.ts";

/**
 * Natural batching for the token endpoint's statements. Under load, many requests run the same
 * statement at once; each statement on its own costs PostgreSQL a parse/bind/execute, a snapshot, a
 * transaction and a WAL flush, and the server a driver round trip — more than the row it writes
 * (`bun run bench`: the client-credentials write ran 3.5× more rows per second in batches of 8). So
 * items submitted while `maxInFlight` statements of a kind are already running wait, and the next
 * statement takes all of them (up to `maxItems`), its columns passed as arrays (`unnest`, below). With
 * no load nothing waits: a lone request runs at once, as a batch of one. One statement text serves
 * every batch size, so it stays prepared.
 *
 * A batch is one statement, so one transaction: it commits or fails whole. When a batch fails, each of
 * its items runs again alone, so one item's error (a parent deleted under it, a deadlock) is that
 * item's answer and never another's.
 *
 * Two items with the same `conflictKey` never share a batch: a write's compare-and-swap (`used_at is
 * null`) must see each competitor as a statement of its own, so exactly one of them wins.
 */
export interface BatchedStatementOptions<Item, Row> {
  /** One statement for the whole batch. Each row it returns names its item by `position` (0-based). */
  run: (db: Db, items: Item[]) => Promise<(Row & { position: number })[]>;
  conflictKey?: (item: Item) => string;
  maxInFlight?: number;
  maxItems?: number;
}

interface Pending<Item, Row> {
  item: Item;
  resolve: (row: Row | undefined) => void;
  reject: (error: unknown) => void;
}

/** Statements of one kind running on one database handle, and the items waiting for the next. */
interface Lane<Item, Row> {
  waiting: Pending<Item, Row>[];
  inFlight: number;
  scheduled: boolean;
}

const DEFAULT_MAX_IN_FLIGHT = 2;
const DEFAULT_MAX_ITEMS = 64;

/**
 * `(db, item) => the row the statement returned for it`, or undefined when it returned none (a
 * compare-and-swap that lost, a read that found nothing).
 */
export function batchedStatement<Item, Row>(
  options: BatchedStatementOptions<Item, Row>,
): (db: Db, item: Item) => Promise<Row | undefined> {
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const maxItems = options.maxItems ?? DEFAULT_MAX_ITEMS;
  const lanes = new WeakMap<Db, Lane<Item, Row>>();

  async function runBatch(db: Db, batch: Pending<Item, Row>[]): Promise<void> {
    let rows: (Row & { position: number })[];
    try {
      rows = await options.run(
        db,
        batch.map((pending) => pending.item),
      );
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      await Promise.all(batch.map((pending) => runBatch(db, [pending])));
      return;
    }
    const byPosition = new Map<number, Row>();
    for (const { position, ...row } of rows) byPosition.set(Number(position), row as Row);
    for (const [position, pending] of batch.entries()) pending.resolve(byPosition.get(position));
  }

  /** The next batch: the oldest waiting items, skipping (and keeping) those whose conflict key is taken. */
  function takeBatch(lane: Lane<Item, Row>): Pending<Item, Row>[] {
    if (!options.conflictKey) return lane.waiting.splice(0, maxItems);
    const batch: Pending<Item, Row>[] = [];
    const keys = new Set<string>();
    const kept: Pending<Item, Row>[] = [];
    for (const pending of lane.waiting) {
      const key = options.conflictKey(pending.item);
      if (batch.length < maxItems && !keys.has(key)) {
        keys.add(key);
        batch.push(pending);
      } else kept.push(pending);
    }
    lane.waiting = kept;
    return batch;
  }

  function flush(db: Db, lane: Lane<Item, Row>): void {
    lane.scheduled = false;
    while (lane.inFlight < maxInFlight && lane.waiting.length > 0) {
      const batch = takeBatch(lane);
      lane.inFlight++;
      void runBatch(db, batch).finally(() => {
        lane.inFlight--;
        flush(db, lane);
      });
    }
  }

  return (db, item) =>
    new Promise<Row | undefined>((resolve, reject) => {
      let lane = lanes.get(db);
      if (!lane) {
        lane = { waiting: [], inFlight: 0, scheduled: false };
        lanes.set(db, lane);
      }
      lane.waiting.push({ item, resolve, reject });
      // Items submitted in the same turn of the event loop (requests parsed together) go together.
      if (!lane.scheduled && lane.inFlight < maxInFlight) {
        lane.scheduled = true;
        const scheduledLane = lane;
        queueMicrotask(() => flush(db, scheduledLane));
      }
    });
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
