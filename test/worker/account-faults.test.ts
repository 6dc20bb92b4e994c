// A user's account when storage fails half-way: every D1 operation of applying a batch or expiring
// invoices is made to fail in turn, and the retry must leave exactly what a clean run leaves. Nothing
// becomes visible (memory, the stream, expiry decisions) before its D1 batch committed.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import type { ChainBatch } from "../../src/chains/adapter";
import { database } from "../../src/db/client";
import { Coin } from "../../src/domain/coins";
import type { UserId } from "../../src/domain/ids";
import { InvoiceStatus as S } from "../../src/domain/invoice";
import type { Env } from "../../src/env";
import { recordStream, type StreamRecorder } from "../support/stream-recorder";
import { regtestTx as scanTx, regtestTxHash } from "../support/regtest-txs";
import { faultyD1, type FaultyD1 } from "./faults";
import { clients, freshMerchantUser } from "./support";

const E = env as unknown as Env;

const c = clients("connect-json");
const accountOf = (userId: string) => E.USER_ACCOUNT.get(E.USER_ACCOUNT.idFromName(userId));

/** Hands the account a D1 that fails on command (the account reads and writes D1 through `db`). */
async function injectFaults(userId: string): Promise<FaultyD1> {
  const faulty = faultyD1(E.DB);
  await runInDurableObject(accountOf(userId), (instance) => {
    (instance as unknown as { db: unknown }).db = database(faulty.db);
  });
  return faulty;
}

/** The merchant's invoices (0,1) for 1.5 XMR and (0,2) for 0.3 XMR, and a stream recording the user's events. */
async function merchantWithTwoInvoices(opts: { pastDeadline?: boolean } = {}) {
  // A fresh merchant evicts the previous holder's account, which an open stream would keep busy.
  await closeStreams();
  const userId = await freshMerchantUser(c);
  const first = await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1.5, timeout: 3600n, confirmations: 2 });
  const second = await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 0.3, timeout: 3600n, confirmations: 2 });
  if (opts.pastDeadline) {
    // Both invoices were due a minute ago; the account reloads them from D1.
    await E.DB.prepare("UPDATE invoices SET expires_at = ?1 WHERE user_id = ?2").bind(Date.now() - 60_000, userId).run();
    await evictDurableObject(accountOf(userId));
  }
  const stream = recordStream(c.invoices, { userId, afterEventId: 0n });
  streams.push(stream);
  await stream.take(2);
  return { userId: userId as UserId, ids: [first.paymentId, second.paymentId], stream };
}

const streams: StreamRecorder[] = [];
const closeStreams = () => Promise.all(streams.splice(0).map((s) => s.close()));
afterEach(closeStreams);

/** A batch with (0,2)'s tx in a block of 90 s ago and (0,1)'s tx in the pool, both seen in time (the watcher last looked 2 min ago). */
function paymentBatch(now = Date.now()): ChainBatch {
  return {
    coin: Coin.XMR,
    tipHeight: 121,
    orphanedAbove: null,
    blocks: [{ height: 121, hash: "c1".repeat(32), prevHash: "c0".repeat(32), timestamp: Math.floor(now / 1000) - 90, txs: [scanTx("same_subaddress_twice")] }],
    mempool: [scanTx("single_subaddress")],
    gone: [],
    scannedThrough: now,
    observedAfter: now - 120_000,
  };
}

async function paymentRows(userId: string) {
  const { results } = await E.DB.prepare(
    "SELECT p.tx_hash, p.output_index, p.amount, p.height, p.in_time FROM payments p JOIN invoices i ON i.id = p.invoice_id WHERE i.user_id = ? ORDER BY p.tx_hash, p.output_index",
  )
    .bind(userId)
    .all();
  return results;
}

/** The invoice's logged events by type, without the "invoice." prefix. */
async function history(invoiceId: string): Promise<string[]> {
  const { results } = await E.DB.prepare("SELECT type FROM events WHERE invoice_id = ? ORDER BY id").bind(invoiceId).all<{ type: string }>();
  return results.map((r) => r.type.replace(/^invoice\./, ""));
}

/** The message a call failed with, or null when it succeeded. */
async function failureOf(call: Promise<unknown>): Promise<string | null> {
  try {
    await call;
    return null;
  } catch (error) {
    return String((error as Error).message);
  }
}

/** D1 operations a clean run of `work` takes in a fresh account. */
async function operationsOf(setup: () => Promise<{ userId: UserId }>, work: (userId: UserId) => Promise<unknown>): Promise<number> {
  const { userId } = await setup();
  const faulty = await injectFaults(userId);
  await work(userId);
  return faulty.operations;
}

describe("UserAccount.applyChainBatch when D1 fails half-way", () => {
  const apply = (userId: UserId, batch: ChainBatch) => accountOf(userId).applyChainBatch(userId, batch);

  it("writes every payment row on the retry, whichever operation failed, and publishes each event once", { timeout: 180_000 }, async () => {
    const batch = paymentBatch();
    const operations = await operationsOf(() => merchantWithTwoInvoices(), (u) => apply(u, batch));
    expect(operations).toBeGreaterThan(0);
    for (let n = 1; n <= operations; n++) {
      const { userId, ids, stream } = await merchantWithTwoInvoices();
      const faulty = await injectFaults(userId);
      faulty.failAt(n);
      expect(await failureOf(apply(userId, batch)), `operation ${n} fails`).toMatch(/SQL/);
      await apply(userId, batch);

      expect(await paymentRows(userId), `after a failure at operation ${n}`).toEqual([
        { tx_hash: regtestTxHash("same_subaddress_twice"), output_index: expect.any(Number), amount: expect.any(String), height: 121, in_time: 1 },
        { tx_hash: regtestTxHash("same_subaddress_twice"), output_index: expect.any(Number), amount: expect.any(String), height: 121, in_time: 1 },
        { tx_hash: regtestTxHash("single_subaddress"), output_index: expect.any(Number), amount: "1500000000000", height: null, in_time: 1 },
      ]);
      // (0,1) is paid by one output, (0,2) by two: one payment_received event (a PENDING snapshot on the stream) each.
      const received = [["payment_received"], ["payment_received", "payment_received"]];
      for (const [i, id] of ids.entries()) {
        expect(await history(id), `events of ${id} after a failure at operation ${n}`).toEqual(["created", ...received[i]!, "pending_mempool"]);
        await stream.until(() => stream.statuses(id).length >= 2, 5_000, "PENDING_MEMPOOL");
      }
      // Give a duplicate a chance to show up before counting.
      await new Promise((r) => setTimeout(r, 50));
      for (const [i, id] of ids.entries()) {
        expect(stream.statuses(id), `stream of ${id} after a failure at operation ${n}`).toEqual([S.Pending, S.PendingMempool]);
        expect(stream.paymentEvents(id), `payment events of ${id} after a failure at operation ${n}`).toBe(received[i]!.length);
      }
    }
  });

  it("never expires an invoice whose in-time payment was in a failed batch", { timeout: 180_000 }, async () => {
    const operations = await operationsOf(() => merchantWithTwoInvoices({ pastDeadline: true }), (u) => apply(u, paymentBatch()));
    for (let n = 1; n <= operations; n++) {
      const { userId, ids } = await merchantWithTwoInvoices({ pastDeadline: true });
      const faulty = await injectFaults(userId);
      faulty.failAt(n);
      // The batch says the chain was scanned up to now, past the deadline: true only once it committed.
      expect(await failureOf(apply(userId, paymentBatch())), `operation ${n} fails`).toMatch(/SQL/);
      expect(await runDurableObjectAlarm(accountOf(userId))).toBe(true);
      for (const id of ids) expect(await history(id), `events of ${id} after a failure at operation ${n}`).toEqual(["created"]);

      await apply(userId, paymentBatch());
      const received = [["payment_received"], ["payment_received", "payment_received"]];
      for (const [i, id] of ids.entries()) expect(await history(id), `events of ${id} after the retry`).toEqual(["created", ...received[i]!, "pending_mempool"]);
    }
  });
});

describe("UserAccount.alarm when D1 fails half-way", () => {
  /** The chain was scanned past the invoices' deadline: they are due to expire. */
  const scannedUpToNow = () =>
    E.DB.prepare(
      "INSERT INTO chain_state (coin, tip_height, cursor_height, scanned_through, last_error, updated_at) VALUES (?1, 120, 120, ?2, NULL, ?2) ON CONFLICT (coin) DO UPDATE SET scanned_through = ?2",
    )
      .bind(Coin.XMR, Date.now())
      .run();
  const expire = async (userId: string) => {
    await runInDurableObject(accountOf(userId), (_instance, state) => state.storage.setAlarm(Date.now() + 60_000));
    return runDurableObjectAlarm(accountOf(userId));
  };

  it("expires each due invoice exactly once on the retry, whichever operation failed", { timeout: 180_000 }, async () => {
    await scannedUpToNow();
    const operations = await operationsOf(() => merchantWithTwoInvoices({ pastDeadline: true }), (u) => expire(u));
    expect(operations).toBeGreaterThan(0);
    for (let n = 1; n <= operations; n++) {
      const { userId, ids, stream } = await merchantWithTwoInvoices({ pastDeadline: true });
      await scannedUpToNow();
      const faulty = await injectFaults(userId);
      faulty.failAt(n);
      await failureOf(expire(userId));
      for (const id of ids) expect(await history(id), `events of ${id} while operation ${n} failed`).not.toContain("expired");
      await expire(userId);
      for (const id of ids) {
        expect(await history(id), `events of ${id} after a failure at operation ${n}`).toEqual(["created", "expired"]);
        await stream.until(() => stream.statuses(id).length >= 2, 5_000, "EXPIRED");
      }
      await new Promise((r) => setTimeout(r, 50));
      for (const id of ids) expect(stream.statuses(id)).toEqual([S.Pending, S.Expired]);
    }
  });
});
