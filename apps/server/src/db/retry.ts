/**
 * PostgreSQL aborts one of two transactions that wait on each other (40P01 deadlock_detected) or that
 * cannot be serialised (40001). The aborted one changed nothing, so running it again is safe and is
 * what the database expects; anything else is rethrown at once.
 */
const TRANSIENT = new Set(["40P01", "40001"]);

export function isTransientConflict(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && TRANSIENT.has(String((error as { code?: unknown }).code))
  );
}

export async function retryOnConflict<T>(
  run: () => Promise<T>,
  options: { attempts?: number } = {},
): Promise<T> {
  const attempts = options.attempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || !isTransientConflict(error)) throw error;
      // A little jitter, so the two retries do not collide again in lockstep.
      await Bun.sleep(attempt * 5 + Math.random() * 10);
    }
  }
}
