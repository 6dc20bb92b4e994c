// Following a chain through a ChainSource, one bounded step at a time: new blocks in order (never
// skipping one), reorgs found by parent hash, and the pool's new, mined and vanished txs.
// Pure over the source: the ChainWatcher keeps the cursor and delivers the result.

import type { ChainBatch, ChainBlock, ChainSource, ChainTx, NodeTip } from "./adapter";

export interface CursorBlock {
  height: number;
  hash: string;
  /** Hashes of the block's txs: if the block is orphaned, each is checked again. */
  txs: string[];
}

/** The chain position fully delivered so far. */
export interface ChainCursor {
  /** Recent blocks, oldest first; the last is the highest fully delivered block. */
  blocks: CursorBlock[];
  /** Pool txs already delivered. */
  poolSeen: string[];
  /** Start time of the last step that was level with the tip and the pool. */
  scannedThrough: number;
}

export interface FollowOptions {
  /** When this step started: becomes scannedThrough if the step ends level with the node. */
  now: number;
  /** Blocks read per step at most: catch-up after downtime takes several steps. */
  maxBlocks: number;
  /** Recent blocks remembered for reorg detection. */
  depth: number;
}

export type FollowStep = Omit<ChainBatch, "coin">;

export const emptyCursor = (): ChainCursor => ({ blocks: [], poolSeen: [], scannedThrough: 0 });

/**
 * One step. Returns what to deliver and the cursor to keep once it was delivered; the input cursor
 * is not changed, so a failed delivery simply repeats the step.
 *
 * Node calls: 1 (tip) + 2 per new block (+1 per 100 txs) + 1 pool list + 1 per 100 new pool txs +
 * 1 per 100 vanished txs, + 1 per remembered block walked back on a reorg. Nothing depends on how
 * many invoices or users are watched.
 */
export async function followChain(
  source: ChainSource,
  from: ChainCursor,
  opts: FollowOptions,
): Promise<{ step: FollowStep; cursor: ChainCursor; node: NodeTip }> {
  const cursor: ChainCursor = { ...from, blocks: [...from.blocks] };
  const node = await source.tip();
  const tip = node.height;
  const blocks: ChainBlock[] = [];
  const suspects = new Set<string>();
  let orphanedAbove: number | null = null;

  const rollBack = async (): Promise<number> => {
    const fork = await findFork(source, cursor.blocks, tip, opts.depth);
    for (const b of cursor.blocks) if (b.height > fork) b.txs.forEach((t) => suspects.add(t));
    cursor.blocks = cursor.blocks.filter((b) => b.height <= fork);
    while (blocks.length > 0 && blocks.at(-1)!.height > fork) blocks.pop();
    orphanedAbove = Math.min(orphanedAbove ?? fork, fork);
    return fork + 1;
  };

  // A reorg to a chain no longer than ours shows no new block: compare our top with the node's.
  // A fresh start reads the last `depth` blocks, so that a reorg right after it is still seen whole.
  const top = cursor.blocks.at(-1);
  let next: number;
  if (top && (top.height > tip || (top.height === tip && (await source.blockHash(tip)) !== top.hash))) next = await rollBack();
  else next = top ? top.height + 1 : Math.max(0, tip - opts.depth + 1);
  while (next <= tip && blocks.length < opts.maxBlocks) {
    const block = await source.block(next);
    const parent = cursor.blocks.at(-1);
    if (parent && parent.hash !== block.prevHash) {
      next = await rollBack();
      continue;
    }
    blocks.push(block);
    cursor.blocks.push({ height: block.height, hash: block.hash, txs: block.txs.map((t) => t.hash) });
    next += 1;
  }
  const mined = new Set(blocks.flatMap((b) => b.txs.map((t) => t.hash)));
  for (const h of mined) suspects.delete(h);
  const levelWithTip = next > tip;

  // The pool only makes sense against a chain we are level with.
  let mempool: ChainTx[] = [];
  let gone: string[] = [];
  if (levelWithTip) {
    const pool = await source.poolHashes();
    const inPool = new Set(pool);
    const seen = new Set(cursor.poolSeen);
    const fresh = pool.filter((h) => !seen.has(h) || suspects.has(h));
    const { txs, doubtful } = fresh.length > 0 ? await source.poolTxs(fresh) : { txs: [], doubtful: [] };
    mempool = txs;
    const delivered = new Set(txs.map((t) => t.hash));
    const flagged = new Set(doubtful);
    const vanished = [...new Set([...cursor.poolSeen, ...suspects])].filter((h) => !inPool.has(h) && !mined.has(h));
    const status = vanished.length > 0 ? await source.txStatus(vanished) : new Map();
    gone = vanished.filter((h) => status.get(h) === "missing");
    // The double-spend flag is read when a tx is first seen (and for orphaned-block txs): flagged
    // txs are asked about again every step and delivered once the flag is gone. A delivered tx
    // whose double spend wins is caught when it leaves the pool unmined (gone, above).
    gone.push(...doubtful.filter((h) => seen.has(h)));
    cursor.poolSeen = pool.filter((h) => !flagged.has(h) && (seen.has(h) || delivered.has(h)));
  }

  const scannedThrough = levelWithTip ? opts.now : from.scannedThrough;
  cursor.blocks = cursor.blocks.slice(-opts.depth);
  cursor.scannedThrough = scannedThrough;
  return {
    step: { tipHeight: tip, orphanedAbove, blocks, mempool, gone, scannedThrough, observedAfter: from.scannedThrough },
    cursor,
    node,
  };
}

/** Highest remembered height whose hash is still on the node's chain. */
async function findFork(source: ChainSource, blocks: readonly CursorBlock[], tip: number, depth: number): Promise<number> {
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i]!;
    if (b.height <= tip && (await source.blockHash(b.height)) === b.hash) return b.height;
  }
  // Deeper than we remember: re-deliver another `depth` blocks below the oldest one we knew.
  return Math.max(-1, (blocks[0]?.height ?? 0) - 1 - depth);
}
