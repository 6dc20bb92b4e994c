// TON payments end to end (the ton chain module): a toncenter-shaped server over the real TON emulator
// (support/ton-sandbox.ts, which requires an API key here), funded payer wallets, and the Worker on workerd
// following it block by masterchain block, observed through the public API and m.stream.
// A payment shows at first sight in a block, with 1 confirmation; `mine(n)` seals n empty blocks. Every pay also
// seals a block, so scenarios run side by side within an `it` ask for confirmations no neighbour's blocks reach.
// The merchant's key is the vector key of shared/notes/ton.md (V4 #0 = UQB_i47J…); the stranger's is from a fixed seed.
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { Address } from "@ton/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { InvoiceStatusType as S } from "../../gen/invoice/v1/invoice_pb";
import { COMMIT_MARGIN_MS } from "../../src/chains/ton/follow";
import { deriveInvoiceWallet } from "../../src/chains/ton/wallet";
import { MerchantSession } from "./support/merchant-session";
import { startService, type Service } from "./support/service";
import { startTonSandbox, tonSettings, type TonSandbox } from "./support/ton-sandbox";

const POLL_SECONDS = 1;
const MONITORING_SECONDS = 20;
/** The shortest timeout CreateInvoice takes. */
const EXPIRING_SECONDS = 10n;
const API_KEY = "e2e-toncenter-key";
/** More blocks than every neighbour of a scenario seals while it waits. */
const MANY = 20;

const MERCHANT_KEY = "47a8b32ab912617b8bc138c5509a36fdce98bc3de4334c135a278e3fdf220f02";
const STRANGER_KEY = bytesToHex(ed25519.getPublicKey(hexToBytes("11".repeat(32))));
const walletOf = (key: string, index: number) => deriveInvoiceWallet(hexToBytes(key), index, "mainnet");

const nano = (ton: string) => {
  const [whole, frac = ""] = ton.split(".");
  return BigInt(whole!) * 10n ** 9n + BigInt(frac.padEnd(9, "0"));
};

let ton: TonSandbox;
let service: Service;
let m: MerchantSession;

beforeAll(async () => {
  ton = await startTonSandbox({ apiKey: API_KEY });
  service = await startService({
    ...tonSettings(ton, API_KEY, POLL_SECONDS),
    MONITORING_SECONDS: String(MONITORING_SECONDS),
  });
  m = await MerchantSession.open(service, CoinType.TON, { tonReq: { publicKey: MERCHANT_KEY } }, POLL_SECONDS * 1000);
}, 180_000);

afterAll(async () => {
  await m?.close();
  await service?.close();
  await ton?.stop();
});

const api = async (id: string) => (await service.invoices.getInvoices({ paymentIds: [id] })).invoices[0]!;
const paymentRows = (id: string) => service.sql<{ n: number }>("SELECT count(*) AS n FROM payments WHERE invoice_id = ?", id);
const pay = (to: string, ton_: string, extra: { bounce?: boolean; from?: number; comment?: string } = {}) => ton.pay({ to, amountNano: nano(ton_), ...extra });
/**
 * Seals a block dated well past the invoice's expiresAt: the watcher vouches for chain time, and the sandbox makes
 * blocks only when asked (the live chain makes one every few seconds).
 */
async function blockAfter(id: string): Promise<void> {
  // The scan time stays COMMIT_MARGIN_MS behind the last block's time.
  const deadline = Number((await api(id)).expiresAt!.seconds) * 1000 + COMMIT_MARGIN_MS + 1500;
  await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())));
  await ton.mine(1);
}
/** toncenter's base64 tx hash as the API shows it (hex). */
const hexHash = (base64: string) => Buffer.from(base64, "base64").toString("hex");

describe("TON payments against a toncenter-shaped server over @ton/sandbox (TON_NETWORK=mainnet, an API key required)", () => {
  it("reports TON ready on /healthz, reading the API with its key; GetCryptoKeys returns the key", async () => {
    // The sandbox refuses a request without the key: the watcher's reads below carry it.
    expect((await fetch(`${ton.url}/v3/masterchainInfo`)).status).toBe(401);
    type Health = { coins: Record<string, { ready: boolean; reason?: string | null }> };
    const read = async () => (await (await fetch(new URL("/healthz", service.url))).json()) as Health;
    // A coin's watcher starts with its first invoice, and is ready once it took a step.
    await m.invoice(1, 1);
    // Scanned through the chain's time, which moves with its blocks: the sandbox makes them when asked, the chain every few seconds.
    let health = await read();
    for (const deadline = Date.now() + 10_000; !health.coins.TON?.ready && Date.now() < deadline; ) {
      await ton.mine(1);
      await new Promise((r) => setTimeout(r, 500));
      health = await read();
    }
    expect(health.coins.TON, JSON.stringify(health)).toMatchObject({ ready: true });
    const keys = await service.users.getCryptoKeys({ userId: m.userId });
    expect(keys.tonKeys).toMatchObject({ publicKey: MERCHANT_KEY });
  });

  it("gives each invoice the non-bounceable (UQ) address of its wallet index", async () => {
    const inv = await m.invoice(0.5, 1);
    const [row] = await service.sql<{ address_index: number }>("SELECT address_index FROM invoices WHERE id = ?", inv.paymentId);
    const index = row!.address_index;
    const parsed = Address.parseFriendly(inv.address);
    expect(parsed.address.equals(walletOf(MERCHANT_KEY, index).address)).toBe(true);
    expect({ isBounceable: parsed.isBounceable, isTestOnly: parsed.isTestOnly, tag: inv.address.slice(0, 2) }).toEqual({ isBounceable: false, isTestOnly: false, tag: "UQ" });
    // The notes' vector: V4 #0 of this key (indexes start at 0).
    expect(walletOf(MERCHANT_KEY, 0).address.equals(Address.parse("UQB_i47JVYy-92vdlkHV6-29P2lw6wx-ZQMTFlcT9ADS_IEu"))).toBe(true);
  });

  it("a full payment shows as PENDING_MEMPOOL in its block, then CONFIRMED after the required confirmations", async () => {
    const inv = await m.invoice(1.5, 3);
    const sealed = await pay(inv.address, "1.5");
    const tx = sealed.txs.find((t) => Address.parse(t.account).equals(Address.parse(inv.address)))!;
    await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
    expect(m.lastOf(inv.paymentId)).toMatchObject({ actualAmountExact: "1.5", txId: hexHash(tx.hash) });
    await ton.mine(1);
    await m.quiet();
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL]);
    await ton.mine(1);
    await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
    // The stream also carried the payment itself, once (invoice.payment_received, the status unchanged).
    expect(m.stream.paymentEvents(inv.paymentId)).toBe(1);
    expect(await api(inv.paymentId)).toMatchObject({ status: S.CONFIRMED, actualAmountExact: "1.5" });
  });

  it("partial, covering and over payments; a bounced payment is not counted; one transfer pays two invoices; a stranger's invoice stays apart", async () => {
    const other = (await service.users.registerUser({})).userId;
    await service.users.updateCryptoKeys({ userId: other, tonReq: { publicKey: STRANGER_KEY } });
    const theirs = await service.invoices.createInvoice({ userId: other, coin: CoinType.TON, amount: 0.5, timeout: 600n, confirmations: 1 });
    expect(Address.parse(theirs.address).equals(walletOf(STRANGER_KEY, 0).address)).toBe(true);

    const partial = async () => {
      const inv = await m.invoice(1, MANY);
      await pay(inv.address, "0.4", { from: 1 });
      await m.quiet();
      expect(await api(inv.paymentId)).toMatchObject({ status: S.PENDING, actualAmountExact: "0.4" });
      // One nanoton over: credited in full.
      await pay(inv.address, "0.600000001", { from: 1 });
      await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "covered: PENDING_MEMPOOL");
      expect(m.lastOf(inv.paymentId).actualAmountExact).toBe("1.000000001");
      return inv;
    };
    const bounced = async () => {
      // bounce=true to an undeployed wallet: the bounce phase sends the value back, nothing stays.
      const inv = await m.invoice(0.3, 1);
      const bounceable = Address.parse(inv.address).toString({ bounceable: true });
      const sealed = await pay(bounceable, "0.3", { from: 2 });
      expect(sealed.txs.length).toBeGreaterThan(2); // the payer's, the invoice wallet's, and the bounce back
      await m.quiet();
      expect(await api(inv.paymentId)).toMatchObject({ status: S.PENDING, actualAmountExact: "0" });
      expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING]);
      return inv;
    };
    const twoAtOnce = async () => {
      const a = await m.invoice(0.3, 1);
      const b = await m.invoice(0.2, 1);
      await ton.pay({ from: 3, to: [
        { to: a.address, amountNano: nano("0.3") },
        { to: b.address, amountNano: nano("0.2") },
      ] });
      await m.stream.until(() => m.reached(a.paymentId, S.CONFIRMED)() && m.reached(b.paymentId, S.CONFIRMED)(), 10_000, "both CONFIRMED");
      expect(m.lastOf(a.paymentId).actualAmountExact).toBe("0.3");
      expect(m.lastOf(b.paymentId).actualAmountExact).toBe("0.2");
      return [a, b];
    };
    const [covered, bounce, pair] = await Promise.all([partial(), bounced(), twoAtOnce()]);
    await ton.mine(MANY);
    await m.stream.until(m.reached(covered.paymentId, S.CONFIRMED), 10_000, "covered: CONFIRMED");
    expect(await api(covered.paymentId)).toMatchObject({ status: S.CONFIRMED, actualAmountExact: "1.000000001" });
    expect(await api(bounce.paymentId)).toMatchObject({ status: S.PENDING, actualAmountExact: "0" });
    for (const inv of pair) expect(await paymentRows(inv.paymentId)).toEqual([{ n: 1 }]);
    expect(await api(theirs.paymentId)).toMatchObject({ status: S.PENDING, actualAmountExact: "0" });
    expect(m.stream.messages.every((x) => x.invoice?.userId === m.userId)).toBe(true);
  });

  it("unpaid: EXPIRED at expiresAt, a later payment recorded as late; paid in time and confirmed after expiresAt: CONFIRMED", async () => {
    // The paid one first: by the time the unpaid one expires, the paid one's expiresAt has passed too.
    const paid = await m.invoice(0.16, 3, EXPIRING_SECONDS);
    const unpaid = await m.invoice(0.1, 1, EXPIRING_SECONDS);
    await pay(paid.address, "0.16");
    await m.stream.until(m.reached(paid.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
    await blockAfter(unpaid.paymentId);
    await m.stream.until(m.reached(unpaid.paymentId, S.EXPIRED), 10_000, "EXPIRED");
    expect(m.stream.statuses(paid.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL]);
    await ton.mine(1);
    await m.stream.until(m.reached(paid.paymentId, S.CONFIRMED), 10_000, "CONFIRMED after expiresAt");
    expect(m.stream.statuses(paid.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
    await pay(unpaid.address, "0.1");
    await m.quiet();
    expect(m.stream.statuses(unpaid.paymentId)).toEqual([S.PENDING, S.EXPIRED]);
    expect(m.stream.paymentEvents(unpaid.paymentId)).toBe(1);
    expect(await service.sql<{ in_time: number }>("SELECT in_time FROM payments WHERE invoice_id = ?", unpaid.paymentId)).toEqual([{ in_time: 0 }]);
  });

  it("a payment in time in a block the indexer has not reached keeps the invoice from EXPIRED, and counts", async () => {
    const inv = await m.invoice(0.12, 1, EXPIRING_SECONDS);
    // One block behind, level with what the watcher saw (a lag that shows a lower tip is "behind" and waits anyway).
    ton.setLag(1);
    try {
      await ton.mine(1);
      const sealed = await pay(inv.address, "0.12");
      // The indexer stays one block behind past expiresAt: what it shows says nothing of the payment.
      await new Promise((r) => setTimeout(r, Number(EXPIRING_SECONDS) * 1000 + 2000));
      // The cron makes every account look at its deadlines (an account's own expiry alarm may have fired before the scan reached it).
      await service.cron();
      await m.quiet(2);
      expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING]);
      expect(ton.tip()).toBe(sealed.mcSeqno);
    } finally {
      ton.setLag(0);
    }
    await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED once the indexer caught up");
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
    expect(await api(inv.paymentId)).toMatchObject({ status: S.CONFIRMED, actualAmountExact: "0.12" });
  });

  it("the worker restarted while payments wait for their blocks (one paid before, one while down): no block skipped, each counted once", async () => {
    const before = await m.invoice(0.15, 3);
    const during = await m.invoice(0.25, 1);
    await pay(before.address, "0.15");
    await m.stream.until(m.reached(before.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
    const lastEvent = m.stream.messages.at(-1)!.eventId!;
    await service.restart(async () => {
      await pay(during.address, "0.25", { from: 1 });
      await ton.mine(1);
    });
    await m.resume(lastEvent);
    await service.cron();
    for (const [inv, amount] of [[before, "0.15"], [during, "0.25"]] as const) {
      await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 15_000, "CONFIRMED after the restart");
      expect(m.lastOf(inv.paymentId).actualAmountExact).toBe(amount);
      expect(await paymentRows(inv.paymentId)).toEqual([{ n: 1 }]);
    }
    expect(m.stream.statuses(before.paymentId)).toEqual([S.CONFIRMED]);
  });
});
