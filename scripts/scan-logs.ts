/**
 * After the test suite: the servers' logs must contain no token, code, secret or password, and the
 * access log must show no request answered with a 5xx (SPEC §3: bad input never yields a 500).
 * Run by `bun run test`. Fails when the log is missing or empty (a scan of nothing proves nothing).
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const file = join(import.meta.dir, "..", "artifacts", "test.log");
if (!existsSync(file)) {
  console.error(`scan-logs: ${file} is missing; run the test suite first`);
  process.exit(1);
}
const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
if (lines.length === 0) {
  console.error("scan-logs: the test log is empty");
  process.exit(1);
}

const patterns: [string, RegExp][] = [
  ["session token", /flx_[A-Za-z0-9]{36}/],
  ["32-byte token, code or secret", /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/],
  ["bot token", /\d{15,20}\.[A-Za-z0-9_-]{43}/],
  ["test password", /password123|correct horse/],
];

let findings = 0;
for (const [index, line] of lines.entries()) {
  for (const [name, pattern] of patterns) {
    const match = line.match(pattern);
    if (match) {
      findings++;
      if (findings <= 10) console.error(`scan-logs: ${name} in line ${index + 1}: …${match[0].slice(0, 8)}…`);
    }
  }
}
let serverErrors = 0;
for (const line of lines) {
  if (!line.startsWith("{")) continue;
  try {
    const entry = JSON.parse(line) as { msg?: string; status?: number; path?: string; method?: string };
    if (entry.msg === "request" && typeof entry.status === "number" && entry.status >= 500) {
      serverErrors++;
      if (serverErrors <= 10) console.error(`scan-logs: ${entry.status} for ${entry.method} ${entry.path}`);
    }
  } catch {
    // Spawned servers' stdout may interleave partial lines; only whole JSON lines are access-log entries.
  }
}
console.log(
  `scan-logs: ${lines.length} log lines scanned, ${findings} secrets found, ${serverErrors} requests answered 5xx`,
);
if (findings > 0 || serverErrors > 0) process.exit(1);
if (process.argv.includes("--clean")) rmSync(file);
