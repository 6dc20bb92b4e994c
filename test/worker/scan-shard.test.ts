// A scan shard in workerd with real accounts over real D1 and real regtest txs: it scans each tx
// once per user (a pool tx not again when mined), calls only the accounts with a hit or open
// payments, and delivers what does not fit in one invocation's subrequest budget in its next
// alarm, the accounts' expiry held until then. Each test has a shard of its own.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import type { ChainBatch } from "../../src/chains/adapter";
import type { WatchedKeys } from "../../src/db/invoices";
import type { ShardWork } from "../../src/durable/scan-shard";
import { Coin } from "../../src/domain/coins";
import type { UserId } from "../../src/domain/ids";
import type { Env } from "../../src/env";
import { regtestTx } from "../support/regtest-txs";
import { xmrBatch, xmrBlock } from "../support/xmr-batches";
import { clients, freshMerchantUser, merchantUser, randomXmrKeys } from "./support";

const E = env as unknown as Env;
const c = clients("connect-json");
const shard = (name: string) => E.SCAN_SHARD.get(E.SCAN_SHARD.idFromName(`test:${name}`));
/** A step's work for shard `name`: nothing to scan or deliver unless given. */
const work = (name: string, over: Partial<ShardWork>): ShardWork => ({ coin: Coin.XMR, shard: `test:${name}`, batch: null, scan: [], affected: [], direct: [], ...over });

const batch = xmrBatch;
const block = (height: number, names: string[]) => xmrBlock(height, names.map(regtestTx));

/** A user with one XMR invoice, and what its shard is told of it. */
async function watching(userId: UserId, amount = 1): Promise<{ userId: UserId; paymentId: string; keys: WatchedKeys }> {
  const { paymentId } = await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount, timeout: 3600n, confirmations: 1 });
  const row = await E.DB.prepare("SELECT key_set_id, match_key FROM invoices WHERE id = ?").bind(paymentId).first<{ key_set_id: number; match_key: string }>();
  return { userId, paymentId, keys: { userId, keySetId: row!.key_set_id, matchKeys: [row!.match_key] } };
}
const strangers = async (n: number) => Promise.all(Array.from({ length: n }, async () => watching((await merchantUser(c, randomXmrKeys())) as UserId)));
/** Runs the shard's alarm (or lets the one already running finish) until it owes nobody. */
async function delivered(s: ReturnType<typeof shard>): Promise<void> {
  await runDurableObjectAlarm(s);
  for (let i = 0; i < 100 && (await s.queuedUsers()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await s.queuedUsers()).toEqual([]);
}
const paymentsOf = async (invoiceId: string) =>
  (await E.DB.prepare("SELECT height, amount FROM payments WHERE invoice_id = ?").bind(invoiceId).all()).results;
const holdOf = async (userId: string) =>
  (await E.DB.prepare("SELECT held_before AS h FROM scan_holds WHERE coin = 0 AND user_id = ?").bind(userId).first<{ h: number }>())?.h ?? null;

describe("ScanShard.take", () => {
  it.each([6, 12])("calls only the account its pool tx pays, of %i watching users", async (count) => {
    // From 8 keys on, the tx key's derivations for all of them come from one shared table.
    const merchant = await watching((await freshMerchantUser(c)) as UserId, 1.5);
    const others = await strangers(count - 1);
    const s = shard(`hits-${count}`);
    const keys = [...others.slice(0, 3), merchant, ...others.slice(3)].map((o) => o.keys);
    const taken = await s.take(work(`hits-${count}`, { batch: batch({ mempool: [regtestTx("single_subaddress")] }), scan: keys }));
    expect(taken).toEqual({ called: 1, queued: 0 });
    expect(await paymentsOf(merchant.paymentId)).toEqual([{ height: null, amount: "1500000000000" }]);
    for (const o of others) expect(await paymentsOf(o.paymentId)).toEqual([]);
    expect(await s.stats()).toEqual({ scans: count, skipped: 0 });
  });

  it("does not scan a tx again when the pool tx it saw is mined, and still delivers the block to the account it pays", async () => {
    const merchant = await watching((await freshMerchantUser(c)) as UserId, 1.5);
    const others = await strangers(3);
    const scan = [merchant.keys, ...others.map((o) => o.keys)];
    const s = shard("mined");
    await s.take(work("mined", { batch: batch({ mempool: [regtestTx("single_subaddress")] }), scan }));
    const mined = await s.take(work("mined", { batch: batch({ tipHeight: 121, blocks: [block(121, ["single_subaddress"])] }), scan, affected: [merchant.userId] }));
    expect(mined).toEqual({ called: 1, queued: 0 });
    // The three strangers' misses are remembered; the merchant's hit is scanned again.
    expect(await s.stats()).toEqual({ scans: 5, skipped: 3 });
    expect(await paymentsOf(merchant.paymentId)).toEqual([{ height: 121, amount: "1500000000000" }]);
  });

  it("calls a user with open payments on news without a hit, and nobody else", async () => {
    const merchant = await watching((await freshMerchantUser(c)) as UserId, 1.5);
    const s = shard("news");
    await s.take(work("news", { batch: batch({ mempool: [regtestTx("single_subaddress")] }), scan: [merchant.keys] }));
    const news = await s.take(work("news", { batch: batch({ tipHeight: 121, blocks: [block(121, [])] }), affected: [merchant.userId] }));
    expect(news).toEqual({ called: 1, queued: 0 });
  });

  it("queues what does not fit in its subrequest budget, holds those accounts' expiry, and delivers it all in its next alarm", async () => {
    const users = await strangers(8);
    const s = shard("budget");
    const step = batch({ tipHeight: 121, blocks: [block(121, [])] });
    // 8 subrequests: 5 for D1, so 3 account calls in this invocation.
    const taken = await s.take(work("budget", { direct: users.map((u) => [u.userId, step] as [UserId, ChainBatch]) }), 8);
    expect(taken).toEqual({ called: 3, queued: 5 });
    // The alarm is due at once: it delivers the rest.
    await delivered(s);
    for (const u of users) expect(await holdOf(u.userId)).toBeNull();
    // Every account took the step: each one's progress is the step's tip.
    for (const u of users) {
      const tip = await runInDurableObject(E.USER_ACCOUNT.get(E.USER_ACCOUNT.idFromName(u.userId)), (a) =>
        (a as unknown as { ledger: { progress: Map<number, { tipHeight: number }> } | null }).ledger?.progress.get(Coin.XMR)?.tipHeight,
      );
      expect(tip).toBe(121);
    }
  });

  it("gives an account a new step only after the one it could not take, in order", async () => {
    const merchant = await watching((await freshMerchantUser(c)) as UserId, 1.5);
    const s = shard("order");
    const pool = batch({ mempool: [regtestTx("single_subaddress")], observedAfter: Date.now() - 5000 });
    // No room for any account call: the pool sighting waits in the shard.
    expect(await s.take(work("order", { batch: pool, scan: [merchant.keys] }), 5)).toEqual({ called: 0, queued: 1 });
    // The next step, the tx mined, must not overtake it.
    const mined = batch({ tipHeight: 121, blocks: [block(121, ["single_subaddress"])] });
    expect(await s.take(work("order", { batch: mined, scan: [merchant.keys], affected: [merchant.userId] }))).toEqual({ called: 0, queued: 1 });
    expect(await paymentsOf(merchant.paymentId)).toEqual([]);
    expect(await holdOf(merchant.userId)).toBe(pool.observedAfter);
    await delivered(s);
    expect(await paymentsOf(merchant.paymentId)).toEqual([{ height: 121, amount: "1500000000000" }]);
    expect(await holdOf(merchant.userId)).toBeNull();
  });

  it("keeps an account's steps in order when it changes shard while its old shard still owes it one", async () => {
    const merchant = await watching((await freshMerchantUser(c)) as UserId, 1.5);
    const before = shard("old-shard");
    const after = shard("new-shard");
    const pool = batch({ mempool: [regtestTx("single_subaddress")], observedAfter: Date.now() - 5000 });
    // The old shard has no room: the pool sighting waits there.
    expect(await before.take(work("old-shard", { batch: pool, scan: [merchant.keys] }), 5)).toEqual({ called: 0, queued: 1 });
    // The shard count changed: the next step, the tx mined, comes through another shard, which waits too.
    const mined = batch({ tipHeight: 121, blocks: [block(121, ["single_subaddress"])] });
    expect(await after.take(work("new-shard", { batch: mined, scan: [merchant.keys], affected: [merchant.userId] }))).toEqual({ called: 0, queued: 1 });
    await runInDurableObject(after, (s) => s.alarm()); // not before the old shard delivered
    expect(await paymentsOf(merchant.paymentId)).toEqual([]);
    await runInDurableObject(before, (s) => s.alarm());
    expect(await paymentsOf(merchant.paymentId)).toEqual([{ height: null, amount: "1500000000000" }]);
    expect(await holdOf(merchant.userId)).toBeGreaterThan(0); // still held by the new shard's step
    await new Promise((r) => setTimeout(r, 5_100)); // the new shard looks again after 5 s
    await runInDurableObject(after, (s) => s.alarm());
    expect(await paymentsOf(merchant.paymentId)).toEqual([{ height: 121, amount: "1500000000000" }]);
    expect(await holdOf(merchant.userId)).toBeNull();
  }, 20_000);
});
