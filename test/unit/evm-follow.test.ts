// The EVM follower against a real anvil (mining off): what one step delivers for the watched addresses,
// and what it reports gone or orphaned as the pool and the chain change under it.
import { randomBytes } from "node:crypto";
import { encodeFunctionData, getAddress, type Abi, type Address, type Hash } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChainFollower, FollowerStep } from "../../src/chains/follower";
import { evmFollower, type EvmCursor } from "../../src/chains/evm/follow";
import { evmNetwork } from "../../src/chains/evm/networks";
import { createEvmNodes } from "../../src/chains/evm/node";
import { nativePayments, tokenPayments } from "../../src/chains/evm/payments";
import { Coin } from "../../src/domain/coins";
import { WrongNetworkError } from "../../src/chains/network-check";
import { recipientIndex, type EvmTx } from "../../src/chains/evm/tx";
import { startAnvil, type Anvil } from "../e2e/support/anvil";
import batchPayout from "../e2e/support/contracts/BatchPayout.json";

const ETH = 10n ** 18n;
const FOLLOW = { maxBlocks: 20, depth: 20 };
let anvil: Anvil;
let token: Address;
let payout: Address;

beforeAll(async () => {
  anvil = await startAnvil();
  payout = await anvil.deployBatchPayout();
  token = await anvil.deployToken();
}, 60_000);

afterAll(async () => {
  await anvil?.stop();
}, 30_000);

const fresh = (): Address => getAddress(`0x${randomBytes(20).toString("hex")}`);
const key = (a: Address) => a.slice(2).toLowerCase();

/** A follower of the native coin (or the test token) over anvil, and a step function that keeps its cursor. */
function follow(kind: "native" | "token" = "native", network = evmNetwork("ETH", "31337")!, finality = false) {
  const nodes = createEvmNodes({ urls: [anvil.url], network, fetch: (i, o) => fetch(i, o) });
  const reader = kind === "native" ? nativePayments() : tokenPayments({ coin: Coin.USDT_ERC20, decimals: 6, contract: key(token) });
  const follower: ChainFollower = evmFollower(nodes, reader, { ...FOLLOW, finality });
  let cursor: unknown;
  return {
    follower,
    cursor: () => cursor as EvmCursor,
    async step(watched: readonly Address[]): Promise<FollowerStep> {
      const result = await follower.follow(cursor, { now: Date.now(), watched: async () => watched.map((a) => ({ address: a, matchKey: key(a), since: 0 })) });
      cursor = structuredClone(result.cursor);
      return result;
    },
  };
}

const outputsOf = (txs: readonly EvmTx[], hash: string) => txs.find((t) => t.hash === hash)?.outputs ?? [];
const mined = (s: FollowerStep) => s.step.blocks.flatMap((b) => b.txs as EvmTx[]);
const pooled = (s: FollowerStep) => s.step.mempool as EvmTx[];

describe("the EVM follower, native coin", () => {
  it("delivers a pool payment to a watched address first, then the same output in its block", async () => {
    const f = follow();
    const to = fresh();
    await f.step([to]);
    const hash = await anvil.send(1, to, 3n * ETH);
    const seen = await f.step([to]);
    expect(outputsOf(pooled(seen), hash)).toEqual([{ index: 0, to: key(to), value: (3n * ETH).toString() }]);
    expect(seen.step.scannedThrough).toBeGreaterThan(0);
    const again = await f.step([to]);
    expect(pooled(again)).toEqual([]);
    const head = Number(await anvil.mine(1));
    const inBlock = await f.step([to]);
    expect(inBlock.step.blocks.map((b) => b.height)).toEqual([head]);
    expect(outputsOf(mined(inBlock), hash)).toEqual([{ index: 0, to: key(to), value: (3n * ETH).toString() }]);
    expect(inBlock.step.gone).toEqual([]);
  });

  it("finds payments to an address only once it is watched, whenever it was paid within the read blocks", async () => {
    const f = follow();
    const to = fresh();
    const hash = await anvil.send(2, to, ETH);
    await anvil.mine(1);
    const first = await f.step([to]);
    expect(outputsOf(mined(first), hash)).toHaveLength(1);
    const other = fresh();
    const g = follow();
    expect(mined(await g.step([other]))).toEqual([]);
  });

  it("counts internal transfers from a contract, and nothing of a tx that reverted", async () => {
    const f = follow();
    const [a, b, c] = [fresh(), fresh(), fresh()];
    await f.step([a, b, c]);
    const many = await anvil.payMany(3, [
      { to: a, wei: ETH },
      { to: b, wei: 2n * ETH },
    ]);
    const forwarded = await anvil.forward(4, c, 5n * ETH);
    // One wei more than the payments: the calls to `c` run, then the tx reverts ("value mismatch").
    const data = encodeFunctionData({ abi: batchPayout.abi as Abi, functionName: "payMany", args: [[c], [ETH]] });
    const reverted = (await anvil.rpc("eth_sendTransaction", [{ from: anvil.accounts[9]!.address, to: payout, data, value: `0x${(ETH + 1n).toString(16)}`, gas: "0x100000" }])) as Hash;
    await anvil.mine(1);
    expect((await anvil.client.getTransactionReceipt({ hash: reverted })).status).toBe("reverted");
    const s = await f.step([a, b, c]);
    const outs = outputsOf(mined(s), many);
    expect(outs.map((o) => [o.to, o.value])).toEqual([
      [key(a), ETH.toString()],
      [key(b), (2n * ETH).toString()],
    ]);
    expect(new Set(outs.map((o) => o.index)).size).toBe(2);
    expect(outputsOf(mined(s), forwarded).map((o) => o.value)).toEqual([(5n * ETH).toString()]);
    expect(outputsOf(mined(s), reverted)).toEqual([]);
    const features = (await f.follower.tip()).features;
    expect(features).toMatchObject({ internalTransfers: "trace_block", pool: "txpool_content" });
  });

  it("reports a replaced pool tx gone and delivers its replacement", async () => {
    const f = follow();
    const to = fresh();
    await f.step([to]);
    const from = anvil.accounts[5]!.address;
    const nonce = await anvil.client.getTransactionCount({ address: from, blockTag: "pending" });
    const first = (await anvil.rpc("eth_sendTransaction", [{ from, to, value: `0x${ETH.toString(16)}`, nonce: `0x${nonce.toString(16)}`, maxFeePerGas: "0x77359400", maxPriorityFeePerGas: "0x3b9aca00" }])) as Hash;
    expect(outputsOf(pooled(await f.step([to])), first)).toHaveLength(1);
    const other = fresh();
    const second = (await anvil.rpc("eth_sendTransaction", [{ from, to: other, value: `0x${ETH.toString(16)}`, nonce: `0x${nonce.toString(16)}`, maxFeePerGas: "0xee6b2800", maxPriorityFeePerGas: "0x77359400" }])) as Hash;
    expect(second).not.toBe(first);
    const s = await f.step([to]);
    expect(s.step.gone).toEqual([first]);
    expect(f.cursor().tracked[first]).toBeUndefined();
    await anvil.mine(1);
  });

  it("orphans a payment whose block a reorg replaced, and reports it gone when the new chain dropped it", async () => {
    await anvil.mine(1);
    const f = follow();
    const to = fresh();
    const hash = await anvil.send(6, to, ETH);
    const height = Number(await anvil.mine(1));
    expect(outputsOf(mined(await f.step([to])), hash)).toHaveLength(1);
    await anvil.reorg(1);
    const s = await f.step([to]);
    expect(s.step.orphanedAbove).toBe(height - 1);
    expect(mined(s)).toEqual([]);
    expect(s.step.gone).toEqual([hash]);
    expect(s.tipMoved).toBe(true);
  });

  it("orphans and re-delivers, once, a payment that a reorg put in another block", async () => {
    await anvil.mine(1);
    const f = follow();
    const to = fresh();
    const hash = await anvil.send(7, to, 4n * ETH);
    const height = Number(await anvil.mine(1));
    await anvil.mine(1);
    expect(outputsOf(mined(await f.step([to])), hash)).toHaveLength(1);
    await anvil.reorg(2, [{ hash, blockOffset: 1 }]);
    const s = await f.step([to]);
    expect(s.step.orphanedAbove).toBe(height - 1);
    expect(s.step.blocks.map((b) => [b.height, (b.txs as EvmTx[]).map((t) => t.hash)])).toEqual([[height + 1, [hash]]]);
    expect(outputsOf(mined(s), hash)).toEqual([{ index: 0, to: key(to), value: (4n * ETH).toString() }]);
    expect(s.step.gone).toEqual([]);
    const after = await f.step([to]);
    expect(mined(after)).toEqual([]);
    expect(after.step.orphanedAbove).toBeNull();
  });

  it("reports the node's finalized block when payments count by finality, and nothing of it otherwise", async () => {
    await anvil.mine(70);
    const head = Number(await anvil.client.getBlockNumber());
    const final = await follow("native", evmNetwork("ETH", "31337")!, true).step([fresh()]);
    // anvil: finalized = head - 64.
    expect(final.step.finalizedHeight).toBe(head - 64);
    expect(final.node.features).toMatchObject({ finality: "finalized" });
    const counting = await follow().step([fresh()]);
    expect(counting.step.finalizedHeight).toBeUndefined();
  });

  it("refuses a node on another chain id than configured", async () => {
    const f = follow("native", evmNetwork("ETH", "mainnet")!);
    await expect(f.step([fresh()])).rejects.toBeInstanceOf(WrongNetworkError);
  });
});

describe("the EVM follower, a token", () => {
  it("delivers a pool transfer call, then its Transfer log under the same output index", async () => {
    const f = follow("token");
    const to = fresh();
    await f.step([to]);
    const hash = await anvil.transferToken(0, to, 2_500_000n);
    const seen = await f.step([to]);
    expect(outputsOf(pooled(seen), hash)).toEqual([{ index: recipientIndex(key(to)), to: key(to), value: "2500000" }]);
    await anvil.mine(1);
    const s = await f.step([to]);
    expect(outputsOf(mined(s), hash)).toEqual([{ index: recipientIndex(key(to)), to: key(to), value: "2500000" }]);
    expect(s.step.gone).toEqual([]);
  });

  it("gives each recipient of one tx its own output", async () => {
    const f = follow("token");
    const [a, b] = [fresh(), fresh()];
    const hash = await anvil.transferTokenTwice(0, a, 1_000_000n, b, 2_000_000n);
    await anvil.mine(1);
    const outs = outputsOf(mined(await f.step([a, b])), hash);
    expect(outs.map((o) => [o.to, o.value]).sort()).toEqual(
      [
        [key(a), "1000000"],
        [key(b), "2000000"],
      ].sort(),
    );
    expect(new Set(outs.map((o) => o.index)).size).toBe(2);
  });

  it("reports gone a pool transfer that was mined but reverted", async () => {
    const f = follow("token");
    const to = fresh();
    await f.step([to]);
    // Account 8 holds no tokens: its transfer reverts when mined.
    const data = `0xa9059cbb${key(to).padStart(64, "0")}${(1000n).toString(16).padStart(64, "0")}`;
    const hash = (await anvil.rpc("eth_sendTransaction", [{ from: anvil.accounts[8]!.address, to: token, data, gas: "0x30000" }])) as Hash;
    expect(outputsOf(pooled(await f.step([to])), hash)).toHaveLength(1);
    await anvil.mine(1);
    const s = await f.step([to]);
    expect(mined(s)).toEqual([]);
    expect(s.step.gone).toEqual([hash]);
  });

  it("refuses a token whose contract has other decimals than the table", async () => {
    const nodes = createEvmNodes({ urls: [anvil.url], network: evmNetwork("ETH", "31337")!, fetch: (i, o) => fetch(i, o) });
    const f = evmFollower(nodes, tokenPayments({ coin: Coin.DAI_ERC20, decimals: 18, contract: key(token) }), FOLLOW);
    const refusal = f.tip();
    await expect(refusal).rejects.toBeInstanceOf(WrongNetworkError);
    await expect(refusal).rejects.toThrow(`is on 31337 (the contract at 0x${key(token)} has 6 decimals), expected a token contract at 0x${key(token)} with 18 decimals`);
  });
});
