/**
 * Natural batching. Under load, many requests make the same call at once — a statement to PostgreSQL,
 * a script to Redis — and each call on its own costs a round trip, and for PostgreSQL a transaction
 * and a WAL flush, more than the work it carries. So items submitted while `maxInFlight` calls of a
 * kind are already running wait, and the next call takes all of them (up to `maxItems`). With no load
 * nothing waits: a lone request runs at once, as a batch of one.
 *
 * When a batch fails, each of its items runs again alone, so one item's error (a parent deleted under
 * it, a deadlock) is that item's answer and never another's.
 *
 * Two items with the same `conflictKey` never share a batch: a write's compare-and-swap (`used_at is
 * null`) must see each competitor as a statement of its own, so exactly one of them wins.
 */
export interface NaturalBatchOptions<Owner extends object, Item, Row> {
  /** One call for the whole batch. Each row it returns names its item by `position` (0-based). */
  run: (owner: Owner, items: Item[]) => Promise<(Row & { position: number })[]>;
  conflictKey?: (item: Item) => string;
  maxInFlight?: number;
  maxItems?: number;
}

interface Pending<Item, Row> {
  item: Item;
  resolve: (row: Row | undefined) => void;
  reject: (error: unknown) => void;
}

/** Batches of one kind running on one owner (a database handle, a Redis client), and the items waiting. */
interface Lane<Item, Row> {
  waiting: Pending<Item, Row>[];
  inFlight: number;
  scheduled: boolean;
}

const DEFAULT_MAX_IN_FLIGHT = 2;
const DEFAULT_MAX_ITEMS = 64;

/**
 * `(owner, item) => the row the batch returned for it`, or undefined when it returned none (a
 * compare-and-swap that lost, a read that found nothing).
 */
export function naturalBatches<Owner extends object, Item, Row>(
  options: NaturalBatchOptions<Owner, Item, Row>,
): (owner: Owner, item: Item) => Promise<Row | undefined> {
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const maxItems = options.maxItems ?? DEFAULT_MAX_ITEMS;
  const lanes = new WeakMap<Owner, Lane<Item, Row>>();

  async function runBatch(owner: Owner, batch: Pending<Item, Row>[]): Promise<void> {
    let rows: (Row & { position: number })[];
    try {
      rows = await options.run(
        owner,
        batch.map((pending) => pending.item),
      );
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      await Promise.all(batch.map((pending) => runBatch(owner, [pending])));
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

  function flush(owner: Owner, lane: Lane<Item, Row>): void {
    lane.scheduled = false;
    while (lane.inFlight < maxInFlight && lane.waiting.length > 0) {
      const batch = takeBatch(lane);
      lane.inFlight++;
      void runBatch(owner, batch).finally(() => {
        lane.inFlight--;
        flush(owner, lane);
      });
    }
  }

  return (owner, item) =>
    new Promise<Row | undefined>((resolve, reject) => {
      let lane = lanes.get(owner);
      if (!lane) {
        lane = { waiting: [], inFlight: 0, scheduled: false };
        lanes.set(owner, lane);
      }
      lane.waiting.push({ item, resolve, reject });
      // Items submitted in the same turn of the event loop (requests parsed together) go together.
      if (!lane.scheduled && lane.inFlight < maxInFlight) {
        lane.scheduled = true;
        const scheduledLane = lane;
        queueMicrotask(() => flush(owner, scheduledLane));
      }
    });
}
