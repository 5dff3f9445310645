/**
 * Headless Chromium for the dashboard's tests: Debian's `chromium` (or `TASKLANE_CHROMIUM`),
 * driven by playwright-core. No browser is downloaded.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** The browser binary, or null when there is none (the browser tests are then skipped, except in CI). */
export function chromiumPath(): string | null {
  const candidates = [process.env.TASKLANE_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((p): p is string => !!p);
  return candidates.find((p) => existsSync(p)) ?? null;
}

/**
 * Launches the browser headless. Playwright gives it a fresh temporary profile (its own
 * `--user-data-dir`) and removes it on close.
 */
export function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error("Chromium not found: apt-get install -y chromium, or set TASKLANE_CHROMIUM");
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
