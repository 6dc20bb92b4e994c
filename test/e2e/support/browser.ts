// Headless Chromium for the checkout page's end-to-end tests: Debian's own build (never a downloaded one)
// driven through playwright-core, and what the tests read off a page: a QR code's text, screenshots.
import { accessSync, constants, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import jsQR from "jsqr";
import { chromium, type Browser, type Page } from "playwright-core";
import { PNG } from "pngjs";

/** The Debian package that provides /usr/bin/chromium. */
export const CHROMIUM_APT_PACKAGE = "chromium";
const DEBIAN_CHROMIUM = "/usr/bin/chromium";

// No GPU, no sandbox (CI runs as root), and nothing that phones home: the only traffic is to the page under test.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const ROOT = resolve(import.meta.dirname, "../../..");
/** Where screenshots go (git-ignored): test-results/checkout/<name>.png. */
export const SCREENSHOT_DIR = join(ROOT, "test-results", "checkout");

/**
 * The Chromium executable: $CHROMIUM_PATH if set, else Debian's /usr/bin/chromium. Null (with a warning naming the
 * apt package) when there is none, so a suite can `describe.skipIf(!chromiumPath)` instead of failing to launch.
 */
export function findChromium(): string | null {
  const path = process.env.CHROMIUM_PATH || DEBIAN_CHROMIUM;
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    console.warn(
      `browser tests skipped: no Chromium at ${path} (install Debian's package: apt-get install ${CHROMIUM_APT_PACKAGE}, or set CHROMIUM_PATH)`,
    );
    return null;
  }
}

/**
 * Launches headless Chromium. Playwright gives it a fresh temp profile of its own and removes it on close(); close()
 * ends exactly this browser's process group, and playwright kills it too if the test process exits first.
 */
export function launchBrowser(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** The text of the QR code drawn by the element at `selector`, read from a screenshot of it (as a phone camera would). */
export async function decodeQr(page: Page, selector: string): Promise<string> {
  const shot = PNG.sync.read(await page.locator(selector).screenshot({ animations: "disabled" }));
  const framed = withQuietZone(shot, 16);
  const code = jsQR(new Uint8ClampedArray(framed.data), framed.width, framed.height, { inversionAttempts: "attemptBoth" });
  if (!code) throw new Error(`decodeQr: no QR code found in ${selector} (${shot.width}x${shot.height} px)`);
  return code.data;
}

/** Saves a full-page screenshot as test-results/checkout/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: "disabled" });
  return path;
}

// A reader needs a light margin around the symbol; the element's own box may end at the modules' edge.
function withQuietZone(image: PNG, margin: number): PNG {
  const framed = new PNG({ width: image.width + 2 * margin, height: image.height + 2 * margin, fill: true });
  framed.data.fill(0xff);
  PNG.bitblt(image, framed, 0, 0, image.width, image.height, margin, margin);
  return framed;
}
