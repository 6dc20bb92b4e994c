// The chain watcher's tick against an in-memory node (test/support/model-chain.ts) and real user
// accounts over real D1: who gets a batch, and what a batch is made of real regtest txs.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import type { ChainSource } from "../../src/chains/adapter";
import { parseScanTx, type ScanTx } from "../../src/chains/xmr/tx";
import { Coin } from "../../src/domain/coins";
import { InvoiceStatus } from "../../src/domain/invoice";
import type { Env } from "../../src/env";
import vectors from "../vectors/xmr.json";
import { ModelChain } from "../support/model-chain";
import { clients, freshMerchantUser, merchantUser, randomXmrKeys } from "./support";

const E = env as unknown as Env;
const c = clients("connect-json");

type VectorTx = { name: string; tx_hash: string; daemon_get_transactions: { txs: { as_json: string }[] } };
/** A real regtest tx of the vectors, as the node source hands it over. */
function vectorTx(name: string): ScanTx {
  const t = (vectors.regtest.transactions as unknown as VectorTx[]).find((v) => v.name === name)!;
  return parseScanTx(t.tx_hash, JSON.parse(t.daemon_get_transactions.txs[0]!.as_json));
}

/** One tick of a watcher of the test's own (its own cursor), reading `source`. */
const tick = (watcher: string, source: ChainSource) =>
  runInDurableObject(E.CHAIN_WATCHER.get(E.CHAIN_WATCHER.idFromName(watcher)), (w) => w.tick(Coin.XMR, source));

const invoice = (userId: string, amount: number) => c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount, timeout: 600n, confirmations: 1 });

async function paymentsOf(invoiceId: string) {
  const { results } = await E.DB.prepare("SELECT height, amount, in_time FROM payments WHERE invoice_id = ? ORDER BY id").bind(invoiceId).all();
  return results;
}
async function statusOf(invoiceId: string): Promise<InvoiceStatus | undefined> {
  return (await E.DB.prepare("SELECT status FROM invoices WHERE id = ?").bind(invoiceId).first<{ status: InvoiceStatus }>())?.status;
}

describe("ChainWatcher.tick", () => {
  it("hands this tick's pool txs to a user whose first invoice is created while the tick runs", async () => {
    // Someone else is watched already, so the watcher is following the chain.
    const other = await merchantUser(c, randomXmrKeys());
    await invoice(other, 1);
    const merchant = await freshMerchantUser(c);
    const chain = new ModelChain<ScanTx>();
    chain.mine(3);
    let paymentId = "";
    chain.onPoolRead = async () => {
      chain.onPoolRead = null;
      // The merchant's first invoice (subaddress (0,1)) is created, and paid, while the node is asked for its pool.
      paymentId = (await invoice(merchant, 1.5)).paymentId;
      chain.send(vectorTx("single_subaddress"));
    };
    await tick("first-invoice-during-tick", chain);
    expect(await paymentsOf(paymentId)).toEqual([{ height: null, amount: "1500000000000", in_time: 1 }]);
    expect(await statusOf(paymentId)).toBe(InvoiceStatus.PendingMempool);
  });
});
