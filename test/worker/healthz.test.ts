// /healthz tells the truth per coin, and CreateInvoice refuses a coin whose node must not be followed.
// The watcher's ticks read in-memory nodes (test/support/model-chain.ts); the real watcher of this
// file (its node is a closed port) is held off by an alarm far in the future.
import { Code } from "@connectrpc/connect";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import type { ChainSource } from "../../src/chains/adapter";
import { Coin } from "../../src/domain/coins";
import type { Env } from "../../src/env";
import { ModelChain } from "../support/model-chain";
import { clients, failure, health, merchantUser, randomXmrKeys } from "./support";

const E = env as unknown as Env;
const c = clients("connect-json");
const HOLD_OFF_MS = 60 * 60_000;

const xmrWatcher = () => E.CHAIN_WATCHER.get(E.CHAIN_WATCHER.idFromName("XMR"));
/** While an alarm is set, CreateInvoice's wake-up is a no-op: only the test's ticks read a node. */
const holdOffRealTicks = () => runInDurableObject(xmrWatcher(), (_w, state) => state.storage.setAlarm(Date.now() + HOLD_OFF_MS));
/** The watcher as if it had never run: no cursor, no failures counted, nothing in chain_state. */
async function freshWatcher(): Promise<void> {
  await holdOffRealTicks();
  await runInDurableObject(xmrWatcher(), (_w, state) => state.storage.delete(["cursor", "failures"]));
  await E.DB.prepare("DELETE FROM chain_state").run();
}
const tickWith = (source: ChainSource) => runInDurableObject(xmrWatcher(), (w) => w.tick(Coin.XMR, source));
const storedCursor = () => runInDurableObject(xmrWatcher(), (_w, state) => state.storage.get("cursor"));
const invoice = (userId: string) => c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 });
/** An open invoice of a new user: while one exists the watcher follows the chain. */
const somethingWatched = async () => invoice(await merchantUser(c, randomXmrKeys()));
const scannedThrough = async () => (await E.DB.prepare("SELECT scanned_through FROM chain_state WHERE coin = ?").bind(Coin.XMR).first<{ scanned_through: number }>())?.scanned_through;
const xmrHealth = async () => (await health()).body.coins.XMR!;
/** A fresh watcher following an in-memory node, level with its tip (3), while an invoice is open. */
async function followingANode(): Promise<ModelChain> {
  await freshWatcher();
  await somethingWatched();
  const chain = new ModelChain();
  chain.mine(3);
  await tickWith(chain);
  return chain;
}

beforeAll(holdOffRealTicks);
afterEach(() => vi.restoreAllMocks());

describe("a node on another network", () => {
  it("is never followed: /healthz names both networks and CreateInvoice refuses until a good node answers", async () => {
    await freshWatcher();
    const userId = await merchantUser(c, randomXmrKeys());
    await invoice(userId); // something is watched, so the watcher follows the chain
    const stagenet = new ModelChain();
    stagenet.mine(3);
    stagenet.network = "stagenet";
    await expect(tickWith(stagenet)).rejects.toThrow(/stagenet/);

    const wrong = await health();
    expect(wrong.http).toBe(200);
    expect(wrong.body.status).toBe("degraded");
    expect(wrong.body.coins.XMR).toMatchObject({ ready: false, reason: "XMR node is on stagenet, expected mainnet", network: "stagenet", cursor: null });
    expect(await failure(invoice(userId))).toEqual({ code: Code.FailedPrecondition, message: "XMR node is on stagenet, expected mainnet" });
    expect(await storedCursor()).toBeUndefined();

    const mainnet = new ModelChain();
    mainnet.mine(3);
    await tickWith(mainnet);
    const good = await health();
    expect(good.body.status).toBe("ok");
    expect(good.body.coins.XMR).toMatchObject({ ready: true, reason: null, network: "mainnet", tip: 3, cursor: 3 });
    expect((await invoice(userId)).address).toMatch(/^8/);
  });
});

describe("a node that is behind", () => {
  it("is reported as behind: lag counts from the best tip seen, scanned_through stays, nothing is rewound", async () => {
    const chain = await followingANode(); // level at 3
    chain.mine(40);
    await tickWith(chain); // blocks 4..23 of 43
    const scanned = await scannedThrough();
    chain.shownUpTo = 30; // failover to a node still at 30
    await tickWith(chain);
    const behind = await health();
    expect(behind.http).toBe(200);
    expect(behind.body.status).toBe("degraded");
    expect(behind.body.coins.XMR).toMatchObject({ ready: false, reason: "the node's tip 30 is below 43, seen before", tip: 30, bestTip: 43, cursor: 23, lag: 20 });
    expect(await scannedThrough()).toBe(scanned);
    chain.shownUpTo = null;
    await tickWith(chain); // blocks 24..43: level again
    expect(await xmrHealth()).toMatchObject({ ready: true, reason: null, tip: 43, bestTip: 43, cursor: 43, lag: 0 });
  });
});

describe("/healthz per coin", () => {
  it("says not ready while the last tick failed, and ready after the next good one", async () => {
    const chain = await followingANode();
    chain.failing = new Error("http://node.example:18081/json_rpc: network error: connection reset");
    await expect(tickWith(chain)).rejects.toThrow("connection reset");
    expect(await xmrHealth()).toMatchObject({ ready: false, reason: expect.stringContaining("connection reset"), lastError: expect.stringContaining("connection reset") });
    chain.failing = null;
    await tickWith(chain);
    expect(await xmrHealth()).toMatchObject({ ready: true, lastError: null });
  });

  it("says not ready when invoices are watched and the chain was not scanned for three poll intervals", async () => {
    await followingANode();
    expect(await xmrHealth()).toMatchObject({ ready: true });
    // As if the watcher had stopped a day ago (this suite polls hourly).
    const dayAgo = new Date(Date.now() - 24 * 3600_000).toISOString();
    await E.DB.prepare("UPDATE chain_state SET scanned_through = ? WHERE coin = ?").bind(Date.parse(dayAgo), Coin.XMR).run();
    expect(await xmrHealth()).toMatchObject({ ready: false, scannedThrough: dayAgo, reason: `the chain was last scanned through ${dayAgo}, more than 3 poll intervals ago` });
  });

  it("counts the accounts a scan shard still owes batches, and since when, without making the coin not ready", async () => {
    await followingANode();
    expect(await xmrHealth()).toMatchObject({ ready: true, heldAccounts: 0, heldSince: null });
    const earliest = Date.now() - 90_000;
    const hold = E.DB.prepare("INSERT INTO scan_holds (coin, user_id, shard, held_before, updated_at) VALUES (?, ?, ?, ?, ?)");
    const [a, b] = [await merchantUser(c, randomXmrKeys()), await merchantUser(c, randomXmrKeys())];
    await E.DB.batch([
      hold.bind(Coin.XMR, a, "shard-x:0/2", earliest, Date.now()),
      hold.bind(Coin.XMR, a, "shard-x:1/2", earliest + 5_000, Date.now()),
      hold.bind(Coin.XMR, b, "shard-x:1/2", earliest + 30_000, Date.now()),
      hold.bind(Coin.LTC, b, "shard-l:0/1", earliest - 60_000, Date.now()),
    ]);
    try {
      expect(await xmrHealth()).toMatchObject({ ready: true, heldAccounts: 2, heldSince: new Date(earliest).toISOString() });
    } finally {
      await E.DB.prepare("DELETE FROM scan_holds WHERE shard LIKE 'shard-%'").run();
    }
    expect(await xmrHealth()).toMatchObject({ heldAccounts: 0, heldSince: null });
  });

  it("shows a tick that is waiting on the node, and says not ready once it has waited too long", async () => {
    const chain = await followingANode();
    const release = chain.hold(); // the node stops answering
    const started = Date.now();
    const ticking = tickWith(chain);
    let xmr = await xmrHealth();
    try {
      while (xmr.ready && Date.now() - started < 10_000) {
        await new Promise((r) => setTimeout(r, 250));
        xmr = await xmrHealth();
      }
    } finally {
      release();
      await ticking;
    }
    expect(xmr).toMatchObject({ ready: false, reason: `waiting on the node since ${xmr.waitingSince}` });
    expect(Date.parse(xmr.waitingSince as string)).toBeGreaterThanOrEqual(started - 1_000);
    expect(await xmrHealth()).toMatchObject({ ready: true, waitingSince: null });
  });
});

describe("the watcher's log", () => {
  it("has one line per failed tick: coin, node, error and next try, with no stack trace", async () => {
    await freshWatcher();
    await somethingWatched();
    const logged = (["log", "info", "warn", "error"] as const).map((m) => vi.spyOn(console, m).mockImplementation(() => undefined));
    // The alarm's tick reads this suite's real node, a closed port.
    await runInDurableObject(xmrWatcher(), (_w, state) => state.storage.put("coin", Coin.XMR));
    expect(await runDurableObjectAlarm(xmrWatcher())).toBe(true);
    const lines = logged.flatMap((spy) => spy.mock.calls);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toHaveLength(1); // a string, not an Error to print with its stack
    const line = lines[0]![0] as string;
    expect(line).not.toContain("\n");
    expect(line).toMatch(/^XMR watcher at http:\/\/127\.0\.0\.1:9: .*connection.*; next try at \d{4}-\d\d-\d\dT[\d:.]+Z \(1 failure in a row\)$/i);
  });
});
