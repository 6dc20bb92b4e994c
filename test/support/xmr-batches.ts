// XMR chain batches and blocks for tests that hand an account or a shard what a watcher tick would:
// tip 120 unless told, the scan time now, the previous look a second ago.
import type { ChainBatch } from "../../src/chains/adapter";
import type { ScanTx } from "../../src/chains/xmr/tx";
import { Coin } from "../../src/domain/coins";

export const xmrBatch = (over: Partial<ChainBatch>): ChainBatch => ({
  coin: Coin.XMR,
  tipHeight: 120,
  orphanedAbove: null,
  blocks: [],
  mempool: [],
  gone: [],
  scannedThrough: Date.now(),
  observedAfter: Date.now() - 1000,
  ...over,
});

let serial = 0;
/** A block at `height` with `txs`; every call a hash of its own. */
export const xmrBlock = (height: number, txs: ScanTx[], timestamp = Math.floor(Date.now() / 1000)) => ({
  height,
  hash: `b${++serial}`.padStart(64, "0"),
  prevHash: "",
  timestamp,
  txs,
});
