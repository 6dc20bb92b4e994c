// Monero payments end to end: a real monerod (regtest, restricted RPC port as public nodes expose),
// a real payer wallet, and the Worker running on workerd, observed through the public API and m.stream.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { InvoiceStatusType as S } from "../../gen/invoice/v1/invoice_pb";
import { randomXmrKeys } from "../support/xmr-keys";
import { startMoneroRegtest, type MoneroRegtest } from "./support/monero-regtest";
import { MerchantSession } from "./support/merchant-session";
import { startService, type Service } from "./support/service";

const POLL_SECONDS = 1;
const POLL_MS = POLL_SECONDS * 1000;
const MONITORING_SECONDS = 20;

let chain: MoneroRegtest;
let service: Service;
let m: MerchantSession;

beforeAll(async () => {
  chain = await startMoneroRegtest();
  service = await startService({
    XMR_DAEMON_URL: chain.restrictedUrl,
    XMR_POLL_SECONDS: String(POLL_SECONDS),
    MONITORING_SECONDS: String(MONITORING_SECONDS),
  });
  const keys = randomXmrKeys();
  m = await MerchantSession.open(service, CoinType.XMR, { xmrReq: { privViewKey: keys.private_view_key, pubSpendKey: keys.public_spend_key } }, POLL_MS);
}, 180_000);

afterAll(async () => {
  await m?.close();
  await service?.close();
  await chain?.stop();
});

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

describe("Monero payments against a real monerod", () => {
  it("1. a full payment shows as PENDING_MEMPOOL with the exact amount within 2 polls, then CONFIRMED after N blocks", async () => {
    const inv = await m.invoice(1.25, 3);
    const { txHash } = await chain.transfer([{ address: inv.address, amount: 1_250_000_000_000n }]);
    const waited = await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 2 * POLL_MS + 1500, "PENDING_MEMPOOL");
    console.info(`payment seen ${waited} ms after the transfer returned (poll interval ${POLL_MS} ms)`);
    expect(m.lastOf(inv.paymentId)).toMatchObject({ actualAmountExact: "1.25", actualAmount: 1.25, txId: txHash });
    await chain.mine(2);
    await m.quiet();
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL]);
    await chain.mine(1);
    await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
    expect(m.lastOf(inv.paymentId).confirmedAt).toBeDefined();
  });

  it("2. two partial payments: PENDING until the second covers the amount", async () => {
    const inv = await m.invoice(1, 1);
    await chain.transfer([{ address: inv.address, amount: 400_000_000_000n }]);
    await m.quiet();
    const [partial] = (await service.invoices.getInvoices({ paymentIds: [inv.paymentId] })).invoices;
    expect(partial).toMatchObject({ status: S.PENDING, actualAmountExact: "0.4" });
    const second = await chain.transfer([{ address: inv.address, amount: 600_000_000_000n }]);
    await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
    expect(m.lastOf(inv.paymentId)).toMatchObject({ actualAmountExact: "1", txId: second.txHash });
    await chain.mine(1);
    await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
  });

  it("3. an overpayment is credited in full", async () => {
    const inv = await m.invoice(0.5, 1);
    await chain.transfer([{ address: inv.address, amount: 700_000_000_001n }]);
    await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
    expect(m.lastOf(inv.paymentId).actualAmountExact).toBe("0.700000000001");
  });

  it("4. no payment: EXPIRED at expiresAt; a payment afterwards is recorded as late and the status stays", async () => {
    const inv = await m.invoice(0.3, 1, 10n);
    await m.stream.until(m.reached(inv.paymentId, S.EXPIRED), 25_000, "EXPIRED");
    const { txHash } = await chain.transfer([{ address: inv.address, amount: 300_000_000_000n }]);
    await chain.mine(1);
    const late = async () => service.sql<{ in_time: number }>("SELECT in_time FROM payments WHERE invoice_id = ? AND tx_hash = ?", inv.paymentId, txHash);
    const deadline = Date.now() + 15_000;
    while ((await late()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await late()).toEqual([{ in_time: 0 }]);
    await m.quiet();
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.EXPIRED]);
    const [stored] = (await service.invoices.getInvoices({ paymentIds: [inv.paymentId] })).invoices;
    expect(stored).toMatchObject({ status: S.EXPIRED, actualAmountExact: "0" });
  });

  it("5. paid in time, confirmations after expiresAt: CONFIRMED, never EXPIRED", async () => {
    const inv = await m.invoice(0.2, 2, 10n);
    await chain.transfer([{ address: inv.address, amount: 200_000_000_000n }]);
    await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
    await new Promise((r) => setTimeout(r, 11_000)); // past expiresAt, no block yet
    await m.quiet();
    await chain.mine(2);
    await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
  });

  it("6. one transaction paying two invoices of the same user: both detected", async () => {
    const a = await m.invoice(0.11, 1);
    const b = await m.invoice(0.22, 1);
    await chain.transfer([
      { address: a.address, amount: 110_000_000_000n },
      { address: b.address, amount: 220_000_000_000n },
    ]);
    await m.stream.until(() => m.reached(a.paymentId, S.PENDING_MEMPOOL)() && m.reached(b.paymentId, S.PENDING_MEMPOOL)(), 10_000, "both PENDING_MEMPOOL");
    expect(m.lastOf(a.paymentId).actualAmountExact).toBe("0.11");
    expect(m.lastOf(b.paymentId).actualAmountExact).toBe("0.22");
    expect(m.lastOf(a.paymentId).txId).toBe(m.lastOf(b.paymentId).txId);
  });

  it("7. a reorg (pop_blocks, then mining again) neither double counts nor loses the payment", async () => {
    const inv = await m.invoice(0.33, 3);
    const { txHash } = await chain.transfer([{ address: inv.address, amount: 330_000_000_000n }]);
    await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
    await chain.mine(2);
    await m.quiet();
    await chain.popBlocks(2); // the tx goes back to the pool
    await m.quiet();
    await chain.mine(2); // same heights, different hashes
    await m.quiet();
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL]);
    await chain.mine(1);
    await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
    const payments = await service.sql<{ tx_hash: string; amount: string; gone: number }>(
      "SELECT tx_hash, amount, gone FROM payments WHERE invoice_id = ?",
      inv.paymentId,
    );
    expect(payments).toEqual([{ tx_hash: txHash, amount: "330000000000", gone: 0 }]);
    expect(m.lastOf(inv.paymentId).actualAmountExact).toBe("0.33");
  });

  it("7b. a counted payment that is reorged out and dropped returns the invoice to PENDING", async () => {
    const inv = await m.invoice(0.44, 2);
    const { txHash } = await chain.transfer([{ address: inv.address, amount: 440_000_000_000n }]);
    await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
    await chain.mine(1);
    await m.quiet();
    await chain.popBlocks(1);
    await chain.flushTxpool([txHash]);
    await chain.mine(2);
    await m.stream.until(() => m.stream.statuses(inv.paymentId).length === 3, 15_000, "back to PENDING");
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.PENDING]);
    expect(m.lastOf(inv.paymentId).actualAmountExact).toBe("0");
  });

  it("8. the worker restarted while invoices are pending: no block is skipped", async () => {
    const inv = await m.invoice(0.55, 3);
    await chain.transfer([{ address: inv.address, amount: 550_000_000_000n }]);
    await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
    const lastEvent = m.stream.messages.at(-1)!.eventId!;
    // The worker dies without warning; three blocks arrive while it is down.
    await service.restart(() => chain.mine(3));
    await m.stream.done;
    expect(m.stream.error()).toBeTruthy(); // the client saw its stream end...
    await m.resume(lastEvent); // the client resumes where it was
    await service.cron(); // the watchdog, as Cloudflare fires it every minute
    await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 15_000, "CONFIRMED after the restart");
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.CONFIRMED]);
    const health = (await (await fetch(new URL("/healthz", service.url))).json()) as { coins: { XMR: { tip: number; cursor: number; lag: number } } };
    expect(health.coins.XMR.tip).toBe((await chain.height()) - 1);
    expect(health.coins.XMR.lag).toBe(0);
  });

  it("9. confirmations = 0: PENDING_MEMPOOL then CONFIRMED at once", async () => {
    const inv = await m.invoice(0.66, 0);
    await chain.transfer([{ address: inv.address, amount: 660_000_000_000n }]);
    await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
  });

  it("10. paid in time while the worker was down, mined after expiresAt: PENDING_MEMPOOL and CONFIRMED, never EXPIRED", { timeout: 180_000 }, async () => {
    const created = Date.now();
    const inv = await m.invoice(0.77, 1, 40n);
    const lastEvent = m.stream.messages.at(-1)!.eventId!;
    let minedAt = 0;
    await service.restart(async () => {
      // The payer pays at +5 s; the only block comes at +48 s, past the 40 s deadline; then the worker is back.
      await sleepUntil(created + 5_000);
      await chain.transfer([{ address: inv.address, amount: 770_000_000_000n }]);
      await sleepUntil(created + 48_000);
      await chain.mine(1);
      minedAt = Date.now();
    });
    await m.resume(lastEvent); // the client resumes where it was
    await service.cron();
    const closed = () => m.reached(inv.paymentId, S.CONFIRMED)() || m.reached(inv.paymentId, S.EXPIRED)();
    await m.stream.until(closed, 30_000, "CONFIRMED (or EXPIRED) after the restart");
    expect(minedAt - created).toBeGreaterThanOrEqual(48_000);
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING_MEMPOOL, S.CONFIRMED]);
    expect(m.lastOf(inv.paymentId)).toMatchObject({ actualAmountExact: "0.77" });
  });
});

