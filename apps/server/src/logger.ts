type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  /** Whether a message at `level` would be written: lets hot paths skip building fields. */
  enabled(level: Level): boolean;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Field names whose values are never written, whatever the caller passes. */
const REDACTED = /token|secret|password|code|authorization|cookie|verifier/i;

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key === "error" && value instanceof Error)
      out[key] = { name: value.name, message: value.message, stack: value.stack };
    else out[key] = REDACTED.test(key) && key !== "status_code" ? "[redacted]" : value;
  }
  return out;
}

/** Structured JSON lines on stdout. */
export function createLogger(level: Level | "silent", write: (line: string) => void = console.log): Logger {
  const threshold = ORDER[level];
  const emit =
    (lvl: Level) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (ORDER[lvl] < threshold) return;
      write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg: message, ...redact(fields) }));
    };
  return {
    enabled: (lvl) => ORDER[lvl] >= threshold,
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
  };
}
