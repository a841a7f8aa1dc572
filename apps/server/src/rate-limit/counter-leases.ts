/**
 * Counter leases for a shared store (Redis). A hot counter with a high limit — every request of a
 * busy client behind one address — would cost a round trip per hit, and on a cheap request that round
 * trip is most of the server's work. So a process takes a run of counter values in one step (the
 * store adds `granted` to the counter and returns the new value) and hands them out itself, one per
 * hit, until the run is spent or its window ends.
 *
 * What stays exact: every hit gets its own counter value, and a value is only handed out if the store
 * counted it, so all processes together never let more than `limit` hits through a window. What it
 * costs: values a process took but did not use by the window's end were counted for nothing, so other
 * processes may refuse a little early. A run is at most 1 % of the limit (`MAX_SHARE`) and the store
 * grants runs only while the whole run fits under the limit, so near the limit every hit is counted on
 * its own, exactly as without leases. Limits under 200 (every default in buckets.ts) never lease.
 */

/** What the store answers for a request of `want` values: the counter after adding `granted`. */
export interface CountedRun {
  /** The counter's value after this run: the run is `count - granted + 1 … count`. */
  count: number;
  windowStart: number;
  /** How many values the store added: `want`, or 1 when `want` would have crossed the limit. */
  granted: number;
}

export interface CounterHit {
  /** This hit's value of the counter (1 for the window's first hit). */
  count: number;
  windowStart: number;
}

/** Adds `want` (or 1, near the limit) to the counter of `key` in its window at `nowMs`, atomically. */
export type CountInStore = (
  key: string,
  nowMs: number,
  windowMs: number,
  want: number,
  limit: number,
) => Promise<CountedRun>;

/** The largest share of a limit one process may hold as an unused run. */
const MAX_SHARE = 0.01;
/** Runs never grow past this: at 10,000 hits a second on one counter that is ~40 store calls. */
const MAX_RUN = 256;
/** A run spent faster than this was too small: the next one is twice as long. */
const SPENT_QUICKLY_MS = 100;
/** A run that lasted longer than this was too large: the next one is half as long. */
const SPENT_SLOWLY_MS = 1_000;
/** Forget counters whose window is over every this many store calls, so distinct keys cannot pile up. */
const SWEEP_EVERY = 10_000;

interface Run {
  windowStart: number;
  windowMs: number;
  next: number;
  last: number;
  takenAt: number;
}

/** One counter's state in this process. */
interface Counter {
  run: Run | null;
  /** The length of the next run to ask for (before adding hits already waiting). */
  size: number;
  /** The store call in flight for this counter; hits that find the run spent wait for it. */
  refilling: Promise<void> | null;
  waiting: number;
}

/** The next value of the counter's run, if it has one left for a hit at `nowMs`. */
function takeFromRun(counter: Counter, windowMs: number, nowMs: number): CounterHit | null {
  const run = counter.run;
  if (!run || run.windowMs !== windowMs || nowMs >= run.windowStart + run.windowMs || run.next > run.last)
    return null;
  return { count: run.next++, windowStart: run.windowStart };
}

/** The longest run worth taking for a limit: 0 or 1 means every hit goes to the store. */
export function longestRun(limit: number): number {
  return Math.min(MAX_RUN, Math.floor(limit * MAX_SHARE));
}

/**
 * `hit(key, limit, windowMs, nowMs)`: this hit's counter value. Keys whose limit allows no run go
 * straight to the store (one value each), as they would without leases. `forget(key)` drops this
 * process's run when the counter is reset in the store.
 */
export function counterLeases(countInStore: CountInStore) {
  const counters = new Map<string, Counter>();
  let callsSinceSweep = 0;

  function sweep(nowMs: number): void {
    for (const [key, counter] of counters) {
      const run = counter.run;
      if (!counter.refilling && (!run || nowMs >= run.windowStart + run.windowMs)) counters.delete(key);
    }
  }

  async function refill(counter: Counter, key: string, limit: number, windowMs: number, nowMs: number) {
    if (++callsSinceSweep >= SWEEP_EVERY) {
      callsSinceSweep = 0;
      sweep(nowMs);
    }
    const longest = longestRun(limit);
    const previous = counter.run;
    if (previous) {
      // Size follows demand: a run used up quickly doubles the next one, a run that lasted halves it.
      const lasted = performance.now() - previous.takenAt;
      if (lasted < SPENT_QUICKLY_MS) counter.size = Math.min(longest, counter.size * 2);
      else if (lasted > SPENT_SLOWLY_MS) counter.size = Math.max(1, Math.floor(counter.size / 2));
    }
    // Hits already waiting are not a guess: the run covers them (plus this one) whatever the size.
    const want = Math.max(1, Math.min(longest, Math.max(counter.size, counter.waiting + 1)));
    const counted = await countInStore(key, nowMs, windowMs, want, limit);
    counter.run = {
      windowStart: counted.windowStart,
      windowMs,
      next: counted.count - counted.granted + 1,
      last: counted.count,
      takenAt: performance.now(),
    };
  }

  /** Waits for this counter's run to be refilled (one store call for every hit waiting), then takes a value. */
  async function refilled(counter: Counter, key: string, limit: number, windowMs: number, nowMs: number) {
    for (;;) {
      if (!counter.refilling) {
        const refilling = refill(counter, key, limit, windowMs, nowMs);
        counter.refilling = refilling;
        const done = () => {
          if (counter.refilling === refilling) counter.refilling = null;
        };
        refilling.then(done, done);
      }
      counter.waiting += 1;
      try {
        // A failed store call fails every hit waiting on it (the caller falls back to memory).
        await counter.refilling;
      } finally {
        counter.waiting -= 1;
      }
      const taken = takeFromRun(counter, windowMs, nowMs);
      if (taken) return taken;
    }
  }

  /**
   * This hit's value: straight from the run when it has one left in this window (no promise at all,
   * the common case for a busy counter), else once the store has answered.
   */
  function hit(
    key: string,
    limit: number,
    windowMs: number,
    nowMs: number,
  ): CounterHit | Promise<CounterHit> {
    if (longestRun(limit) <= 1)
      return countInStore(key, nowMs, windowMs, 1, limit).then((counted) => ({
        count: counted.count,
        windowStart: counted.windowStart,
      }));
    let counter = counters.get(key);
    if (!counter) {
      counter = { run: null, size: 1, refilling: null, waiting: 0 };
      counters.set(key, counter);
    }
    return (
      (!counter.refilling && takeFromRun(counter, windowMs, nowMs)) ||
      refilled(counter, key, limit, windowMs, nowMs)
    );
  }

  return {
    hit,
    forget(key: string): void {
      const counter = counters.get(key);
      if (counter) counter.run = null;
    },
  };
}
