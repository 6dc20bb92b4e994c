// The chain watcher's tick against an in-memory node (test/support/model-chain.ts) and real user
// accounts over real D1, with batches made of real regtest txs: who gets a batch, what holds the
// cursor back, and when no account is called at all. Each test has a watcher (a cursor) of its own.
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import type { ChainSource } from "../../src/chains/adapter";
import type { ChainCursor } from "../../src/chains/follow";
import { parseScanTx, type ScanTx } from "../../src/chains/xmr/tx";
import { Coin } from "../../src/domain/coins";
import { InvoiceStatus } from "../../src/domain/invoice";
import { getChunked } from "../../src/durable/chunked-storage";
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

const watcher = (name: string) => E.CHAIN_WATCHER.get(E.CHAIN_WATCHER.idFromName(name));
/** One tick of the watcher named `name`, reading `source`. */
const tick = (name: string, source: ChainSource, subrequests?: number) => runInDurableObject(watcher(name), (w) => w.tick(Coin.XMR, source, subrequests));
const pendingOf = (name: string) =>
  runInDurableObject(watcher(name), async (_w, state) => (await getChunked(state.storage, "pending")) as { batches: unknown[]; deliveries: [string, number][] } | undefined);
const cursorOf = (name: string) =>
  runInDurableObject(watcher(name), async (_w, state) => ((await getChunked(state.storage, "cursor")) as { kind: string; cursor: ChainCursor } | undefined)?.cursor);
/** Makes the user's account drop what it holds in memory: its next call reloads from D1. */
const reload = (userId: string) => evictDurableObject(E.USER_ACCOUNT.get(E.USER_ACCOUNT.idFromName(userId)));

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

  it("never advances the cursor while one account fails to take the batch, and delivers on the next tick once it can", async () => {
    const merchant = await freshMerchantUser(c);
    const { paymentId } = await invoice(merchant, 1.5); // subaddress (0,1)
    await invoice(await merchantUser(c, randomXmrKeys()), 1); // another account, which takes every batch
    const chain = new ModelChain<ScanTx>();
    chain.mine(3);
    await tick("account-fails", chain);
    const before = await cursorOf("account-fails");
    chain.send(vectorTx("single_subaddress"));
    chain.mine(1); // paid, and mined in block 4

    // The merchant's sealed view key is damaged: its account, reloaded, cannot open it to scan.
    const row = await E.DB.prepare("SELECT id, sealed_secret FROM key_sets WHERE user_id = ?").bind(merchant).first<{ id: number; sealed_secret: string }>();
    const damaged = row!.sealed_secret.slice(0, 10) + (row!.sealed_secret[10] === "A" ? "B" : "A") + row!.sealed_secret.slice(11);
    await E.DB.prepare("UPDATE key_sets SET sealed_secret = ? WHERE id = ?").bind(damaged, row!.id).run();
    await reload(merchant);
    await expect(tick("account-fails", chain)).rejects.toThrow(/^1 of \d+ accounts did not take the batch/);
    expect(await cursorOf("account-fails")).toEqual(before);
    expect(await paymentsOf(paymentId)).toEqual([]);

    // Repaired and reloaded, the account takes the very same step.
    await E.DB.prepare("UPDATE key_sets SET sealed_secret = ? WHERE id = ?").bind(row!.sealed_secret, row!.id).run();
    await reload(merchant);
    expect(await tick("account-fails", chain)).toBe(true);
    expect(await paymentsOf(paymentId)).toEqual([{ height: 4, amount: "1500000000000", in_time: 1 }]);
    expect(await statusOf(paymentId)).toBe(InvoiceStatus.Confirmed);
    expect((await cursorOf("account-fails"))!.blocks.at(-1)!.height).toBe(4);
  });

  it("goes on from a cursor stored before cursors named their follower, skipping no block", async () => {
    await invoice(await merchantUser(c, randomXmrKeys()), 1);
    const chain = new ModelChain<ScanTx>();
    chain.mine(10);
    await tick("legacy-cursor", chain);
    const before = (await cursorOf("legacy-cursor"))!;
    expect(before.blocks.at(-1)!.height).toBe(10);
    // As an older version stored it: the bare block cursor.
    await runInDurableObject(watcher("legacy-cursor"), (_w, state) => state.storage.put("cursor", before));
    chain.mine(40);
    await tick("legacy-cursor", chain);
    // Blocks 11..30 (20 per tick) follow the stored position; a fresh start would have jumped to 31..50.
    expect((await cursorOf("legacy-cursor"))!.blocks.map((b) => b.height)).toEqual(Array.from({ length: 20 }, (_, i) => 11 + i));
  });

  it("splits a step over several ticks when its accounts do not fit in one tick's subrequests, moving the cursor only once all took it", async () => {
    for (let i = 0; i < 5; i++) await invoice(await merchantUser(c, randomXmrKeys()), 1);
    const chain = new ModelChain<ScanTx>();
    chain.mine(3);
    // 10 subrequests: 8 for D1, the rest for node calls, and at least one account per tick.
    await tick("split", chain, 10);
    const first = (await pendingOf("split"))!;
    const accounts = first.deliveries.length + 1;
    expect(accounts).toBeGreaterThanOrEqual(5);
    expect(first.batches).toHaveLength(1); // by view key one batch for all, kept once
    expect(await cursorOf("split")).toBeUndefined();
    chain.mine(1); // a new block: not read before the step is everybody's
    let ticks = 1;
    while (await pendingOf("split")) {
      const left = (await pendingOf("split"))!.deliveries.length;
      await tick("split", chain, 10);
      expect((await pendingOf("split"))?.deliveries.length ?? 0).toBe(Math.max(0, left - 2));
      ticks += 1;
    }
    expect(ticks).toBe(1 + Math.ceil((accounts - 1) / 2));
    expect((await cursorOf("split"))!.blocks.at(-1)!.height).toBe(3);
    // Then the next step, block 4, to everybody the same way.
    do await tick("split", chain, 10);
    while (await pendingOf("split"));
    expect((await cursorOf("split"))!.blocks.at(-1)!.height).toBe(4);
  });

  it("calls no account on a quiet tick, not even one that could not take a batch", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const { paymentId } = await invoice(userId, 1);
    const chain = new ModelChain<ScanTx>();
    chain.mine(3);
    await tick("quiet", chain);
    // The account can no longer load its invoices: any call to it fails.
    await E.DB.prepare("UPDATE invoices SET required = 'not a number' WHERE id = ?").bind(paymentId).run();
    await reload(userId);
    try {
      expect(await tick("quiet", chain)).toBe(true); // nothing new on the node: nobody is called
      chain.mine(1);
      await expect(tick("quiet", chain)).rejects.toThrow(/did not take the batch/); // a block: every account is called
    } finally {
      await E.DB.prepare("UPDATE invoices SET required = '1000000000000' WHERE id = ?").bind(paymentId).run();
      await reload(userId);
    }
  });
});
