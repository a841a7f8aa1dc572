import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Db } from "./db/database.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { ServerKeys } from "./secret-key.ts";
import type { SnowflakeGenerator } from "./snowflake.ts";

/** Everything a request needs, passed explicitly (tests build their own). */
export interface Deps {
  db: Db;
  config: Config;
  clock: Clock;
  nextId: SnowflakeGenerator;
  log: Logger;
  /** Prometheus instruments; served only when METRICS_PORT is set. */
  metrics: Metrics;
  /** Derived from SECRET_KEY once at start (SPEC §16). */
  keys: ServerKeys;
}
