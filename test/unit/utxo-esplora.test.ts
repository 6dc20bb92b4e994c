// The Esplora backend: the client's parsing of recorded real public responses, and the per-address follower
// against the Esplora-shaped test server over a real litecoind regtest node (real chain, pool, RBF and reorgs).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FollowerStep, WatchedAddress } from "../../src/chains/follower";
import { WrongNetworkError } from "../../src/chains/network-check";
import { createEsploraClient, EsploraError, readTx, type EsploraClient } from "../../src/chains/utxo/esplora";
import { esploraFollower, type EsploraCursor } from "../../src/chains/utxo/esplora-follow";
import { utxoNetwork } from "../../src/chains/utxo/networks";
import type { UtxoTx } from "../../src/chains/utxo/tx";
import { startEsploraServer, type EsploraServer } from "../e2e/support/esplora-regtest";
import { freshAddress } from "../e2e/support/litecoin-addresses";
import { startLitecoinRegtest, type LitecoinRegtest } from "../e2e/support/litecoin-regtest";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/esplora/${name}`, import.meta.url), "utf8");
const regtest = utxoNetwork("LTC", "regtest");

describe("Esplora client parsing recorded public responses", () => {
  it("reads mempool.space's address txs: txids, outputs in exact sats with their scripts, block status", () => {
    const txs = (JSON.parse(fixture("address-txs-bc1qkd9h-mainnet.json")) as unknown[]).map((t, i) => readTx(t, `txs[${i}]`));
    expect(txs).toHaveLength(2);
    for (const tx of txs) {
      expect(tx.status).toMatchObject({ confirmed: true, height: 767637 });
      expect(tx.coinbase).toBe(false);
      expect(tx.spends.length).toBeGreaterThan(0);
      expect(tx.outputs.every((o) => /^[0-9a-f]+$/.test(o.script) && o.satoshis > 0n)).toBe(true);
    }
    const raw = JSON.parse(fixture("address-txs-bc1qkd9h-mainnet.json")) as { vout: { value: number; scriptpubkey: string }[] }[];
    expect(txs[0]!.outputs.map((o) => [o.script, o.satoshis])).toEqual(raw[0]!.vout.map((o) => [o.scriptpubkey, BigInt(o.value)]));
  });

  it("reads an unconfirmed tx as in the pool, and ignores fields it does not need (sigops)", () => {
    const tx = readTx(JSON.parse(fixture("tx-b6a53d8a-mainnet-unconfirmed-rbf.json")), "tx");
    expect(tx.status).toEqual({ confirmed: false });
    expect(tx.txid).toMatch(/^b6a53d8a/);
  });

  it("refuses a tx whose amount is not a whole number of satoshis", () => {
    const tx = (JSON.parse(fixture("address-txs-bc1qkd9h-mainnet.json")) as { vout: { value: number }[] }[])[0]!;
    tx.vout[0]!.value = 0.5;
    expect(() => readTx(tx, "tx")).toThrow(/not a whole number/);
  });
});

let chain: LitecoinRegtest;
let esplora: EsploraServer;

beforeAll(async () => {
  chain = await startLitecoinRegtest();
  esplora = await startEsploraServer(chain);
}, 60_000);

afterAll(async () => {
  await esplora?.close();
  await chain?.stop();
}, 30_000);

const client = (urls = [esplora.url]) => createEsploraClient({ urls, network: regtest, retries: 0, timeoutMs: 5_000 });

describe("Esplora client against the test server", () => {
  it("checks the network by block 0 before using a URL: a server of another chain is never followed", async () => {
    const mainnet = createEsploraClient({ urls: [esplora.url], network: utxoNetwork("LTC", "mainnet"), retries: 0 });
    await expect(mainnet.tipHeight()).rejects.toBeInstanceOf(WrongNetworkError);
    expect(await client().tipHeight()).toBe(Number(await chain.rpc("getblockcount")));
  });

  it("fails over to the next URL when one is down or answers 503, and says so when all fail", async () => {
    const c = client(["http://127.0.0.1:9", esplora.url]);
    expect(await c.tipHeight()).toBeGreaterThan(100);
    // Alone and answering 503 (to the network check, its first request), it fails the call; the next one works.
    esplora.failNext(1);
    const alone = client();
    await expect(alone.tipHeight()).rejects.toBeInstanceOf(EsploraError);
    expect(await alone.tipHeight()).toBeGreaterThan(100);
  });

  it("answers null for a tx the explorer does not know", async () => {
    expect(await client().tx("ab".repeat(32))).toBeNull();
  });
});

/** One watched invoice address, created `ageMs` ago. */
function watch(ageMs = 0): WatchedAddress {
  const { address, script } = freshAddress("p2wpkh");
  return { address, matchKey: script, since: Date.now() - ageMs };
}

/** A follower with its own cursor, stepping as the watcher does. */
function follower(watched: WatchedAddress[], budget = 30, c: EsploraClient = client()) {
  const f = esploraFollower(c, regtest, { budget, depth: 20 });
  let cursor: EsploraCursor | undefined;
  return {
    client: c,
    async step(): Promise<FollowerStep> {
      const result = await f.follow(cursor, { now: Date.now(), watched: async () => watched });
      cursor = result.cursor as EsploraCursor;
      return result;
    },
    cursor: () => cursor!,
  };
}

const hashes = (txs: readonly { hash: string }[]) => txs.map((t) => t.hash);
const minedTxs = (step: FollowerStep) => step.step.blocks.flatMap((b) => b.txs.map((t) => (t as UtxoTx).hash));

describe("Esplora follower", () => {
  it("delivers a pool payment once, as replaceable, then once in its block; later blocks only move the tip", async () => {
    const a = watch();
    const f = follower([a]);
    expect((await f.step()).step.mempool).toEqual([]);
    const txid = await chain.send(a.address, 12_345_678n);
    const seen = await f.step();
    expect(hashes(seen.step.mempool)).toEqual([txid]);
    expect(seen.step.mempool[0]).toMatchObject({ replaceable: true, outputs: [{ script: a.matchKey, value: "12345678" }] });
    expect((await f.step()).step.mempool).toEqual([]);
    const [block] = await chain.mine(1);
    const mined = await f.step();
    expect(mined.tipMoved).toBe(true);
    expect(mined.step.blocks).toHaveLength(1);
    expect(mined.step.blocks[0]).toMatchObject({ hash: block, height: mined.step.tipHeight });
    expect(minedTxs(mined)).toEqual([txid]);
    await chain.mine(1);
    const later = await f.step();
    expect(later).toMatchObject({ tipMoved: true, step: { blocks: [], mempool: [], gone: [], orphanedAbove: null } });
  });

  it("moves the scan time only once every watched address was listed since, least recently listed first", async () => {
    const addresses = [watch(), watch(), watch(), watch(), watch()];
    // The tip (2 requests, and the network check before the first) leaves room for two or three listings per step.
    const f = follower(addresses, 5);
    const first = await f.step();
    expect(first.step.scannedThrough).toBe(0);
    const listed = () => Object.keys(f.cursor().listedAt).length;
    const afterFirst = listed();
    expect(afterFirst).toBeGreaterThan(0);
    expect(afterFirst).toBeLessThan(5);
    let steps = 1;
    while (listed() < 5) {
      const before = Date.now();
      const step = await f.step();
      steps += 1;
      if (listed() < 5) expect(step.step.scannedThrough).toBe(0);
      else expect(step.step.scannedThrough).toBeLessThanOrEqual(before);
      expect(steps).toBeLessThan(6);
    }
    expect(f.cursor().scannedThrough).toBeGreaterThan(0);
    // The next listings go to the least recently listed addresses, not the same ones again.
    const oldest = Math.min(...Object.values(f.cursor().listedAt));
    const stale = Object.entries(f.cursor().listedAt).filter(([, t]) => t === oldest).map(([addr]) => addr);
    await f.step();
    for (const addr of stale) expect(f.cursor().listedAt[addr]).toBeGreaterThan(oldest);
  });

  it("says a replaced pool payment is gone, and delivers the replacement only if it pays a watched address", async () => {
    const a = watch();
    const f = follower([a]);
    const txid = await chain.send(a.address, 20_000_000n, { replaceable: true });
    expect(hashes((await f.step()).step.mempool)).toEqual([txid]);
    const replacement = await chain.bumpFee(txid);
    const step = await f.step();
    expect(step.step.gone).toEqual([txid]);
    // bumpfee keeps the payment output: the replacement pays the invoice too.
    expect(hashes(step.step.mempool)).toEqual([replacement]);
    await chain.mine(1);
  });

  it("takes a payment back to the pool when its block is orphaned, and delivers it again in the block that re-mines it", async () => {
    const a = watch();
    const b = watch();
    const f = follower([a, b]);
    const paid = await chain.send(a.address, 30_000_000n);
    const other = await chain.send(b.address, 31_000_000n);
    await f.step();
    const [block] = await chain.mine(1);
    const mined = await f.step();
    expect(minedTxs(mined).sort()).toEqual([paid, other].sort());
    const height = mined.step.tipHeight;
    await chain.invalidateBlock(block!);
    await chain.mine(2);
    const reorg = await f.step();
    expect(reorg.step.orphanedAbove).toBe(height - 1);
    // Both txs went back to litecoind's pool and were mined again in the new chain's first block.
    expect(minedTxs(reorg).sort()).toEqual([paid, other].sort());
    expect(reorg.step.blocks[0]!.hash).not.toBe(block);
    expect(reorg.step.gone).toEqual([]);
  });

  it("ignores what an address was paid long before its invoice existed (a reused address)", async () => {
    const a = watch();
    const old = await chain.send(a.address, 5_000_000n);
    await chain.mine(1);
    // The invoice of this address was created two days after that payment's block.
    const f = follower([{ ...a, since: Date.now() + 2 * 24 * 3600_000 }]);
    const step = await f.step();
    expect(minedTxs(step)).not.toContain(old);
    expect(step.step.mempool).toEqual([]);
    // Created now, the same payment is one.
    expect(minedTxs(await follower([a]).step())).toEqual([old]);
  });

  it("takes nothing from an explorer whose tip is below the one it showed before (an instance behind)", async () => {
    const a = watch();
    const f = follower([a]);
    await f.step();
    await chain.send(a.address, 1_000_000n);
    // As if another instance had shown a tip 5 blocks higher before.
    const cursor = { ...f.cursor(), bestTip: f.cursor().bestTip + 5 };
    const step = await esploraFollower(client(), regtest, { budget: 30, depth: 20 }).follow(cursor, { now: Date.now(), watched: async () => [a] });
    expect(step.behind).toMatch(/below/);
    expect(step.step).toMatchObject({ mempool: [], blocks: [], scannedThrough: cursor.scannedThrough });
    expect(step.cursor).toEqual(cursor);
    await chain.mine(1);
  });
});
