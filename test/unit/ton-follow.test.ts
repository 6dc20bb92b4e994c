// The TON follower against a toncenter-shaped server over the real TON VM emulator (@ton/sandbox):
// which transactions are payments to watched invoice wallets, block by masterchain block.
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FollowerStep, WatchedAddress } from "../../src/chains/follower";
import { WrongNetworkError } from "../../src/chains/network-check";
import { COMMIT_MARGIN_MS, tonFollower } from "../../src/chains/ton/follow";
import { createToncenter } from "../../src/chains/ton/toncenter";
import type { TonTx } from "../../src/chains/ton/tx";
import { deriveInvoiceWallet } from "../../src/chains/ton/wallet";
import { startTonSandbox, type TonSandbox } from "../e2e/support/ton-sandbox";

const TON = 1_000_000_000n;
const OPTS = { maxBlocks: 10, startBelow: 3 };
let ton: TonSandbox;

beforeAll(async () => {
  ton = await startTonSandbox();
}, 60_000);

afterAll(async () => {
  await ton?.stop();
}, 30_000);

const merchant = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
let nextIndex = 0;
/** A fresh invoice wallet of the merchant. */
const invoiceWallet = () => deriveInvoiceWallet(merchant, nextIndex++, "mainnet");

function follow(network: "mainnet" | "testnet" = "mainnet", apiKey?: string) {
  const client = createToncenter({ urls: [ton.url], apiKey, network, fetch: (i, o) => fetch(i, o) });
  const follower = tonFollower(client, network, OPTS);
  let cursor: unknown;
  return {
    client,
    async step(watched: readonly { friendly: string; matchKey: string }[]): Promise<FollowerStep> {
      const list: WatchedAddress[] = watched.map((w) => ({ address: w.friendly, matchKey: w.matchKey, since: 0 }));
      const result = await follower.follow(cursor, { now: Date.now(), watched: async () => list });
      cursor = structuredClone(result.cursor);
      return result;
    },
  };
}
const paid = (s: FollowerStep) => s.step.blocks.flatMap((b) => (b.txs as TonTx[]).map((t) => ({ height: b.height, ...t })));

describe("the TON follower", () => {
  it("delivers a non-bounceable payment to an undeployed invoice wallet in its masterchain block, once", async () => {
    const f = follow();
    const w = invoiceWallet();
    await f.step([w]);
    const sealed = await ton.pay({ to: w.friendly, amountNano: 2n * TON + TON / 2n, comment: "inv-1" });
    const s = await f.step([w]);
    expect(paid(s).map((p) => [p.height, p.outputs])).toEqual([[sealed.mcSeqno, [{ index: 0, to: w.matchKey, value: "2500000000" }]]]);
    expect(s.step.tipHeight).toBe(sealed.mcSeqno);
    expect(s.step.mempool).toEqual([]);
    expect(s.step.scannedThrough).toBeGreaterThan(0);
    await ton.mine(2);
    const after = await f.step([w]);
    expect(paid(after)).toEqual([]);
    expect(after.step.tipHeight).toBe(sealed.mcSeqno + 2);
  });

  it("does not count a bounceable payment the undeployed wallet bounced back", async () => {
    const f = follow();
    const w = invoiceWallet();
    await f.step([w]);
    await ton.pay({ to: w.address.toString({ bounceable: true }), amountNano: TON });
    expect(paid(await f.step([w]))).toEqual([]);
  });

  it("gives each invoice of one transfer its own payment, and leaves an unwatched wallet out", async () => {
    const f = follow();
    const [a, b, stranger] = [invoiceWallet(), invoiceWallet(), invoiceWallet()];
    await f.step([a, b]);
    await ton.pay({
      to: [
        { to: a.friendly, amountNano: TON },
        { to: b.friendly, amountNano: 2n * TON },
        { to: stranger.friendly, amountNano: 3n * TON },
      ],
    });
    const got = paid(await f.step([a, b]));
    expect(got.map((p) => p.outputs[0]!.to).sort()).toEqual([a.matchKey, b.matchKey].sort());
    expect(new Set(got.map((p) => p.hash)).size).toBe(2);
  });

  it("catches up block by block after downtime, never skipping one", async () => {
    const f = follow();
    const w = invoiceWallet();
    const level = await f.step([w]);
    const payments = [];
    for (let i = 0; i < 12; i++) payments.push(await ton.pay({ to: w.friendly, amountNano: BigInt(i + 1) * TON }));
    const first = await f.step([w]);
    expect(paid(first)).toHaveLength(10);
    // Not level with the tip: the scan time stays where it was, so no invoice expires on a partial read.
    expect(first.step.scannedThrough).toBe(level.step.scannedThrough);
    const second = await f.step([w]);
    expect(paid(second).map((p) => p.height)).toEqual(payments.slice(10).map((p) => p.mcSeqno));
    // Level again: scanned through the chain time the indexer reached (its last block's), not the wall clock.
    const tip = await f.client.tip();
    expect(second.step.scannedThrough).toBe(Math.max(level.step.scannedThrough, tip.genUtime * 1000 - COMMIT_MARGIN_MS));
  });

  it("takes nothing from an indexer that lags behind what was seen", async () => {
    const f = follow();
    const w = invoiceWallet();
    const before = await f.step([w]);
    ton.setLag(2);
    try {
      const s = await f.step([w]);
      expect(s.behind).toMatch(/below/);
      expect(s.step.scannedThrough).toBe(before.step.scannedThrough);
    } finally {
      ton.setLag(0);
    }
  });

  it("refuses an API on another network, and sends the API key", async () => {
    await expect(follow("testnet").step([invoiceWallet()])).rejects.toBeInstanceOf(WrongNetworkError);
    ton.requireApiKey("k-123");
    try {
      await expect(follow("mainnet").step([invoiceWallet()])).rejects.toThrow(/401/);
      const s = await follow("mainnet", "k-123").step([invoiceWallet()]);
      expect(s.behind).toBeNull();
    } finally {
      ton.requireApiKey(null);
    }
  });
});
