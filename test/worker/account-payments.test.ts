// A user's account applying chain batches made of real regtest transactions (recorded from monerod,
// scanned with the merchant's view key): crediting, confirmations, reorgs, vanished payments,
// replays and the burning bug, as the watcher would hand them over.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import type { ChainBatch } from "../../src/chains/adapter";
import { parseScanTx, type ScanTx } from "../../src/chains/xmr/tx";
import { Coin } from "../../src/domain/coins";
import { InvoiceStatus as S } from "../../src/domain/invoice";
import type { UserId } from "../../src/domain/ids";
import type { Env } from "../../src/env";
import vectors from "../vectors/xmr.json";
import { clients, merchantUser, merchant } from "./support";

const E = env as unknown as Env;
type VectorTx = { name: string; tx_hash: string; daemon_get_transactions: { txs: { as_json: string }[] } };
const byName = new Map((vectors.regtest.transactions as unknown as VectorTx[]).map((t) => [t.name, t]));
const scanTx = (name: string): ScanTx => {
  const t = byName.get(name)!;
  return parseScanTx(t.tx_hash, JSON.parse(t.daemon_get_transactions.txs[0]!.as_json));
};

let hashSerial = 0;
const blockOf = (height: number, txs: ScanTx[]) => ({ height, hash: `${++hashSerial}`.padStart(64, "0"), prevHash: "", timestamp: Math.floor(Date.now() / 1000), txs });
const batch = (over: Partial<ChainBatch>): ChainBatch => ({
  coin: Coin.XMR,
  tipHeight: 120,
  orphanedAbove: null,
  blocks: [],
  mempool: [],
  gone: [],
  scannedThrough: Date.now(),
  observedAfter: Date.now() - 1000,
  ...over,
});

async function history(invoiceId: string): Promise<S[]> {
  const { results } = await E.DB.prepare("SELECT status FROM events WHERE invoice_id = ? ORDER BY id").bind(invoiceId).all<{ status: S }>();
  return results.map((r) => r.status);
}
async function paymentsOf(invoiceId: string) {
  const { results } = await E.DB.prepare("SELECT tx_hash, output_index, amount, height, gone, in_time FROM payments WHERE invoice_id = ? ORDER BY id").bind(invoiceId).all();
  return results;
}

describe("UserAccount.applyChainBatch with real regtest transactions", () => {
  const c = clients("connect-json");
  let userId: UserId;
  const invoices: { paymentId: string }[] = [];
  const account = () => E.USER_ACCOUNT.get(E.USER_ACCOUNT.idFromName(userId));
  const apply = (b: Partial<ChainBatch>) => account().applyChainBatch(userId, batch(b));

  it("prepares the merchant's invoices (0,1) .. (0,10)", async () => {
    userId = (await merchantUser(c, merchant)) as UserId;
    const spec: [number, number][] = [[1.5, 1], [0.3, 1], ...Array.from({ length: 7 }, (): [number, number] => [1, 1]), [0.25, 2]];
    for (const [amount, confirmations] of spec) invoices.push(await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount, timeout: 3600n, confirmations }));
  });

  it("credits a multi-destination pool tx only to the invoice it pays (0,10), not to (1,5) which is no invoice", async () => {
    const inv10 = invoices[9]!.paymentId;
    await apply({ mempool: [scanTx("two_subaddresses")] });
    expect(await history(inv10)).toEqual([S.Pending, S.PendingMempool]);
    expect(await paymentsOf(inv10)).toEqual([
      { tx_hash: byName.get("two_subaddresses")!.tx_hash, output_index: expect.any(Number), amount: "250000000000", height: null, gone: 0, in_time: 1 },
    ]);
  });

  it("counts one confirmation when the tx is mined, and nothing twice when the batch is replayed", async () => {
    const inv10 = invoices[9]!.paymentId;
    const mined = blockOf(121, [scanTx("two_subaddresses")]);
    await apply({ tipHeight: 121, blocks: [mined] });
    await apply({ tipHeight: 121, blocks: [mined] });
    expect(await history(inv10)).toEqual([S.Pending, S.PendingMempool]);
    expect(await paymentsOf(inv10)).toMatchObject([{ height: 121, amount: "250000000000" }]);
  });

  it("puts the payment back to unconfirmed when its block is orphaned, and back to PENDING when the tx is gone", async () => {
    const inv10 = invoices[9]!.paymentId;
    await apply({ tipHeight: 120, orphanedAbove: 120 });
    expect(await paymentsOf(inv10)).toMatchObject([{ height: null, gone: 0 }]);
    await apply({ tipHeight: 120, gone: [byName.get("two_subaddresses")!.tx_hash] });
    expect(await history(inv10)).toEqual([S.Pending, S.PendingMempool, S.Pending]);
    expect(await paymentsOf(inv10)).toMatchObject([{ gone: 1 }]);
    const [inv] = (await c.invoices.getInvoices({ paymentIds: [inv10] })).invoices;
    expect(inv?.actualAmountExact).toBe("0");
  });

  it("recovers when the vanished tx is mined after all, and confirms with the second block", async () => {
    const inv10 = invoices[9]!.paymentId;
    await apply({ tipHeight: 121, blocks: [blockOf(121, [scanTx("two_subaddresses")])] });
    await apply({ tipHeight: 122, blocks: [blockOf(122, [])] });
    expect(await history(inv10)).toEqual([S.Pending, S.PendingMempool, S.Pending, S.PendingMempool, S.Confirmed]);
    expect(await paymentsOf(inv10)).toHaveLength(1);
  });

  it("sums two outputs of one tx to the same subaddress (0,2) and confirms both at once", async () => {
    const inv2 = invoices[1]!.paymentId;
    await apply({ tipHeight: 123, blocks: [blockOf(123, [scanTx("same_subaddress_twice"), scanTx("far_subaddress_mixed")])] });
    expect(await history(inv2)).toEqual([S.Pending, S.PendingMempool, S.Confirmed]);
    expect((await paymentsOf(inv2)).map((p) => p.amount)).toEqual(["100000000000", "200000000000"]);
  });

  it("pays (0,1) in full and never credits the same output key again under another tx hash (burning bug)", async () => {
    const inv1 = invoices[0]!.paymentId;
    const real = scanTx("single_subaddress");
    await apply({ tipHeight: 124, blocks: [blockOf(124, [real])] });
    expect(await history(inv1)).toEqual([S.Pending, S.PendingMempool, S.Confirmed]);
    const copy: ScanTx = { ...real, hash: "ab".repeat(32) };
    await apply({ tipHeight: 125, blocks: [blockOf(125, [copy])] });
    expect(await paymentsOf(inv1)).toMatchObject([{ tx_hash: real.hash, amount: "1500000000000" }]);
  });

  it("ignores txs that pay someone else", async () => {
    const before = (await E.DB.prepare("SELECT count(*) AS n FROM payments").first<{ n: number }>())!.n;
    const negatives = (vectors.regtest.negative as unknown as VectorTx[]).map((t) => parseScanTx(t.tx_hash, JSON.parse(t.daemon_get_transactions.txs[0]!.as_json)));
    await apply({ tipHeight: 126, blocks: [blockOf(126, negatives)] });
    expect((await E.DB.prepare("SELECT count(*) AS n FROM payments").first<{ n: number }>())!.n).toBe(before);
  });
});
