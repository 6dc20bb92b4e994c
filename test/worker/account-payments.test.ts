// A user's account applying chain batches made of real regtest transactions (recorded from monerod,
// scanned with the merchant's view key): crediting, confirmations, reorgs, vanished payments,
// replays, the burning bug, and when a payment counts as in time. Each test starts from a fresh
// holder of the merchant's keys, so none depends on another.
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import type { ChainBatch } from "../../src/chains/adapter";
import type { ScanTx } from "../../src/chains/xmr/tx";
import type { UserId } from "../../src/domain/ids";
import type { Env } from "../../src/env";
import { regtestTx as scanTx, regtestTxHash, strangersTxs } from "../support/regtest-txs";
import { xmrBatch, xmrBlock } from "../support/xmr-batches";
import { clients, freshMerchantUser } from "./support";

const E = env as unknown as Env;
const hashOf = regtestTxHash;

const blockOf = xmrBlock;
const batch = xmrBatch;

/** The invoice's logged events by type, without the "invoice." prefix. */
async function history(invoiceId: string): Promise<string[]> {
  const { results } = await E.DB.prepare("SELECT type FROM events WHERE invoice_id = ? ORDER BY id").bind(invoiceId).all<{ type: string }>();
  return results.map((r) => r.type.replace(/^invoice\./, ""));
}
async function paymentsOf(invoiceId: string) {
  const { results } = await E.DB.prepare("SELECT tx_hash, output_index, amount, height, gone, in_time FROM payments WHERE invoice_id = ? ORDER BY id").bind(invoiceId).all();
  return results;
}

const c = clients("connect-json");

/**
 * A fresh merchant with invoices (0,1), (0,2), … of the given [XMR, confirmations]; with `dueAgoMs`
 * their deadline passed that long ago (the account reloads them from D1).
 */
async function merchantWith(spec: [number, number][], opts: { dueAgoMs?: number } = {}) {
  const userId = (await freshMerchantUser(c)) as UserId;
  const ids: string[] = [];
  for (const [amount, confirmations] of spec) ids.push((await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount, timeout: 3600n, confirmations })).paymentId);
  const account = E.USER_ACCOUNT.get(E.USER_ACCOUNT.idFromName(userId));
  let expiresAt = 0;
  if (opts.dueAgoMs !== undefined) {
    expiresAt = Date.now() - opts.dueAgoMs;
    await E.DB.prepare("UPDATE invoices SET expires_at = ?1 WHERE user_id = ?2").bind(expiresAt, userId).run();
    await evictDurableObject(account);
  }
  return { userId, ids, expiresAt, apply: (b: Partial<ChainBatch>) => account.applyChainBatch(userId, batch(b)) };
}

/** (0,1) .. (0,10): 1.5 XMR, 0.3 XMR, seven of 1 XMR, then 0.25 XMR with 2 confirmations. */
const TEN: [number, number][] = [[1.5, 1], [0.3, 1], ...Array.from({ length: 7 }, (): [number, number] => [1, 1]), [0.25, 2]];

describe("UserAccount.applyChainBatch with real regtest transactions", () => {
  it("credits a multi-destination pool tx only to the invoice it pays (0,10), not to (1,5) which is no invoice", async () => {
    const { ids, apply } = await merchantWith(TEN);
    await apply({ mempool: [scanTx("two_subaddresses")] });
    expect(await history(ids[9]!)).toEqual(["created", "payment_received", "pending_mempool"]);
    expect(await paymentsOf(ids[9]!)).toEqual([
      { tx_hash: hashOf("two_subaddresses"), output_index: expect.any(Number), amount: "250000000000", height: null, gone: 0, in_time: 1 },
    ]);
    for (const other of ids.slice(0, 9)) expect(await paymentsOf(other)).toEqual([]);
  });

  it("counts one confirmation when the tx is mined, and nothing twice when the batch is replayed", async () => {
    const { ids, apply } = await merchantWith(TEN);
    await apply({ mempool: [scanTx("two_subaddresses")] });
    const mined = blockOf(121, [scanTx("two_subaddresses")]);
    await apply({ tipHeight: 121, blocks: [mined] });
    await apply({ tipHeight: 121, blocks: [mined] });
    expect(await history(ids[9]!)).toEqual(["created", "payment_received", "pending_mempool"]);
    expect(await paymentsOf(ids[9]!)).toMatchObject([{ height: 121, amount: "250000000000" }]);
  });

  it("puts the payment back to unconfirmed when its block is orphaned, and back to PENDING when the tx is gone", async () => {
    const { ids, apply } = await merchantWith(TEN);
    await apply({ tipHeight: 121, blocks: [blockOf(121, [scanTx("two_subaddresses")])] });
    await apply({ tipHeight: 120, orphanedAbove: 120 });
    expect(await paymentsOf(ids[9]!)).toMatchObject([{ height: null, gone: 0 }]);
    await apply({ tipHeight: 120, gone: [hashOf("two_subaddresses")] });
    expect(await history(ids[9]!)).toEqual(["created", "payment_received", "pending_mempool", "reverted"]);
    expect(await paymentsOf(ids[9]!)).toMatchObject([{ gone: 1 }]);
    const [inv] = (await c.invoices.getInvoices({ paymentIds: [ids[9]!] })).invoices;
    expect(inv?.actualAmountExact).toBe("0");
  });

  it("recovers when the vanished tx is mined after all, and confirms with the second block", async () => {
    const { ids, apply } = await merchantWith(TEN);
    await apply({ mempool: [scanTx("two_subaddresses")] });
    await apply({ gone: [hashOf("two_subaddresses")] });
    await apply({ tipHeight: 121, blocks: [blockOf(121, [scanTx("two_subaddresses")])] });
    await apply({ tipHeight: 122, blocks: [blockOf(122, [])] });
    expect(await history(ids[9]!)).toEqual(["created", "payment_received", "pending_mempool", "reverted", "pending_mempool", "confirmed"]);
    expect(await paymentsOf(ids[9]!)).toMatchObject([{ height: 121, gone: 0 }]);
  });

  it("sums two outputs of one tx to the same subaddress (0,2) and confirms both at once", async () => {
    const { ids, apply } = await merchantWith(TEN.slice(0, 2));
    await apply({ tipHeight: 123, blocks: [blockOf(123, [scanTx("same_subaddress_twice"), scanTx("far_subaddress_mixed")])] });
    expect(await history(ids[1]!)).toEqual(["created", "payment_received", "payment_received", "pending_mempool", "confirmed"]);
    expect((await paymentsOf(ids[1]!)).map((p) => p.amount).sort()).toEqual(["100000000000", "200000000000"]);
  });

  it("pays (0,1) in full and never credits the same output key again under another tx hash (burning bug)", async () => {
    const { ids, apply } = await merchantWith(TEN.slice(0, 1));
    const real = scanTx("single_subaddress");
    await apply({ tipHeight: 124, blocks: [blockOf(124, [real])] });
    expect(await history(ids[0]!)).toEqual(["created", "payment_received", "pending_mempool", "confirmed"]);
    const copy: ScanTx = { ...real, hash: "ab".repeat(32) };
    await apply({ tipHeight: 125, blocks: [blockOf(125, [copy])] });
    expect(await paymentsOf(ids[0]!)).toMatchObject([{ tx_hash: real.hash, amount: "1500000000000" }]);
  });

  it("ignores txs that pay someone else", async () => {
    const { ids, apply } = await merchantWith(TEN);
    const negatives = strangersTxs();
    expect(negatives.length).toBeGreaterThan(0);
    await apply({ tipHeight: 126, blocks: [blockOf(126, negatives)], mempool: negatives });
    for (const id of ids) {
      expect(await paymentsOf(id)).toEqual([]);
      expect(await history(id)).toEqual(["created"]);
    }
  });
});

describe("when a payment counts as in time", () => {
  const seconds = (ms: number) => Math.floor(ms / 1000);

  it("counts a payment first seen in a block after expiresAt when the watcher had not looked since before expiresAt", async () => {
    // The watcher's last complete look was 2 min before the deadline; then it was down; the block came 30 s after.
    const { ids, expiresAt, apply } = await merchantWith([[1.5, 2]], { dueAgoMs: 60_000 });
    await apply({ tipHeight: 121, blocks: [blockOf(121, [scanTx("single_subaddress")], seconds(expiresAt + 30_000))], observedAfter: expiresAt - 120_000 });
    expect(await history(ids[0]!)).toEqual(["created", "payment_received", "pending_mempool"]);
    expect(await paymentsOf(ids[0]!)).toMatchObject([{ height: 121, in_time: 1 }]);
  });

  it("counts a payment first seen in a block timestamped at or before expiresAt, even when the watcher looked after it", async () => {
    const { ids, expiresAt, apply } = await merchantWith([[1.5, 2]], { dueAgoMs: 60_000 });
    await apply({ tipHeight: 121, blocks: [blockOf(121, [scanTx("single_subaddress")], seconds(expiresAt))], observedAfter: expiresAt + 10_000 });
    expect(await history(ids[0]!)).toEqual(["created", "payment_received", "pending_mempool"]);
    expect(await paymentsOf(ids[0]!)).toMatchObject([{ in_time: 1 }]);
  });

  it("records a payment as late when the watcher looked after expiresAt and its block came after it", async () => {
    const { ids, expiresAt, apply } = await merchantWith([[1.5, 2]], { dueAgoMs: 60_000 });
    await apply({ tipHeight: 121, blocks: [blockOf(121, [scanTx("single_subaddress")], seconds(expiresAt + 30_000))], observedAfter: expiresAt + 10_000 });
    expect(await paymentsOf(ids[0]!)).toMatchObject([{ in_time: 0 }]);
    expect(await history(ids[0]!)).toEqual(["created", "payment_received", "expired"]);
  });

  it("counts a pool payment when the watcher's previous look was before expiresAt, and not when it was after", async () => {
    const early = await merchantWith([[1.5, 2]], { dueAgoMs: 60_000 });
    await early.apply({ mempool: [scanTx("single_subaddress")], observedAfter: early.expiresAt - 1 });
    expect(await paymentsOf(early.ids[0]!)).toMatchObject([{ in_time: 1, height: null }]);
    expect(await history(early.ids[0]!)).toEqual(["created", "payment_received", "pending_mempool"]);

    const late = await merchantWith([[1.5, 2]], { dueAgoMs: 60_000 });
    await late.apply({ mempool: [scanTx("single_subaddress")], observedAfter: late.expiresAt });
    expect(await paymentsOf(late.ids[0]!)).toMatchObject([{ in_time: 0 }]);
    expect(await history(late.ids[0]!)).toEqual(["created", "payment_received", "expired"]);
  });
});
