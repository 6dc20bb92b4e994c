// An in-memory node for tests of following a chain: its chain and pool, what tests do to a real node
// (mine, pop, send, drop, flag a double spend), the ways a node misleads (behind, syncing, another
// network, failing, not answering), the network check a source runs, and a log of the calls.

import type { ChainBlock, ChainSource, ChainTx, NodeTip, TxStatus } from "../../src/chains/adapter";
import { WrongNetworkError } from "../../src/chains/network-check";

interface ModelBlock<Tx> {
  hash: string;
  prevHash: string;
  /** Seconds since the epoch. */
  timestamp: number;
  txs: Tx[];
}

export class ModelChain<Tx extends ChainTx = ChainTx> implements ChainSource<Tx> {
  blocks: ModelBlock<Tx>[] = [{ hash: "b0", prevHash: "", timestamp: 0, txs: [] }];
  pool = new Map<string, { tx: Tx; doubleSpend: boolean }>();
  /** Every call, by method name, in order. */
  calls: string[] = [];
  /** What the node says it serves, and what the source is configured for: a source never answers for a node of another network. */
  network = "mainnet";
  expectedNetwork = "mainnet";
  /** Runs when the pool is read, before the node answers: something happening meanwhile. */
  onPoolRead: (() => Promise<void>) | null = null;
  /** The node shows no block above this height (a lagging node, or one still syncing); null shows all. */
  shownUpTo: number | null = null;
  /** The node says it is still syncing. */
  syncing = false;
  /** Every call fails with this (connection reset, HTTP 500, garbage), while set. */
  failing: Error | null = null;
  private gate: Promise<void> | null = null;
  private serial = 0;

  /** Calls wait (the node hangs) until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise((r) => (release = r));
    return () => {
      this.gate = null;
      release();
    };
  }

  /** Height of the top block the node shows. */
  get top(): number {
    return this.shownUpTo === null ? this.blocks.length - 1 : Math.min(this.shownUpTo, this.blocks.length - 1);
  }

  /** Mines the pool's txs (double spends stay behind) into the next block, `count` times; or empty blocks. */
  mine(count = 1, opts: { fromPool?: boolean } = {}): void {
    for (let i = 0; i < count; i++) {
      const txs = opts.fromPool === false ? [] : [...this.pool.values()].filter((p) => !p.doubleSpend).map((p) => p.tx);
      txs.forEach((t) => this.pool.delete(t.hash));
      const timestamp = Math.floor(Date.now() / 1000);
      this.blocks.push({ hash: `b${this.blocks.length}-${++this.serial}`, prevHash: this.blocks.at(-1)!.hash, timestamp, txs });
    }
  }

  /** Takes the top blocks off; their txs go back to the pool, as monerod's pop_blocks does. */
  pop(count: number): void {
    for (let i = 0; i < count; i++) this.blocks.pop()!.txs.forEach((tx) => this.pool.set(tx.hash, { tx, doubleSpend: false }));
  }

  /** Puts a tx into the pool; a bare hash stands for a tx with nothing else in it. */
  send(tx: Tx | string, doubleSpend = false): void {
    const t = typeof tx === "string" ? ({ hash: tx } as Tx) : tx;
    this.pool.set(t.hash, { tx: t, doubleSpend });
  }

  /** One node: whatever is asked for, it answers with what it has. */
  async tip(_atLeast?: number): Promise<NodeTip> {
    await this.answer("tip");
    return { height: this.top, hash: this.blocks[this.top]!.hash, syncing: this.syncing, network: this.network };
  }

  async block(height: number): Promise<ChainBlock<Tx>> {
    await this.answer("block");
    const b = height <= this.top ? this.blocks[height] : undefined;
    if (!b) throw new Error(`no block ${height}`);
    return { height, hash: b.hash, prevHash: b.prevHash, timestamp: b.timestamp, txs: [...b.txs] };
  }

  async blockHash(height: number): Promise<string> {
    await this.answer("blockHash");
    const b = height <= this.top ? this.blocks[height] : undefined;
    if (!b) throw new Error(`no block ${height}`);
    return b.hash;
  }

  async poolHashes(): Promise<string[]> {
    await this.answer("poolHashes");
    await this.onPoolRead?.();
    return [...this.pool.keys()];
  }

  async poolTxs(hashes: string[]): Promise<{ txs: Tx[]; doubtful: string[] }> {
    await this.answer("poolTxs");
    const live = hashes.flatMap((h) => this.pool.get(h) ?? []);
    return { txs: live.filter((p) => !p.doubleSpend).map((p) => p.tx), doubtful: live.filter((p) => p.doubleSpend).map((p) => p.tx.hash) };
  }

  async txStatus(hashes: string[]): Promise<Map<string, TxStatus>> {
    await this.answer("txStatus");
    const out = new Map<string, TxStatus>();
    const mined = (h: string) => this.blocks.slice(0, this.top + 1).some((b) => b.txs.some((t) => t.hash === h));
    for (const h of hashes) out.set(h, this.pool.has(h) ? "pool" : mined(h) ? "block" : "missing");
    return out;
  }

  node(): string {
    return "model";
  }

  /** Logs the call, waits while the node hangs, fails while it fails, and runs the network check. */
  private async answer(method: string): Promise<void> {
    this.calls.push(method);
    await this.gate;
    if (this.failing) throw this.failing;
    if (this.network !== this.expectedNetwork) throw new WrongNetworkError(this.network, this.expectedNetwork, this.node());
  }
}
