// The one interface every chain plugs in behind: derive an invoice's address from watch-only keys,
// find payments in a chain's transactions, and read the chain (ChainSource) for the watcher.

import type { Atomic } from "../domain/amount";
import type { Coin } from "../domain/coins";

/** A user's key set for one coin, with its secret part unsealed. */
export interface OpenKeySet {
  readonly id: number;
  readonly publicKeys: Readonly<Record<string, string>>;
  readonly secret: string | null;
}

export interface DerivedAddress {
  address: string;
  /** What scanning matches outputs against (XMR: hex subaddress spend key). */
  matchKey: string;
}

export interface FoundPayment<T> {
  outputIndex: number;
  /** The tx may still be replaced (BIP125 and the like): it is not final before it is mined. */
  replaceable?: boolean;
  /** Unique identity of the output on its chain (XMR: one-time output key). */
  outputKey: string;
  amount: Atomic;
  owner: T;
}

/** A chain transaction as the watcher hands it to user accounts: compact, structured-clonable. */
export interface ChainTx {
  readonly hash: string;
}

/** One key set's part of findPaymentsForKeys. */
export interface KeysToScan<T> {
  keys: OpenKeySet;
  watched: ReadonlyMap<string, T>;
}

/** findPayments for each of `scans`, shared where the adapter can. */
export function findPaymentsForKeys<Tx extends ChainTx, T>(adapter: ChainAdapter<Tx>, tx: Tx, scans: readonly KeysToScan<T>[]): FoundPayment<T>[][] {
  if (adapter.findPaymentsForKeys) return adapter.findPaymentsForKeys(tx, scans);
  return scans.map((s) => adapter.findPayments(tx, s.keys, s.watched));
}

export interface ChainAdapter<Tx extends ChainTx = ChainTx> {
  readonly coin: Coin;
  deriveAddress(keys: OpenKeySet, index: number): DerivedAddress;
  /** Outputs of `tx` paying any of `watched` (matchKey -> owner). */
  findPayments<T>(tx: Tx, keys: OpenKeySet, watched: ReadonlyMap<string, T>): FoundPayment<T>[];
  /**
   * findPayments for many key sets at once (a scan shard's users), for a chain that can share work
   * between them; result i is what findPayments(tx, scans[i].keys, scans[i].watched) returns.
   */
  findPaymentsForKeys?<T>(tx: Tx, scans: readonly KeysToScan<T>[]): FoundPayment<T>[][];
  /**
   * For a chain whose payments are found by address: the match keys (decoded output scripts) of a
   * tx's outputs, so the watcher can find who is paid without any secret key.
   */
  outputMatchKeys?(tx: Tx): string[];
}

export interface ChainBlock<Tx extends ChainTx = ChainTx> {
  height: number;
  hash: string;
  prevHash: string;
  /** Seconds since the epoch, as the block says. */
  timestamp: number;
  txs: Tx[];
}

export type TxStatus = "pool" | "block" | "missing";

/** What a node says about the top of its chain and about itself. */
export interface NodeTip {
  /** Height of the node's top block. */
  height: number;
  /** Hash of the node's top block. */
  hash: string;
  /** The node says it is still catching up with its network (monerod: `synchronized` false or `busy_syncing`). */
  syncing: boolean;
  /** The network the node says it serves (monerod `nettype`, Core `chain`, EVM chain id, TON global id). */
  network: string;
  /** What this node lets the watcher see beyond blocks (an EVM node: its pool, internal transfers), for /healthz. */
  features?: Readonly<Record<string, string | number | boolean>>;
}

/** Read access to a node, as much as the watcher needs; implementations retry and fail over. */
export interface ChainSource<Tx extends ChainTx = ChainTx> {
  /**
   * The node's tip; also the network check: a source never answers for a node on another network
   * than configured (it skips such a node, and throws WrongNetworkError when no other is left).
   * `atLeast` is the height the caller has already seen: with several nodes, one in sync and at or
   * above it is preferred.
   */
  tip(atLeast?: number): Promise<NodeTip>;
  block(height: number): Promise<ChainBlock<Tx>>;
  blockHash(height: number): Promise<string>;
  poolHashes(): Promise<string[]>;
  /** Pool txs by hash; txs flagged as double spends are left out and listed in `doubtful`. */
  poolTxs(hashes: string[]): Promise<{ txs: Tx[]; doubtful: string[] }>;
  txStatus(hashes: string[]): Promise<Map<string, TxStatus>>;
  /** The node this source talks to now (URL without credentials), for logs. */
  node(): string;
}

/** What one watcher tick hands to a user account. */
/** The batch with only the txs in `hashes`: blocks kept for their heights, the news (tip, gone, reorg) whole. */
export function withOnlyTxs<B extends ChainBatch>(batch: B, hashes: ReadonlySet<string>): B {
  return {
    ...batch,
    blocks: batch.blocks.map((b) => ({ ...b, txs: b.txs.filter((t) => hashes.has(t.hash)) })),
    mempool: batch.mempool.filter((t) => hashes.has(t.hash)),
  };
}

export interface ChainBatch<Tx extends ChainTx = ChainTx> {
  coin: Coin;
  tipHeight: number;
  /** Payments recorded above this height are back to unconfirmed: their blocks were orphaned. */
  orphanedAbove: number | null;
  blocks: ChainBlock<Tx>[];
  mempool: Tx[];
  /** Txs that left the pool without being mined (dropped, replaced, double spent). */
  gone: string[];
  /** Everything the node had before this time was delivered before or in this batch. */
  scannedThrough: number;
  /** When the watcher last looked before this batch: new pool txs arrived after it. */
  observedAfter: number;
  /** For a coin that counts by finality: the node's highest final block (ChainView.finalizedHeight); unset otherwise. */
  finalizedHeight?: number | null;
}
