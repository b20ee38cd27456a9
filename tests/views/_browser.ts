/**
 * Headless Chromium for the view tests: Debian's `chromium` (or `CHROMIUM_PATH`), driven by
 * `puppeteer-core` over a pipe with a fresh profile and no network of its own. When the browser
 * is missing, the tests fail under `CI=true` (`.ci/run` installs it) and are skipped otherwise,
 * with the reason in their name.
 *
 * @module
 */

import puppeteer, { type Browser } from "puppeteer-core";

/** Where the browser is looked for. */
export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** Flags for a quiet, offline, throwaway browser. */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--hide-scrollbars",
  "--font-render-hinting=none",
];

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Whether the browser is there. */
export const HAVE_BROWSER = exists(CHROMIUM);

/** Whether a missing browser fails the test instead of skipping it. */
export const BROWSER_REQUIRED = Deno.env.get("CI") === "true";

/**
 * The test name, with the reason when the test will be skipped, and whether to skip it.
 * Under `CI=true` a missing browser is not skipped: the test runs and fails in {@linkcode launch}.
 */
export function browserTest(name: string): { name: string; ignore: boolean } {
  if (HAVE_BROWSER || BROWSER_REQUIRED) return { name, ignore: false };
  return {
    name: `${name} (skipped: no Chromium at ${CHROMIUM}; apt-get install -y chromium)`,
    ignore: true,
  };
}

/** A running browser and its throwaway profile. */
export interface RunningBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Launches the browser with a fresh profile. */
export async function launch(): Promise<RunningBrowser> {
  if (!HAVE_BROWSER) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  const profile = await Deno.makeTempDir({ prefix: "views-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    pipe: true,
    userDataDir: profile,
    args: FLAGS,
  });
  return {
    browser,
    async close() {
      await browser.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
