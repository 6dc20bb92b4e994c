// Bitcoin and Litecoin as a ChainSource: blocks, pool and tx status from a Bitcoin Core-compatible node's
// JSON-RPC, turned into the compact UtxoTx records accounts match. Needs no txindex: a pruned node will do.

import type { ChainBlock, ChainSource, TxStatus } from "../adapter";
import { NodeError } from "../node-error";
import { isSyncing, type CoreRpc } from "./core-rpc";
import type { UtxoNetwork } from "./networks";
import { replaceableInPool, utxoTxOf, type UtxoTx } from "./tx";

/** How many blocks below the node's tip txStatus reads at most to find a tx the node cannot look up by txid. */
export const MAX_LOOKBACK_BLOCKS = 24;
/** What a genesis block's header holds as its parent. */
const NO_PARENT = "0".repeat(64);

/**
 * `rpc` must run the network check for `network` (createCoreRpc's `chain: network.coreChain`): then no
 * call of this source is answered by a node on another chain, and `tip` throws WrongNetworkError when
 * every node is on one.
 *
 * Node calls: tip 1; block 2 (getblockhash, getblock verbosity 2); poolTxs 2 per 100 txs
 * (getrawtransaction, getmempoolentry) + 1 (getmempoolinfo); txStatus 1 per 100 txs, and when the node
 * cannot find some by txid 3 more (getblockcount, then the hashes and txids of the blocks they may be in).
 */
export function utxoSource(rpc: CoreRpc, network: UtxoNetwork): ChainSource<UtxoTx> {
  if (rpc.chain !== network.coreChain) {
    throw new TypeError(`utxoSource: the node client must check for chain ${network.coreChain}, it checks ${rpc.chain ?? "nothing"}`);
  }
  // What this source told its caller, to bound where a tx that left the pool may have been mined.
  let lastTip: number | null = null;
  let poolListedAt: number | null = null;
  let poolListedBefore: number | null = null;

  /**
   * Which of `txids` are in a block of the active chain above the tip the pool was listed at before the
   * latest listing (every tx txStatus is asked about was in the pool then, or in a block the caller saw
   * orphaned). Without that memory (a fresh source), the last MAX_LOOKBACK_BLOCKS blocks.
   */
  async function minedSincePoolListing(txids: string[]): Promise<Set<string>> {
    const top = await rpc.getBlockCount();
    const since = poolListedBefore === null ? -1 : Math.min(poolListedBefore, lastTip ?? poolListedBefore);
    const from = Math.max(0, since + 1, top - MAX_LOOKBACK_BLOCKS + 1);
    const heights = Array.from({ length: Math.max(0, top - from + 1) }, (_, i) => from + i);
    if (heights.length === 0) return new Set();
    const hashes = [...(await rpc.getBlockHashes(heights)).values()].filter((h): h is string => h !== null);
    const wanted = new Set(txids);
    const mined = new Set<string>();
    for (const block of (await rpc.getBlockTxids(hashes)).values()) {
      // A block a reorg took off the chain meanwhile holds nothing confirmed.
      if (!block || block.confirmations < 1) continue;
      for (const txid of block.txids) if (wanted.has(txid)) mined.add(txid);
    }
    return mined;
  }

  return {
    async tip(atLeast) {
      const info = await rpc.getBlockchainInfo({ atLeast });
      lastTip = info.blocks;
      return { height: info.blocks, hash: info.bestBlockHash, syncing: isSyncing(info), network: info.chain };
    },

    node: () => rpc.node(),

    async block(height): Promise<ChainBlock<UtxoTx>> {
      // getblock by hash works on any node; by height there is no call. A reorg between the two calls
      // still gives a consistent block, whose parent hash then shows the reorg to the caller.
      const hash = await rpc.getBlockHash(height);
      const block = await rpc.getBlock(hash);
      if (block.height !== height) throw new NodeError(`${rpc.node()}: block ${hash} is at height ${block.height}, asked for ${height}`);
      return {
        height,
        hash,
        prevHash: block.previousBlockHash ?? NO_PARENT,
        timestamp: block.time,
        txs: block.txs.map((tx) => utxoTxOf(tx, false)),
      };
    },

    blockHash: (height) => rpc.getBlockHash(height),

    async poolHashes() {
      const hashes = await rpc.getRawMempool();
      poolListedBefore = poolListedAt;
      poolListedAt = lastTip;
      return hashes;
    },

    async poolTxs(hashes) {
      const unique = [...new Set(hashes)];
      const raw = await rpc.getRawTransactions(unique);
      const found = unique.filter((h) => raw.get(h));
      if (found.length === 0) return { txs: [], doubtful: [] };
      // Entries are read after the txs: one that left the pool in between has none and is left out, and
      // the next look sees where it went. Core's pool never holds two conflicting txs: nothing is doubtful.
      const entries = await rpc.getMempoolEntries(found);
      const { fullRbf } = await rpc.getMempoolInfo();
      const txs = found.flatMap((h) => {
        const entry = entries.get(h);
        if (!entry) return [];
        return [utxoTxOf(raw.get(h)!, replaceableInPool(entry.bip125Replaceable, fullRbf))];
      });
      return { txs, doubtful: [] };
    },

    /**
     * "pool" for a tx in the mempool, "block" for one in a block of the active chain, else "missing".
     * With txindex getrawtransaction tells all three. Without it, a mined tx is not found by txid: the
     * blocks it may have been mined in since the pool was listed before are read (usually none or one:
     * the caller asks only about txs neither in the pool nor in the blocks it just read), so that a tx
     * mined in a block delivered since, or found while the pool was read, never shows as missing.
     * A stale txindex entry (its block orphaned, confirmations 0) is no confirmation either.
     */
    async txStatus(hashes) {
      const out = new Map<string, TxStatus>();
      if (hashes.length === 0) return out;
      const raw = await rpc.getRawTransactions(hashes);
      const unresolved: string[] = [];
      for (const [txid, tx] of raw) {
        if (tx && tx.blockHash === null) out.set(txid, "pool");
        else if (tx && tx.confirmations > 0) out.set(txid, "block");
        else unresolved.push(txid);
      }
      if (unresolved.length === 0) return out;
      const mined = await minedSincePoolListing(unresolved);
      for (const txid of unresolved) out.set(txid, mined.has(txid) ? "block" : "missing");
      return out;
    },
  };
}
