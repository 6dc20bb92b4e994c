// The hosted checkout page (/pay/<id>) in a real headless Chromium, against the Worker on workerd and real regtest
// monerod and litecoind: what a payer sees and scans, and how the page follows a payment live, without a reload.
import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { InvoiceStatusType as S, type CreateInvoiceRequestSchema } from "../../gen/invoice/v1/invoice_pb";
import vectors from "../vectors/utxo.json";
import { randomXmrKeys } from "../support/xmr-keys";
import { decodeQr, findChromium, launchBrowser, screenshot } from "./support/browser";
import { startLitecoinRegtest, type LitecoinRegtest } from "./support/litecoin-regtest";
import { startMoneroRegtest, type MoneroRegtest } from "./support/monero-regtest";
import { freePort } from "./support/ports";
import { startService, type Service } from "./support/service";

const chromiumPath = findChromium();

const POLL_SECONDS = 1;
/** Time for the watcher to see a chain change and the page to show it (a few polls, one event). */
const LIVE_MS = 15_000;
const SHOP_NAME = "Ada & Bob's Coffee";
const XMR_ATOMIC = 1_000_000_000_000n;
const LTC_ATOMIC = 100_000_000n;
const DESKTOP = { width: 800, height: 900 };

type Derivation = { chain: string; script_type: string; branch: number; extended_key: string };
const ltcMerchantKey = (vectors.litecoin_core_derivations as unknown as Derivation[]).find(
  (d) => d.chain === "regtest" && d.script_type === "p2wpkh" && d.branch === 0,
)!.extended_key;

const el = (testId: string) => `[data-testid="${testId}"]`;

describe.skipIf(!chromiumPath)("the checkout page in Chromium", () => {
  let monero: MoneroRegtest | undefined;
  let litecoin: LitecoinRegtest | undefined;
  let service: Service | undefined;
  let browser: Browser | undefined;
  /** A merchant with a display name and XMR keys. */
  let shop: string;
  /** A merchant without a display name, with LTC keys. */
  let anonymous: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // Assigned one by one as each comes up, so afterAll stops whatever started even if another failed.
    await Promise.all([
      startMoneroRegtest().then((c) => (monero = c)),
      startLitecoinRegtest().then((c) => (litecoin = c)),
      launchBrowser(chromiumPath!).then((b) => (browser = b)),
    ]);
    service = await startService({
      XMR_DAEMON_URL: monero!.restrictedUrl,
      XMR_POLL_SECONDS: String(POLL_SECONDS),
      LTC_NETWORK: "regtest",
      LTC_DAEMON_URL: litecoin!.urlWithCredentials,
      LTC_POLL_SECONDS: String(POLL_SECONDS),
      MONITORING_SECONDS: "20",
      // The merchant's link back is a loopback http:// URL here.
      CHECKOUT_ALLOW_INSECURE_REDIRECTS: "true",
    });
    shop = (await service.users.registerUser({ displayName: SHOP_NAME })).userId;
    const keys = randomXmrKeys();
    await service.users.updateCryptoKeys({ userId: shop, xmrReq: { privViewKey: keys.private_view_key, pubSpendKey: keys.public_spend_key } });
    anonymous = (await service.users.registerUser({})).userId;
    await service.users.updateCryptoKeys({ userId: anonymous, ltcReq: { masterPubKey: ltcMerchantKey } });
  }, 180_000);

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await Promise.all([monero?.stop(), litecoin?.stop()]);
  });

  type InvoiceRequest = Omit<MessageInitShape<typeof CreateInvoiceRequestSchema>, "$typeName">;
  async function createInvoice(req: Pick<InvoiceRequest, "userId" | "coin" | "amount"> & Partial<InvoiceRequest>) {
    const created = await service!.invoices.createInvoice({ timeout: 600n, confirmations: 1, ...req });
    expect(created.checkoutUrl).toBe(`${service!.url}/pay/${created.paymentId}`);
    return { ...created, checkoutUrl: created.checkoutUrl! };
  }

  /** A page in a context of its own (closed after the test): a fresh payer with no cookies or cache. */
  async function newPage(options: BrowserContextOptions = {}): Promise<Page> {
    const context = await browser!.newContext({ viewport: DESKTOP, ...options });
    contexts.push(context);
    return context.newPage();
  }

  const text = async (page: Page, testId: string) => (await page.locator(el(testId)).innerText()).trim();
  const state = (page: Page) => page.locator(el("status")).getAttribute("data-state");

  async function untilState(page: Page, want: string, timeoutMs = LIVE_MS): Promise<void> {
    await page.waitForSelector(`${el("status")}[data-state="${want}"]`, { state: "attached", timeout: timeoutMs });
  }

  async function untilLive(page: Page): Promise<void> {
    await page.waitForSelector('html[data-live="open"]', { state: "attached", timeout: 10_000 });
  }

  async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function untilApiStatus(paymentId: string, status: S): Promise<void> {
    const current = async () => (await service!.invoices.getInvoices({ paymentIds: [paymentId] })).invoices[0]?.status;
    await eventually(async () => (await current()) === status, LIVE_MS, `status ${S[status]} on the API`);
  }

  /** Marks the document; `stillSamePage` is true only if it was never reloaded or navigated since. */
  const markDocument = (page: Page) => page.evaluate("window.checkoutTestMark = true");
  const stillSamePage = (page: Page) => page.evaluate("window.checkoutTestMark === true");

  describe("paying a Monero invoice", () => {
    it("shows what to pay and scans to the payment URI, then follows a partial payment, the rest and its confirmations without a reload, ending on the merchant's link", async () => {
      const redirectUrl = `http://127.0.0.1:${await freePort()}/thanks?order=A-1001`;
      const inv = await createInvoice({
        userId: shop, coin: CoinType.XMR, amount: 1.25, confirmations: 2,
        redirectUrl, description: "Two flat whites", orderId: "A-1001", metadata: { table: "7" },
      });
      const page = await newPage();
      await page.goto(inv.checkoutUrl);

      expect(await text(page, "merchant")).toBe(SHOP_NAME);
      expect(await state(page)).toBe("waiting");
      expect(await text(page, "status")).not.toBe("");
      expect(await text(page, "amount-due")).toBe("1.25 XMR");
      expect(await page.locator(el("address")).innerText()).toBe(inv.address);
      expect(await decodeQr(page, el("qr"))).toBe(`monero:${inv.address}?tx_amount=1.25`);
      expect(await page.locator(el("copy")).isVisible()).toBe(true);
      expect(await page.locator(el("redirect")).count()).toBe(0);
      const countdown = await text(page, "countdown");
      await eventually(async () => (await text(page, "countdown")) !== countdown, 3_000, "the countdown to tick");
      await untilLive(page);
      await markDocument(page);
      await screenshot(page, "xmr-waiting");

      await monero!.transfer([{ address: inv.address, amount: XMR_ATOMIC / 2n }]);
      await untilState(page, "partial");
      expect(await text(page, "amount-due")).toBe("0.75 XMR");
      expect(await decodeQr(page, el("qr"))).toBe(`monero:${inv.address}?tx_amount=0.75`);
      await screenshot(page, "xmr-partial");

      await monero!.transfer([{ address: inv.address, amount: (XMR_ATOMIC * 3n) / 4n }]);
      await untilState(page, "seen");
      expect(await text(page, "confirmations")).toBe("0 / 2");
      await screenshot(page, "xmr-seen");

      await monero!.mine(1);
      await eventually(async () => (await text(page, "confirmations")) === "1 / 2", LIVE_MS, "1 / 2 confirmations");
      expect(await state(page)).toBe("seen");
      expect(await page.locator(el("redirect")).count()).toBe(0);

      await monero!.mine(1);
      await untilState(page, "paid");
      expect(await page.locator(el("redirect")).getAttribute("href")).toBe(redirectUrl);
      expect(await stillSamePage(page)).toBe(true);
      await screenshot(page, "xmr-paid");
    });
  });

  describe("paying a Litecoin invoice", () => {
    it("scans to a litecoin: URI with the amount, and shows paid once mined; no merchant name or link when none was given", async () => {
      const inv = await createInvoice({ userId: anonymous, coin: CoinType.LTC, amount: 0.3, confirmations: 1 });
      const page = await newPage();
      await page.goto(inv.checkoutUrl);

      expect(await page.locator(el("merchant")).count()).toBe(0);
      expect(await text(page, "amount-due")).toBe("0.3 LTC");
      expect(await page.locator(el("address")).innerText()).toBe(inv.address);
      expect(await decodeQr(page, el("qr"))).toBe(`litecoin:${inv.address}?amount=0.3`);
      await untilLive(page);
      await markDocument(page);

      await litecoin!.send(inv.address, (LTC_ATOMIC * 3n) / 10n);
      await untilState(page, "seen");
      expect(await text(page, "confirmations")).toBe("0 / 1");

      await litecoin!.mine(1);
      await untilState(page, "paid");
      expect(await page.locator(el("redirect")).count()).toBe(0);
      expect(await stillSamePage(page)).toBe(true);
    });
  });

  describe("an invoice nobody paid in time", () => {
    it("turns to expired by itself, no longer offers the address, and tells a payer who paid anyway to contact the merchant", async () => {
      const inv = await createInvoice({ userId: shop, coin: CoinType.XMR, amount: 0.3, timeout: 10n });
      const page = await newPage();
      await page.goto(inv.checkoutUrl);
      expect(await state(page)).toBe("waiting");
      await untilLive(page);

      // The 10 s deadline, then the chain scanned past it.
      await untilState(page, "expired", 40_000);
      expect(await text(page, "status")).toMatch(/expired/i);
      expect(await page.locator(el("qr")).count()).toBe(0);
      const wording = await page.locator("main").innerText();
      expect(wording).toContain("If you sent a payment anyway, it is still recorded for this invoice");
      expect(wording).toContain(`contact ${SHOP_NAME} with the invoice id`);
      expect(wording).toContain(inv.paymentId);
      await screenshot(page, "xmr-expired");
    });
  });

  describe("without JavaScript", () => {
    it("shows the current state, the new one after a reload, and no copy button", async () => {
      const inv = await createInvoice({ userId: shop, coin: CoinType.XMR, amount: 0.2, confirmations: 1 });
      const page = await newPage({ javaScriptEnabled: false });
      await page.goto(inv.checkoutUrl);

      expect(await state(page)).toBe("waiting");
      expect(await text(page, "amount-due")).toBe("0.2 XMR");
      expect(await page.locator(el("address")).innerText()).toBe(inv.address);
      expect(await decodeQr(page, el("qr"))).toBe(`monero:${inv.address}?tx_amount=0.2`);
      expect(await page.locator(el("copy")).getAttribute("hidden")).not.toBeNull();
      expect(await page.locator(el("copy")).isHidden()).toBe(true);
      expect(await page.locator('html[data-live="open"]').count()).toBe(0);

      await monero!.transfer([{ address: inv.address, amount: XMR_ATOMIC / 5n }]);
      await untilApiStatus(inv.paymentId, S.PENDING_MEMPOOL);
      await page.reload();
      expect(await state(page)).toBe("seen");
      expect(await text(page, "confirmations")).toBe("0 / 1");
      await screenshot(page, "nojs-seen");
    });
  });

  describe("on a 320 px wide phone", () => {
    it("needs no horizontal scroll, wraps the address in view and fits a QR that still scans", async () => {
      const inv = await createInvoice({ userId: shop, coin: CoinType.XMR, amount: 0.15 });
      const page = await newPage({ viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
      await page.goto(inv.checkoutUrl);

      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(320);
      const address = page.locator(el("address"));
      expect(await address.isVisible()).toBe(true);
      const box = (await address.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(320);
      // Nothing of it is cut off inside its own box either.
      expect(await address.evaluate((e: { scrollWidth: number; clientWidth: number }) => e.scrollWidth <= e.clientWidth)).toBe(true);
      const qr = (await page.locator(el("qr")).boundingBox())!;
      expect(qr.x).toBeGreaterThanOrEqual(0);
      expect(qr.x + qr.width).toBeLessThanOrEqual(320);
      expect(await decodeQr(page, el("qr"))).toBe(`monero:${inv.address}?tx_amount=0.15`);
      await screenshot(page, "mobile-320");
    });
  });

  describe("the copy button", () => {
    it("puts exactly the address on the clipboard", async () => {
      const inv = await createInvoice({ userId: shop, coin: CoinType.XMR, amount: 0.1 });
      const page = await newPage({ permissions: ["clipboard-read", "clipboard-write"] });
      await page.goto(inv.checkoutUrl);
      await page.locator(el("copy")).click();
      await eventually(async () => (await page.evaluate("navigator.clipboard.readText()")) === inv.address, 3_000, "the address on the clipboard");
      expect(await page.evaluate("navigator.clipboard.readText()")).toBe(inv.address);
    });
  });

  describe("what /pay serves", () => {
    it("answers an unknown id and a malformed id with the same 404 page", async () => {
      const unknown = await fetch(`${service!.url}/pay/${randomUUID()}`);
      const malformed = await fetch(`${service!.url}/pay/not-an-invoice`);
      expect([unknown.status, malformed.status]).toEqual([404, 404]);
      const [a, b] = await Promise.all([unknown.text(), malformed.text()]);
      expect(a).not.toBe("");
      expect(b).toBe(a);
    });

    it("loads nothing from outside the worker's origin and runs its script without an error", async () => {
      const inv = await createInvoice({ userId: shop, coin: CoinType.XMR, amount: 0.05 });
      const page = await newPage();
      const requested: string[] = [];
      const errors: string[] = [];
      page.on("request", (r) => requested.push(r.url()));
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await page.goto(inv.checkoutUrl);
      await untilLive(page);
      await new Promise((r) => setTimeout(r, 1_500)); // a countdown tick or two

      const origin = new URL(service!.url).origin;
      expect(requested.filter((url) => !url.startsWith("data:") && new URL(url).origin !== origin)).toEqual([]);
      expect(requested).toContain(`${inv.checkoutUrl}/events`);
      expect(errors).toEqual([]);
    });

    it("sends a Content-Security-Policy of default-src 'none' and under 30 KB of HTML", async () => {
      const inv = await createInvoice({ userId: shop, coin: CoinType.XMR, amount: 0.05 });
      const res = await fetch(inv.checkoutUrl, { headers: { "accept-encoding": "identity" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect((await res.arrayBuffer()).byteLength).toBeLessThan(30 * 1024);
    });
  });
});
