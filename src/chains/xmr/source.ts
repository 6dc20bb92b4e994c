// Monero as a ChainSource: blocks and pool transactions from monerod's JSON/HTTP RPC (restricted
// mode is enough), turned into the compact ScanTx records user accounts scan.

import type { ChainBlock, ChainSource, TxStatus } from "../adapter";
import type { MoneroDaemon } from "./daemon";
import { parseScanTx, type ScanTx } from "./tx";

export function xmrSource(daemon: MoneroDaemon): ChainSource<ScanTx> {
  return {
    async tip(atLeast) {
      const info = await daemon.getInfo({ atLeast });
      return { height: info.height - 1, hash: info.topBlockHash, syncing: !info.synchronized || info.busySyncing, network: info.nettype };
    },
    node: () => daemon.node(),
    async block(height): Promise<ChainBlock<ScanTx>> {
      const b = await daemon.getBlock(height);
      const { txs, missed } = await daemon.getTransactions(b.txHashes);
      // A block's txs are on chain; a miss here is a node inconsistency, not a gap to skip.
      if (missed.length > 0) throw new Error(`node lost ${missed.length} txs of block ${height}`);
      return {
        height: b.height,
        hash: b.hash,
        prevHash: b.prevHash,
        timestamp: b.timestamp,
        txs: [parseScanTx(b.minerTxHash, b.minerTxJson), ...txs.map((t) => parseScanTx(t.hash, t.json))],
      };
    },
    async blockHash(height) {
      return (await daemon.getBlockHeaderByHeight(height)).hash;
    },
    poolHashes: () => daemon.getPoolHashes(),
    async poolTxs(hashes) {
      const { txs } = await daemon.getTransactions(hashes);
      const live = txs.filter((t) => t.inPool && !t.doubleSpendSeen);
      return {
        txs: live.map((t) => parseScanTx(t.hash, t.json)),
        doubtful: txs.filter((t) => t.inPool && t.doubleSpendSeen).map((t) => t.hash),
      };
    },
    async txStatus(hashes) {
      const out = new Map<string, TxStatus>();
      if (hashes.length === 0) return out;
      const { txs, missed } = await daemon.getTransactions(hashes);
      for (const t of txs) out.set(t.hash, t.blockHeight !== null ? "block" : t.inPool && !t.doubleSpendSeen ? "pool" : "missing");
      for (const h of missed) out.set(h, "missing");
      return out;
    },
  };
}
