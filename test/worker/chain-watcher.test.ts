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
import type { UserId } from "../../src/domain/ids";
import { shardOf } from "../../src/durable/shards";
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
const tick = (name: string, source: ChainSource, subrequests?: number, usersPerShard?: number) =>
  runInDurableObject(watcher(name), (w) => w.tick(Coin.XMR, source, subrequests, usersPerShard));
const pendingOf = (name: string) =>
  runInDurableObject(watcher(name), async (_w, state) => (await getChunked(state.storage, "pending")) as { batches: unknown[]; tasks: { shard: string }[] } | undefined);
const cursorOf = (name: string) =>
  runInDurableObject(watcher(name), async (_w, state) => ((await getChunked(state.storage, "cursor")) as { kind: string; cursor: ChainCursor } | undefined)?.cursor);
/** Makes the user's account drop what it holds in memory: its next call reloads from D1. */
const reload = (userId: string) =>
  evictDurableObject(E.USER_ACCOUNT.get(E.USER_ACCOUNT.idFromName(userId))).catch((e: unknown) => {
    if (!String(e).includes("not currently running")) throw e; // an account never called holds nothing
  });

const invoice = (userId: string, amount: number) => c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount, timeout: 600n, confirmations: 1 });

async function paymentsOf(invoiceId: string) {
  const { results } = await E.DB.prepare("SELECT height, amount, in_time FROM payments WHERE invoice_id = ? ORDER BY id").bind(invoiceId).all();
  return results;
}
const holdOf = async (userId: string) =>
  (await E.DB.prepare("SELECT held_before AS h FROM scan_holds WHERE coin = 0 AND user_id = ?").bind(userId).first<{ h: number }>())?.h ?? null;
/** The shard of watcher `name` (a test has few users: one shard). */
const shardFor = (name: string) => E.SCAN_SHARD.get(E.SCAN_SHARD.idFromName(`${watcher(name).id.toString()}:0/1`));
const shardQueue = (name: string) => shardFor(name).queuedUsers();
/** Runs the shard's retry at once, as its alarm does once a failed account is due again. */
const retryShard = async (name: string) => {
  await new Promise((r) => setTimeout(r, 5_100)); // the first retry is due 5 s after the failure
  await runInDurableObject(shardFor(name), (shard) => shard.alarm());
};

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

  it("moves past a step one account cannot take, holds that account's expiry, and delivers the step to it once it can", async () => {
    const merchant = await freshMerchantUser(c);
    const { paymentId } = await invoice(merchant, 1.5); // subaddress (0,1)
    const other = await merchantUser(c, randomXmrKeys());
    await invoice(other, 1);
    const chain = new ModelChain<ScanTx>();
    chain.mine(3);
    await tick("account-fails", chain);
    chain.send(vectorTx("single_subaddress"));
    chain.mine(1); // paid, and mined in block 4

    // The merchant's sealed view key is damaged: neither its shard nor its account can open it to scan.
    const row = await E.DB.prepare("SELECT id, sealed_secret FROM key_sets WHERE user_id = ?").bind(merchant).first<{ id: number; sealed_secret: string }>();
    const damaged = row!.sealed_secret.slice(0, 10) + (row!.sealed_secret[10] === "A" ? "B" : "A") + row!.sealed_secret.slice(11);
    await E.DB.prepare("UPDATE key_sets SET sealed_secret = ? WHERE id = ?").bind(damaged, row!.id).run();
    await reload(merchant);
    expect(await tick("account-fails", chain)).toBe(true);
    // The chain moved on for everybody; the merchant's step waits in its shard, its expiry held where the step began.
    expect((await cursorOf("account-fails"))!.blocks.at(-1)!.height).toBe(4);
    expect(await paymentsOf(paymentId)).toEqual([]);
    expect(await holdOf(merchant)).toEqual(expect.any(Number));
    expect(await holdOf(other)).toBeNull();
    expect(await shardQueue("account-fails")).toEqual([merchant]);

    // Repaired and reloaded, the account takes the very same step from its shard.
    await E.DB.prepare("UPDATE key_sets SET sealed_secret = ? WHERE id = ?").bind(row!.sealed_secret, row!.id).run();
    await reload(merchant);
    await retryShard("account-fails");
    expect(await paymentsOf(paymentId)).toEqual([{ height: 4, amount: "1500000000000", in_time: 1 }]);
    expect(await statusOf(paymentId)).toBe(InvoiceStatus.Confirmed);
    expect(await holdOf(merchant)).toBeNull();
    expect(await shardQueue("account-fails")).toEqual([]);
  }, 30_000);

  it("keeps confirming other merchants' payments while one merchant's account cannot take its batches", async () => {
    const merchant = await freshMerchantUser(c);
    const { paymentId } = await invoice(merchant, 1.5); // subaddress (0,1), 2 confirmations below
    await E.DB.prepare("UPDATE invoices SET confirmations_required = 2 WHERE id = ?").bind(paymentId).run();
    await reload(merchant);
    const stuck = await merchantUser(c, randomXmrKeys());
    await invoice(stuck, 1);
    const chain = new ModelChain<ScanTx>();
    chain.mine(3);
    await tick("one-stuck", chain);
    // The stuck merchant's sealed view key is damaged: its account fails every batch.
    await E.DB.prepare("UPDATE key_sets SET sealed_secret = 'AAAA' || substr(sealed_secret, 5) WHERE user_id = ?").bind(stuck).run();
    await reload(stuck);
    chain.send(vectorTx("single_subaddress"));
    chain.mine(1); // block 4 pays the merchant
    await tick("one-stuck", chain).catch(() => undefined);
    chain.mine(1); // block 5: the second confirmation
    await tick("one-stuck", chain).catch(() => undefined);
    await tick("one-stuck", chain).catch(() => undefined);
    expect(await paymentsOf(paymentId)).toEqual([{ height: 4, amount: "1500000000000", in_time: 1 }]);
    expect(await statusOf(paymentId)).toBe(InvoiceStatus.Confirmed);
  }, 30_000);

  it("never expires an invoice whose in-time payment is in a step its account could not take yet", async () => {
    const merchant = await freshMerchantUser(c);
    const { paymentId } = await invoice(merchant, 1.5);
    const chain = new ModelChain<ScanTx>();
    chain.mine(3);
    await tick("held-expiry", chain);
    chain.send(vectorTx("single_subaddress")); // paid in time, in the pool
    const row = await E.DB.prepare("SELECT id, sealed_secret FROM key_sets WHERE user_id = ?").bind(merchant).first<{ id: number; sealed_secret: string }>();
    await E.DB.prepare("UPDATE key_sets SET sealed_secret = 'AAAA' || substr(sealed_secret, 5) WHERE id = ?").bind(row!.id).run();
    await reload(merchant);
    expect(await tick("held-expiry", chain)).toBe(true);
    // The deadline passes; the chain's scan time passes it too, but the account never got the payment.
    const held = (await holdOf(merchant))!;
    expect(held).toBeLessThan(Date.now() - 1);
    await E.DB.prepare("UPDATE invoices SET expires_at = ? WHERE id = ?").bind(held + 1, paymentId).run();
    await E.DB.prepare("UPDATE chain_state SET scanned_through = ? WHERE coin = 0").bind(Date.now() + 60_000).run();
    await reload(merchant);
    const account = E.USER_ACCOUNT.get(E.USER_ACCOUNT.idFromName(merchant));
    await runInDurableObject(account, (a) => a.alarm());
    expect(await statusOf(paymentId)).toBe(InvoiceStatus.Pending);
    // Once the account can take it, the payment counts: in time.
    await E.DB.prepare("UPDATE key_sets SET sealed_secret = ? WHERE id = ?").bind(row!.sealed_secret, row!.id).run();
    await reload(merchant);
    await retryShard("held-expiry");
    expect(await paymentsOf(paymentId)).toEqual([{ height: null, amount: "1500000000000", in_time: 1 }]);
    expect(await statusOf(paymentId)).toBe(InvoiceStatus.PendingMempool);
  }, 30_000);

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

  it("splits a step over several ticks when its shards do not fit in one tick's subrequests, moving the cursor only once all took it", async () => {
    for (let i = 0; i < 5; i++) await invoice(await merchantUser(c, randomXmrKeys()), 1);
    const chain = new ModelChain<ScanTx>();
    chain.mine(3);
    await tick("split", chain, 10, 1);
    chain.send(vectorTx("single_subaddress")); // a pool tx: every shard scans it
    // 10 subrequests: 8 for D1, the rest for node calls, and at least one shard per tick; one user per shard.
    await tick("split", chain, 10, 1);
    const first = (await pendingOf("split"))!;
    const shards = first.tasks.length + 1;
    expect(shards).toBeGreaterThanOrEqual(5);
    expect(first.batches).toHaveLength(1); // by view key one batch for all, kept once
    expect(new Set(first.tasks.map((t) => t.shard)).size).toBe(first.tasks.length);
    const before = await cursorOf("split");
    chain.mine(1); // a new block: not read before the step is everybody's
    let ticks = 1;
    while (await pendingOf("split")) {
      const left = (await pendingOf("split"))!.tasks.length;
      await tick("split", chain, 10, 1);
      expect((await pendingOf("split"))?.tasks.length ?? 0).toBe(Math.max(0, left - 2));
      expect(await cursorOf("split")).toEqual((await pendingOf("split")) ? before : expect.anything());
      ticks += 1;
    }
    expect(ticks).toBe(1 + Math.ceil((shards - 1) / 2));
    expect((await cursorOf("split"))!.blocks.at(-1)!.height).toBe(3);
    do await tick("split", chain, 10, 1);
    while (await pendingOf("split"));
    expect((await cursorOf("split"))!.blocks.at(-1)!.height).toBe(4);
  });

  it("retries a shard that failed on its own, while the other shards' accounts already have the step", async () => {
    const merchant = await freshMerchantUser(c);
    const { paymentId } = await invoice(merchant, 1.5);
    const others: string[] = [];
    for (let i = 0; i < 4; i++) others.push(await merchantUser(c, randomXmrKeys()));
    for (const u of others) await invoice(u, 1);
    const chain = new ModelChain<ScanTx>();
    chain.mine(3);
    await tick("shard-fails", chain, undefined, 1);
    chain.send(vectorTx("single_subaddress"));
    // One shard, not the merchant's, fails to take anything (one user per shard: as many shards as watching users).
    const count = (await E.DB.prepare("SELECT COUNT(DISTINCT user_id) AS n FROM invoices WHERE coin = 0 AND (closed_at IS NULL OR closed_at > ?)").bind(Date.now() - 86_400_000).first<{ n: number }>())!.n;
    const mine = shardOf(merchant as UserId, count);
    const other = others.map((u) => shardOf(u as UserId, count)).find((k) => k !== mine)!;
    const broken = `${watcher("shard-fails").id.toString()}:${other}/${count}`;
    const stub = E.SCAN_SHARD.get(E.SCAN_SHARD.idFromName(broken));
    const restore = await runInDurableObject(stub, (shard) => {
      const proto = Object.getPrototypeOf(shard) as { take: (...args: unknown[]) => Promise<unknown> };
      const take = proto.take;
      proto.take = function (this: unknown, ...args: unknown[]) {
        return this === shard ? Promise.reject(new Error("shard unavailable")) : take.apply(this, args);
      };
      return () => void (proto.take = take);
    });
    try {
      await expect(tick("shard-fails", chain, undefined, 1)).rejects.toThrow(/^1 of \d+ shards did not take the step \(first: shard unavailable\)/);
    } finally {
      restore();
    }
    // The merchant's shard took the step: its payment is recorded although the cursor waits for the other shard.
    expect(await paymentsOf(paymentId)).toEqual([{ height: null, amount: "1500000000000", in_time: 1 }]);
    expect((await pendingOf("shard-fails"))!.tasks.map((t) => t.shard)).toEqual([broken]);
    expect(await tick("shard-fails", chain, undefined, 1)).toBe(true);
    expect(await pendingOf("shard-fails")).toBeUndefined();
  });

  it("calls no account on a quiet tick, and on a new block only those with open payments", async () => {
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
      expect(await tick("quiet", chain)).toBe(true); // an empty block: only accounts with open payments are called
      expect(await holdOf(userId)).toBeNull();
      expect(await shardQueue("quiet")).toEqual([]);
    } finally {
      await E.DB.prepare("UPDATE invoices SET required = '1000000000000' WHERE id = ?").bind(paymentId).run();
      await reload(userId);
    }
  });
});
