import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createLogger, type Logger } from "../../src/logger.ts";

/**
 * Every test server logs at debug level into one file, which `scripts/scan-logs.ts` searches for
 * tokens, codes, secrets and passwords after the suite (SPEC: secrets are never logged).
 */
export const TEST_LOG_FILE = join(import.meta.dir, "..", "..", "..", "..", "artifacts", "test.log");
mkdirSync(join(TEST_LOG_FILE, ".."), { recursive: true });

export function createTestLogger(): Logger {
  return createLogger("debug", (line) => appendFileSync(TEST_LOG_FILE, `${line}\n`));
}
