// Following real litecoind 0.21 regtest chains, one plain and one with txindex, with followChain and the UTXO
// source: payments to a merchant's invoice addresses in the pool and in blocks, replacements, double spends,
// reorgs, txs mined while the watcher looked elsewhere, and the network check over a list of nodes.
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChainSource, OpenKeySet } from "../../src/chains/adapter";
import { emptyCursor, followChain, type ChainCursor, type FollowResult } from "../../src/chains/follow";
import { WrongNetworkError } from "../../src/chains/network-check";
import { keysFromRequest, utxoAdapter, type UtxoPayment } from "../../src/chains/utxo/adapter";
import { createCoreRpc, type CoreRpcOptions } from "../../src/chains/utxo/core-rpc";
import { utxoNetwork } from "../../src/chains/utxo/networks";
import { MAX_LOOKBACK_BLOCKS, utxoSource } from "../../src/chains/utxo/source";
import type { UtxoTx } from "../../src/chains/utxo/tx";
import { Coin } from "../../src/domain/coins";
import { startLitecoinRegtest, type LitecoinRegtest } from "../e2e/support/litecoin-regtest";
import { freePort } from "../e2e/support/ports";

const vectors = JSON.parse(readFileSync(new URL("../vectors/utxo.json", import.meta.url), "utf8"));
const REGTEST = utxoNetwork("LTC", "regtest");
const UNKNOWN_TXID = "ab".repeat(32);
const adapter = utxoAdapter(Coin.LTC, "regtest");
const merchantKey: string = vectors.litecoin_core_derivations.find(
  (d: { chain: string; script_type: string; branch: number }) => d.chain === "regtest" && d.script_type === "p2wpkh" && d.branch === 0,
).extended_key;
/** The merchant's key set as an account opens it from D1 (publicKeys went through JSON). */
const keys: OpenKeySet = { id: 1, publicKeys: JSON.parse(JSON.stringify(keysFromRequest(Coin.LTC, "regtest", merchantKey)!.publicKeys)), secret: null };

/** Without txindex (what a pruned node gives) and with it. */
const nodes: { plain?: LitecoinRegtest; indexed?: LitecoinRegtest } = {};
/** The node the running describe block follows. */
let chain: LitecoinRegtest;
const servers: Server[] = [];

beforeAll(async () => {
  [nodes.plain, nodes.indexed] = await Promise.all([startLitecoinRegtest(), startLitecoinRegtest({ txindex: true })]);
}, 60_000);

afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all([nodes.plain?.stop(), nodes.indexed?.stop(), ...servers.map((s) => new Promise((r) => s.close(r)))]);
}, 30_000);

function rpcFor(urls: string[], extra: Partial<CoreRpcOptions> = {}) {
  return createCoreRpc({
    urls,
    chain: REGTEST.coreChain,
    retries: 1,
    timeoutMs: 5_000,
    sleep: async () => undefined,
    // Test-only: litecoind's shutdown waits for idle keep-alive sockets (4 s in Node's pool) to close.
    fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), connection: "close" } }),
    ...extra,
  });
}
const regtestSource = () => utxoSource(rpcFor([chain.urlWithCredentials]), REGTEST);

/** An invoice: its address and what it is watched by. */
function invoice(index: number) {
  const { address, matchKey } = adapter.deriveAddress(keys, index);
  return { id: `invoice-${index}`, address, matchKey, watched: new Map([[matchKey, `invoice-${index}`]]) };
}

interface Seen extends UtxoPayment<string> {
  txid: string;
  /** null: in the pool. */
  height: number | null;
}

/** Follows step by step as the watcher does, keeping a ledger of payments by outputKey as an account would. */
function follower(source: ChainSource<UtxoTx>, watched: ReadonlyMap<string, string>) {
  let cursor: ChainCursor = emptyCursor();
  let clock = 1_000;
  const ledger = new Map<string, { height: number | null; gone: boolean }>();
  return {
    ledger,
    /** Blocks read per step at most. */
    maxBlocks: 10,
    async step(): Promise<FollowResult & { payments: Seen[]; pool: string[]; heights: number[] }> {
      const r = await followChain(source, cursor, { now: (clock += 1_000), maxBlocks: this.maxBlocks, depth: 6 });
      cursor = r.cursor;
      const found = (tx: UtxoTx, height: number | null): Seen[] => adapter.findPayments(tx, keys, watched).map((p) => ({ ...p, txid: tx.hash, height }));
      const payments = [
        ...r.step.blocks.flatMap((b) => (b.txs as UtxoTx[]).flatMap((tx) => found(tx, b.height))),
        ...(r.step.mempool as UtxoTx[]).flatMap((tx) => found(tx, null)),
      ];
      if (r.step.orphanedAbove !== null) for (const p of ledger.values()) if (p.height !== null && p.height > r.step.orphanedAbove) p.height = null;
      for (const p of payments) {
        const known = ledger.get(p.outputKey);
        if (!known) ledger.set(p.outputKey, { height: p.height, gone: false });
        else if (p.height !== null) Object.assign(known, { height: p.height, gone: false });
        else if (known.height === null) known.gone = false; // back in the pool
      }
      for (const [key, p] of ledger) if (p.height === null && r.step.gone.includes(key.split(":")[0]!)) p.gone = true;
      return { ...r, payments, pool: r.step.mempool.map((t) => t.hash), heights: r.step.blocks.map((b) => b.height) };
    },
  };
}

/** The coinbases of the blocks a step delivered. */
const coinbases = (s: FollowResult): string[] => s.step.blocks.map((b) => b.txs[0]!.hash);

/** Height of the node's tip. */
const tipHeight = async () => (await chain.rpc("getblockcount")) as number;

describe.each([
  { txindex: false, node: () => nodes.plain! },
  { txindex: true, node: () => nodes.indexed! },
])("following litecoind (txindex: $txindex) through the UTXO source", ({ txindex, node }) => {
  beforeAll(() => {
    chain = node();
  });

  it("shows a payment in the pool with its satoshis and replaceability, then in its block, and nothing for a stranger's tx", async () => {
    const [plain, signalling] = [invoice(0), invoice(1)];
    const f = follower(regtestSource(), new Map([...plain.watched, ...signalling.watched]));
    await f.step();
    const paid = await chain.send(plain.address, 12_345_678n);
    const bumpable = await chain.send(signalling.address, 50_001n, { replaceable: true });
    const stranger = await chain.send((await chain.payer("getnewaddress", "", "bech32")) as string, 70_000n);

    const seen = await f.step();
    expect(seen.pool).toEqual(expect.arrayContaining([paid, bumpable, stranger]));
    expect(seen.payments).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ txid: paid, height: null, owner: plain.id, amount: 12_345_678n, replaceable: false }),
        expect.objectContaining({ txid: bumpable, height: null, owner: signalling.id, amount: 50_001n, replaceable: true }),
      ]),
    );
    expect(seen.payments).toHaveLength(2);
    const paidOutput = seen.payments.find((p) => p.txid === paid)!;
    expect(paidOutput.outputKey).toBe(`${paid}:${paidOutput.outputIndex}`);

    const [hash] = await chain.mine(1);
    const mined = await f.step();
    expect(mined.step.blocks.map((b) => b.hash)).toEqual([hash]);
    expect(mined.payments.map((p) => [p.txid, p.height, p.replaceable, p.outputKey])).toEqual(
      expect.arrayContaining([
        [paid, mined.heights[0], false, paidOutput.outputKey],
        [bumpable, mined.heights[0], false, expect.stringMatching(new RegExp(`^${bumpable}:`))],
      ]),
    );
    expect(mined.step.gone).toEqual([]);
    expect([...f.ledger.values()]).toEqual([
      { height: mined.heights[0], gone: false },
      { height: mined.heights[0], gone: false },
    ]);
  });

  it("never takes a miner's reward to an invoice address as a payment", async () => {
    const reward = invoice(2);
    const f = follower(regtestSource(), reward.watched);
    await f.step();
    await chain.rpc("generatetoaddress", 1, reward.address);
    const s = await f.step();
    const coinbase = s.step.blocks[0]!.txs[0] as UtxoTx;
    expect(coinbase.coinbase).toBe(true);
    expect(coinbase.outputs.some((o) => o.script === reward.matchKey)).toBe(true);
    expect(s.payments).toEqual([]);
  });

  it("reports a payment replaced by a fee bump gone, and finds the replacement paying the invoice again", async () => {
    const inv = invoice(3);
    const f = follower(regtestSource(), inv.watched);
    await f.step();
    const original = await chain.send(inv.address, 40_000n, { replaceable: true });
    expect((await f.step()).payments).toMatchObject([{ txid: original, replaceable: true, amount: 40_000n }]);

    const replacement = await chain.bumpFee(original);
    const s = await f.step();
    expect(s.step.gone).toEqual([original]);
    expect(s.payments).toMatchObject([{ txid: replacement, height: null, replaceable: true, amount: 40_000n, outputKey: expect.stringMatching(new RegExp(`^${replacement}:`)) }]);
    await chain.mine(1);
    expect((await f.step()).payments).toMatchObject([{ txid: replacement, replaceable: false }]);
    expect([...f.ledger.values()].map((p) => p.gone)).toEqual([true, false]);
  });

  it("reports a payment gone when the payer replaces it with a tx paying himself", async () => {
    const inv = invoice(4);
    const f = follower(regtestSource(), inv.watched);
    await f.step();
    const original = await chain.send(inv.address, 60_000n, { replaceable: true });
    await f.step();

    const theft = (await chain.rpc("sendrawtransaction", await payerDoubleSpend(original))) as string;
    const s = await f.step();
    expect(s.step.gone).toEqual([original]);
    expect(s.pool).toContain(theft);
    expect(s.payments).toEqual([]);
    const [hash] = await chain.mine(1);
    const mined = await f.step();
    expect(mined.step.blocks[0]!.txs.map((t) => t.hash)).toContain(theft);
    expect(mined.step.blocks[0]!.hash).toBe(hash);
    expect(mined.payments).toEqual([]);
  });

  it("puts a payment back in the pool when its block is orphaned, and counts it once when the block is back", async () => {
    const inv = invoice(5);
    const f = follower(regtestSource(), inv.watched);
    await f.step();
    const txid = await chain.send(inv.address, 33_333n);
    await f.step();
    const [hash] = await chain.mine(2);
    const mined = await f.step();
    const height = mined.heights[0]!;
    expect(mined.payments).toMatchObject([{ txid, height }]);

    // A shorter chain whose top is not ours, without the payment: a node behind could not show it.
    await chain.invalidateBlock(hash!);
    const { hash: empty } = (await chain.rpc("generateblock", await chain.payer("getnewaddress", "", "bech32"), [])) as { hash: string };
    const orphaned = await f.step();
    expect(orphaned.step.orphanedAbove).toBe(height - 1);
    expect(orphaned.step.blocks.map((b) => b.hash)).toEqual([empty]);
    expect(orphaned.payments).toMatchObject([{ txid, height: null }]);
    // Only the orphaned blocks' coinbases are gone: no other chain has them.
    expect(orphaned.step.gone.sort()).toEqual(coinbases(mined).sort());
    expect([...f.ledger.values()]).toEqual([{ height: null, gone: false }]);

    await chain.reconsiderBlock(hash!);
    const back = await f.step();
    expect(back.step.orphanedAbove).toBe(height - 1);
    expect(back.step.blocks.map((b) => b.hash)).toEqual(mined.step.blocks.map((b) => b.hash));
    expect(back.payments).toMatchObject([{ txid, height }]);
    expect(back.step.gone).toEqual(coinbases(orphaned));
    expect([...f.ledger.values()]).toEqual([{ height, gone: false }]);
  });

  it("re-delivers a payment mined again on a longer chain after a reorg, counted once and never gone", async () => {
    const inv = invoice(6);
    const f = follower(regtestSource(), inv.watched);
    await f.step();
    const txid = await chain.send(inv.address, 44_444n);
    const [hash] = await chain.mine(1);
    const first = await f.step();
    const height = first.heights.at(-1)!;
    expect(first.payments).toMatchObject([{ txid, height }]);

    await chain.invalidateBlock(hash!);
    const fork = await chain.mine(2);
    const s = await f.step();
    expect(s.step.orphanedAbove).toBe(height - 1);
    expect(s.step.blocks.map((b) => b.hash)).toEqual(fork);
    expect(s.payments).toMatchObject([{ txid, height }]);
    expect(s.step.gone).toEqual(coinbases(first));
    expect([...f.ledger.values()]).toEqual([{ height, gone: false }]);
  });

  it("never reports gone a pool payment mined in a block found while the pool was being read", async () => {
    const inv = invoice(7);
    const source = regtestSource();
    let mineOnPoolRead = false;
    const racing: ChainSource<UtxoTx> = {
      ...source,
      async poolHashes() {
        if (mineOnPoolRead) await chain.mine(1);
        return source.poolHashes();
      },
    };
    const f = follower(racing, inv.watched);
    await f.step();
    const txid = await chain.send(inv.address, 55_555n);
    expect((await f.step()).payments).toMatchObject([{ txid, height: null }]);

    const before = await tipHeight();
    mineOnPoolRead = true;
    const raced = await f.step();
    mineOnPoolRead = false;
    expect(raced.step.tipHeight).toBe(before);
    expect(raced.pool).not.toContain(txid);
    expect(raced.step.gone).toEqual([]);

    const next = await f.step();
    expect(next.payments).toMatchObject([{ txid, height: before + 1 }]);
    expect([...f.ledger.values()]).toEqual([{ height: before + 1, gone: false }]);
  });

  it("never reports gone a pool payment mined in a block delivered while catching up, when the pool was not read", async () => {
    const inv = invoice(8);
    const f = follower(regtestSource(), inv.watched);
    await f.step();
    const txid = await chain.send(inv.address, 66_666n);
    expect((await f.step()).payments).toMatchObject([{ txid, height: null }]);

    f.maxBlocks = 1;
    const mined = await chain.mine(3);
    const catchingUp = [await f.step(), await f.step()];
    expect(catchingUp.map((s) => s.step.blocks[0]!.hash)).toEqual(mined.slice(0, 2));
    expect(catchingUp[0]!.payments).toMatchObject([{ txid }]);
    expect(catchingUp.map((s) => s.step.scannedThrough)).toEqual([catchingUp[0]!.step.observedAfter, catchingUp[0]!.step.observedAfter]);
    const level = await f.step();
    expect(level.step.blocks.map((b) => b.hash)).toEqual(mined.slice(2));
    expect(level.step.scannedThrough).toBeGreaterThan(level.step.observedAfter);
    expect(level.step.gone).toEqual([]);
    expect([...f.ledger.values()]).toEqual([{ height: catchingUp[0]!.heights[0], gone: false }]);
  });
  it("reports gone a payment whose block is orphaned by a chain that spends its inputs elsewhere", async () => {
    const inv = invoice(9);
    const f = follower(regtestSource(), inv.watched);
    await f.step();
    const txid = await chain.send(inv.address, 77_777n);
    const [hash] = await chain.mine(1);
    const mined = await f.step();
    expect(mined.payments).toMatchObject([{ txid, height: mined.heights[0] }]);

    await chain.invalidateBlock(hash!);
    const conflict = await payerDoubleSpend(txid);
    const { hash: fork } = (await chain.rpc("generateblock", await chain.payer("getnewaddress", "", "bech32"), [conflict])) as { hash: string };
    const s = await f.step();
    expect(s.step.orphanedAbove).toBe(mined.heights[0]! - 1);
    expect(s.step.blocks.map((b) => b.hash)).toEqual([fork]);
    // With txindex the node still answers for it from the orphaned block (confirmations 0): no confirmation.
    expect(s.step.gone.sort()).toEqual([txid, ...coinbases(mined)].sort());
    expect(s.payments).toEqual([]);
    expect([...f.ledger.values()]).toEqual([{ height: null, gone: true }]);
  });

  it(`tells pool, mined and unknown txs apart in a fresh source, ${txindex ? "however deep a tx was mined" : `looking back ${MAX_LOOKBACK_BLOCKS} blocks for mined ones`}`, async () => {
    const inv = invoice(10);
    const deep = await chain.send(inv.address, 10_000n);
    await chain.mine(MAX_LOOKBACK_BLOCKS);
    const recent = await chain.send(inv.address, 20_000n);
    await chain.mine(1);
    const pending = await chain.send(inv.address, 30_000n);
    const status = await regtestSource().txStatus([deep, recent, pending, UNKNOWN_TXID]);
    expect(Object.fromEntries(status)).toEqual({
      [deep]: txindex ? "block" : "missing",
      [recent]: "block",
      [pending]: "pool",
      [UNKNOWN_TXID]: "missing",
    });
    await chain.mine(1);
  });
});

describe("the network check and a list of nodes", () => {
  beforeAll(() => {
    chain = nodes.plain!;
  });

  it("never follows a node on another network than configured", async () => {
    const source = utxoSource(rpcFor([chain.urlWithCredentials], { chain: "main" }), utxoNetwork("LTC", "mainnet"));
    const error = await source.tip().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongNetworkError);
    expect(error).toMatchObject({ network: "regtest", expected: "main", node: chain.url });
    expect((error as Error).message).not.toContain(chain.pass);
    await expect(source.block(1)).rejects.toBeInstanceOf(WrongNetworkError);
    await expect(source.poolHashes()).rejects.toBeInstanceOf(WrongNetworkError);
  });

  it("refuses a node client that does not check the configured network", () => {
    expect(() => utxoSource(createCoreRpc({ urls: [chain.urlWithCredentials] }), REGTEST)).toThrow(TypeError);
    expect(() => utxoSource(rpcFor([chain.urlWithCredentials], { chain: "test" }), REGTEST)).toThrow(TypeError);
  });

  it("follows the live node when the first URL is dead", async () => {
    const dead = `http://127.0.0.1:${await freePort()}/`;
    const source = utxoSource(rpcFor([dead, chain.urlWithCredentials]), REGTEST);
    const s = await followChain(source, emptyCursor(), { now: 1, maxBlocks: 10, depth: 3 });
    expect(s.behind).toBeNull();
    expect(s.node).toMatchObject({ height: await tipHeight(), network: "regtest", syncing: false });
    expect(source.node()).toBe(chain.url);
  });

  it("skips a node on another network in the list and follows the one on the configured network", async () => {
    const mainnetNode = await fakeNode({ chain: "main", blocks: 900_000 });
    const source = utxoSource(rpcFor([mainnetNode.url, chain.urlWithCredentials]), REGTEST);
    expect((await source.tip()).network).toBe("regtest");
    expect(source.node()).toBe(chain.url);
    expect((await source.block(1)).height).toBe(1);
    expect(mainnetNode.methods()).toEqual(["getblockchaininfo"]);
  });

  it("prefers a node at or above the height already seen over one that lags", async () => {
    const lagging = await fakeNode({ chain: "regtest", blocks: 5 });
    const source = utxoSource(rpcFor([lagging.url, chain.urlWithCredentials]), REGTEST);
    const top = await tipHeight();
    expect((await source.tip()).height).toBe(5);
    expect((await source.tip(top)).height).toBe(top);
    expect(source.node()).toBe(chain.url);
  });
});

/**
 * A tx of the payer spending the inputs of its own `txid` again, to one of its addresses with a higher fee
 * (signed hex): what a payer who takes his payment back sends (bumpfee keeps the outputs; this does not).
 */
async function payerDoubleSpend(txid: string): Promise<string> {
  const wallet = (await chain.payer("gettransaction", txid, false, true)) as { fee: number; decoded: { vin: { txid: string; vout: number }[]; vout: { value: number }[] } };
  const inputs = wallet.decoded.vin.map((v) => ({ txid: v.txid, vout: v.vout }));
  const outputsTotal = wallet.decoded.vout.reduce((sum, o) => sum + satoshis(o.value), 0n);
  const to = (await chain.payer("getnewaddress", "", "bech32")) as string;
  const keep = outputsTotal - 100_000n; // the old fee plus 0.001 LTC more: a replacement must pay more
  const raw = await chain.payer("createrawtransaction", inputs, { [to]: coins(keep) }, 0, true);
  const signed = (await chain.payer("signrawtransactionwithwallet", raw)) as { hex: string; complete: boolean };
  if (!signed.complete) throw new Error("the payer could not sign its double spend");
  return signed.hex;
}

const satoshis = (coinsValue: number): bigint => BigInt(Math.round(coinsValue * 1e8));
const coins = (value: bigint): string => `${value / 100_000_000n}.${(value % 100_000_000n).toString().padStart(8, "0")}`;

/** A node that answers getblockchaininfo (and nothing else usefully) as told; records the methods asked. */
async function fakeNode(info: { chain: string; blocks: number }) {
  const methods: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: number; method: string };
      methods.push(body.method);
      const result =
        body.method === "getblockchaininfo"
          ? { chain: info.chain, blocks: info.blocks, headers: info.blocks, bestblockhash: "11".repeat(32), initialblockdownload: false }
          : null;
      res.writeHead(result ? 200 : 500, { "content-type": "application/json" });
      res.end(JSON.stringify(result ? { result, error: null, id: body.id } : { result: null, error: { code: -32601, message: "Method not found" }, id: body.id }));
    });
  });
  servers.push(server);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}/`, methods: () => methods };
}
