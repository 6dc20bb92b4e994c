// Group commit of CreateInvoice in one merchant's account: creates that queue while a batch is being
// written share the next D1 batch. Indices stay contiguous per key set and are never handed out
// twice, a failed batch fails every create in it, and a create refused on its own checks fails alone.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { HDKey } from "@scure/bip32";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { chainAdapter } from "../../src/chains/registry";
import { database } from "../../src/db/client";
import { Coin } from "../../src/domain/coins";
import { Failures } from "../../src/domain/errors";
import type { UserId } from "../../src/domain/ids";
import type { Env } from "../../src/env";
import { createsPerBatch, type NewInvoice, type UserAccount } from "../../src/durable/user-account";
import { recordStream } from "../support/stream-recorder";
import { faultyD1, type FaultyD1 } from "./faults";
import { clients, merchantUser, randomXmrKeys } from "./support";
import { endpoint } from "./webhooks";

const E = env as unknown as Env;
const c = clients("connect-binary");
const accountOf = (userId: string) => E.USER_ACCOUNT.get(E.USER_ACCOUNT.idFromName(userId));
const xmrInvoice = { coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 };
const SQL_TRANSACTION = Failures.sqlTransaction.message;

/** Hands the account a D1 that counts its batches and fails on command. */
async function injectFaults(userId: string): Promise<FaultyD1> {
  const faulty = faultyD1(E.DB);
  await runInDurableObject(accountOf(userId), (instance) => {
    (instance as unknown as { db: unknown }).db = database(faulty.db);
  });
  return faulty;
}

/**
 * Calls the account's createInvoice for every request in the same turn, so they all wait for one
 * group (as concurrent RPCs do while the account is writing), and collects each answer or error.
 */
async function createAtOnce(userId: string, requests: NewInvoice[]) {
  return runInDurableObject(accountOf(userId), async (instance) => {
    const account = instance as unknown as UserAccount;
    const settled = await Promise.allSettled(requests.map((r) => account.createInvoice(userId as UserId, r)));
    return settled.map((s) => (s.status === "fulfilled" ? s.value : { thrown: (s.reason as Error).message }));
  });
}

const request = (coin: Coin): NewInvoice => ({
  coin,
  required: "1000",
  timeoutSeconds: 600,
  confirmations: 1,
  details: { description: null, orderId: null, redirectUrl: null, metadata: {} },
});

async function invoiceRows(userId: string) {
  const { results } = await E.DB.prepare("SELECT id, coin, key_set_id, address_index, address FROM invoices WHERE user_id = ? ORDER BY key_set_id, address_index")
    .bind(userId)
    .all<{ id: string; coin: string; key_set_id: number; address_index: number; address: string }>();
  return results;
}

async function nextIndex(userId: string, coin: Coin): Promise<number> {
  const row = await E.DB.prepare("SELECT next_index FROM key_sets WHERE user_id = ? AND coin = ? AND active = 1").bind(userId, coin).first<{ next_index: number }>();
  return row!.next_index;
}

const range = (first: number, count: number) => Array.from({ length: count }, (_, i) => first + i);

describe("CreateInvoice group commit", () => {
  it("gives 40 concurrent creates of one merchant 40 contiguous, distinct subaddress indices", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const first = await nextIndex(userId, Coin.XMR);
    const created = await Promise.all(range(0, 40).map(() => c.invoices.createInvoice({ ...xmrInvoice, userId })));
    expect(new Set(created.map((x) => x.address)).size).toBe(40);
    const rows = await invoiceRows(userId);
    expect(rows.map((r) => r.address_index)).toEqual(range(first, 40));
    // Each caller got its own invoice: the address it was answered with is the one stored for its id.
    const stored = new Map(rows.map((r) => [r.id, r.address]));
    for (const x of created) expect(stored.get(x.paymentId)).toBe(x.address);
    expect(await nextIndex(userId, Coin.XMR)).toBe(first + 40);
  });

  it("writes a burst of concurrent creates in fewer D1 batches than creates", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const faulty = await injectFaults(userId);
    await Promise.all(range(0, 40).map(() => c.invoices.createInvoice({ ...xmrInvoice, userId })));
    expect(faulty.batches).toBeGreaterThan(0);
    expect(faulty.batches).toBeLessThanOrEqual(20);
  });

  it("keeps each group's D1 batch within the free plan's 50 queries an invocation", async () => {
    // SUBREQUEST_BUDGET is unset here, so the free plan's 50: groups of at most 11 creates.
    const userId = await merchantUser(c, randomXmrKeys());
    const faulty = await injectFaults(userId);
    const answers = await createAtOnce(userId, range(0, 30).map(() => request(Coin.XMR)));
    expect(answers.every((a) => "ok" in a && a.ok)).toBe(true);
    expect(faulty.batchSizes.length).toBe(3);
    for (const size of faulty.batchSizes) expect(size).toBeLessThanOrEqual(50);
    expect(await invoiceRows(userId)).toHaveLength(30);
    // The paid plan's budget takes the most a group is allowed.
    expect([createsPerBatch(50), createsPerBatch(1000), createsPerBatch(10_000)]).toEqual([11, 50, 50]);
  });

  it("logs, streams and delivers each create's own event, in index order", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const hook = await endpoint(userId);
    const stream = recordStream(c.invoices, { userId });
    await stream.until(() => stream.header() !== null, 5_000, "the stream to open");
    try {
      const faulty = await injectFaults(userId);
      const answers = await createAtOnce(userId, range(0, 10).map(() => request(Coin.XMR)));
      expect(faulty.batches).toBe(1);
      const ids = answers.map((a) => ("ok" in a && a.ok ? a.value.id : null));
      expect(ids).not.toContain(null);
      const { results: logged } = await E.DB.prepare(
        `SELECT e.id AS event_id, e.invoice_id, i.address_index, d.webhook_id, d.event_id AS delivery_event_id
         FROM events e JOIN invoices i ON i.id = e.invoice_id LEFT JOIN webhook_deliveries d ON d.event_id = e.id
         WHERE e.user_id = ? ORDER BY e.id`,
      )
        .bind(userId)
        .all<{ event_id: number; invoice_id: string; address_index: number; webhook_id: string | null; delivery_event_id: number | null }>();
      // One created event per invoice, in arrival (= index) order, each with exactly its own delivery.
      expect(logged.map((l) => l.invoice_id)).toEqual(ids);
      expect(logged.map((l) => l.address_index)).toEqual([...logged.map((l) => l.address_index)].sort((a, b) => a - b));
      for (const l of logged) expect({ webhook: l.webhook_id, event: l.delivery_event_id }).toEqual({ webhook: hook.id, event: l.event_id });
      const streamed = await stream.take(10);
      expect(streamed.map((m) => m.invoice!.id)).toEqual(ids);
      expect(streamed.map((m) => Number(m.eventId))).toEqual(logged.map((l) => l.event_id));
    } finally {
      await stream.close();
    }
  });

  it("fails every create of a group whose D1 batch fails, and reuses no index afterwards", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    await c.invoices.createInvoice({ ...xmrInvoice, userId }); // the account now knows the user and holds its ledger
    const before = await invoiceRows(userId);
    const faulty = await injectFaults(userId);
    faulty.failAt(1); // the group's batch
    const answers = await createAtOnce(userId, range(0, 10).map(() => request(Coin.XMR)));
    expect(answers).toEqual(range(0, 10).map(() => ({ thrown: SQL_TRANSACTION })));
    expect(faulty.batches).toBe(1);
    expect(await invoiceRows(userId)).toEqual(before);
    const { n: events } = (await E.DB.prepare("SELECT count(*) AS n FROM events WHERE user_id = ?").bind(userId).first<{ n: number }>())!;
    expect(events).toBe(1);

    // Nothing was handed out, so the indices are free again; later creates still get each one once.
    const later = await Promise.all(range(0, 10).map(() => c.invoices.createInvoice({ ...xmrInvoice, userId })));
    const rows = await invoiceRows(userId);
    expect(rows.map((r) => r.address_index)).toEqual(range(before[0]!.address_index, 11));
    expect(new Set(rows.map((r) => r.address)).size).toBe(11);
    expect(new Set(later.map((x) => x.paymentId)).size).toBe(10);
    expect(await nextIndex(userId, Coin.XMR)).toBe(before[0]!.address_index + 11);
  });

  it("hands out no index twice when a group's batch committed but its answer was lost", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    await c.invoices.createInvoice({ ...xmrInvoice, userId });
    const faulty = await injectFaults(userId);
    faulty.loseAnswerAt(1);
    const lost = await createAtOnce(userId, range(0, 5).map(() => request(Coin.XMR)));
    expect(lost).toEqual(range(0, 5).map(() => ({ thrown: SQL_TRANSACTION })));
    const committed = await invoiceRows(userId);
    expect(committed).toHaveLength(6);

    // The account re-reads the counter from D1: the next creates start past the committed group.
    const later = await Promise.all(range(0, 5).map(() => c.invoices.createInvoice({ ...xmrInvoice, userId })));
    const rows = await invoiceRows(userId);
    expect(rows.map((r) => r.address_index)).toEqual(range(committed[0]!.address_index, 11));
    const fresh = new Set(later.map((x) => x.address));
    for (const r of committed) expect(fresh.has(r.address)).toBe(false);
  });

  it("answers a create that fails its own check without failing the rest of its group", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const first = await nextIndex(userId, Coin.XMR);
    const faulty = await injectFaults(userId);
    // LTC is served by this account (a node it never reaches) but the merchant has no LTC keys; BTC is not enabled here.
    await runInDurableObject(accountOf(userId), (instance) => {
      (instance as unknown as { adapters: Map<Coin, unknown> }).adapters.set(Coin.LTC, chainAdapter({ ...E, LTC_DAEMON_URL: "http://127.0.0.1:9" } as Env, Coin.LTC));
    });
    const answers = await createAtOnce(userId, [Coin.XMR, Coin.BTC, Coin.XMR, Coin.LTC, Coin.XMR].map(request));
    expect(answers.map((a) => ("ok" in a && !a.ok ? a.failure : "ok" in a ? "created" : a))).toEqual([
      "created",
      Failures.coinNotEnabled(Coin.BTC),
      "created",
      Failures.noKeys(Coin.LTC),
      "created",
    ]);
    expect(faulty.batches).toBe(1);
    const rows = await invoiceRows(userId);
    expect(rows.map((r) => r.address_index)).toEqual(range(first, 3));
    expect(await nextIndex(userId, Coin.XMR)).toBe(first + 3);
  });

  it("numbers a token's invoices from its chain's key set, in arrival order, beside the chain's own", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const ethKey = HDKey.fromMasterSeed(crypto.getRandomValues(new Uint8Array(32))).derive("m/44'/60'/0'").publicExtendedKey;
    await c.users.updateCryptoKeys({ userId, ethReq: { masterPubKey: ethKey } });
    const [firstEth, firstXmr] = [await nextIndex(userId, Coin.ETH), await nextIndex(userId, Coin.XMR)];
    const withEth = { ...E, ETH_DAEMON_URL: "http://127.0.0.1:9" } as Env;
    await runInDurableObject(accountOf(userId), (instance) => {
      const adapters = (instance as unknown as { adapters: Map<Coin, unknown> }).adapters;
      for (const coin of [Coin.ETH, Coin.USDT_ERC20]) adapters.set(coin, chainAdapter(withEth, coin));
    });
    const order = [Coin.ETH, Coin.USDT_ERC20, Coin.XMR, Coin.ETH, Coin.XMR, Coin.USDT_ERC20];
    const answers = await createAtOnce(userId, order.map(request));
    const ids = answers.map((a) => ("ok" in a && a.ok ? a.value.id : null));
    const byId = new Map((await invoiceRows(userId)).map((r) => [r.id, r]));
    expect(ids.map((id) => [byId.get(id!)?.coin, byId.get(id!)?.address_index])).toEqual([
      [Coin.ETH, firstEth],
      [Coin.USDT_ERC20, firstEth + 1],
      [Coin.XMR, firstXmr],
      [Coin.ETH, firstEth + 2],
      [Coin.XMR, firstXmr + 1],
      [Coin.USDT_ERC20, firstEth + 3],
    ]);
    expect([await nextIndex(userId, Coin.ETH), await nextIndex(userId, Coin.XMR)]).toEqual([firstEth + 4, firstXmr + 2]);
  });
});
