import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Debian's chromium, never a Playwright download. If it is missing we try one `apt-get install`
 * (CI runs as root); if that fails too, the test fails with a message saying what to install,
 * rather than being skipped silently.
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const install = Bun.spawnSync(["apt-get", "install", "-y", "chromium"], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdout: "inherit",
    stderr: "inherit",
  });
  if (install.exitCode !== 0 || !existsSync(CHROMIUM_PATH))
    throw new Error(
      `Chromium is required for the browser tests and was not found at ${CHROMIUM_PATH}; ` +
        `"apt-get install -y chromium" failed (exit ${install.exitCode}). Install Debian's chromium package.`,
    );
  return CHROMIUM_PATH;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A port that was free a moment ago: the issuer URL must name the port before the server starts. */
export function pickFreePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port as number;
  probe.stop(true);
  return port;
}
