// Following a chain through a ChainSource, one bounded step at a time: new blocks in order (never
// skipping one), reorgs found by block hashes, the pool's new, mined and vanished txs, and nothing at
// all from a node that is behind. Pure over the source: the ChainWatcher keeps the cursor and delivers.

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
  /** The highest tip a node showed while following (-1: none yet); a node below it is behind. */
  bestTip: number;
}

export interface FollowOptions {
  /** When this step started: becomes scannedThrough if the step ends level with the node. */
  now: number;
  /** Blocks read per step at most: catch-up after downtime takes several steps. */
  maxBlocks: number;
  /** Recent blocks remembered for reorg detection. */
  depth: number;
  /**
   * New pool txs read per step at most (default: all). A pool larger than that (Bitcoin's first look at
   * mainnet's) is read over several steps; the scan time waits until it was read whole.
   */
  maxPoolTxs?: number;
}

export type FollowStep = Omit<ChainBatch, "coin">;

export const emptyCursor = (): ChainCursor => ({ blocks: [], poolSeen: [], scannedThrough: 0, bestTip: -1 });

export interface FollowResult {
  step: FollowStep;
  /** The cursor to keep once the step was delivered. */
  cursor: ChainCursor;
  /** What the node said about its tip. */
  node: NodeTip;
  /** Why nothing was taken from the node (it is behind, or syncing); null when it was followed. */
  behind: string | null;
}

/**
 * One step. Returns what to deliver and the cursor to keep once it was delivered; the input cursor
 * is not changed, so a failed delivery simply repeats the step.
 *
 * A node whose tip is below what was already seen, or that says it is syncing, is behind: nothing is
 * taken from it (no block, no pool, no orphaning) and scannedThrough stays, so an invoice it hides a
 * payment to cannot expire on its word. A reorg to a shorter chain is told apart from it by the
 * hashes: the node's top is not our block at that height.
 *
 * Source calls: 1 (tip, with the top's hash) + 1 per new block + 1 pool list + 1 per 100 new pool txs
 * + 1 per 100 vanished txs, + 1 per remembered block walked back on a reorg (for XMR a block is
 * get_block + 1 /get_transactions per 100 of its non-coinbase txs). Nothing depends on how many
 * invoices or users are watched.
 */
export async function followChain(source: ChainSource, from: ChainCursor, opts: FollowOptions): Promise<FollowResult> {
  const top = from.blocks.at(-1);
  // Cursors stored before bestTip existed lack it: their top block is the best they saw.
  const seen = Math.max(from.bestTip ?? -1, top?.height ?? -1);
  const node = await source.tip(seen);
  const behind = nodeBehind(node, seen, from.blocks);
  if (behind !== null) {
    return { step: quietStep(seen, node, from.scannedThrough), cursor: { ...from, blocks: [...from.blocks], bestTip: seen }, node, behind };
  }
  const cursor: ChainCursor = { ...from, blocks: [...from.blocks], bestTip: node.height };
  const tip = node.height;
  const blocks: ChainBlock[] = [];
  const suspects = new Set<string>();
  let orphanedAbove: number | null = null;

  const rollBack = async (): Promise<number> => {
    const fork = await findFork(source, cursor.blocks, node, opts.depth);
    for (const b of cursor.blocks) if (b.height > fork) b.txs.forEach((t) => suspects.add(t));
    cursor.blocks = cursor.blocks.filter((b) => b.height <= fork);
    while (blocks.length > 0 && blocks.at(-1)!.height > fork) blocks.pop();
    orphanedAbove = Math.min(orphanedAbove ?? fork, fork);
    return fork + 1;
  };

  // A reorg to a chain no longer than ours shows no new block: our top is above the node's (told from
  // a node that is behind by the hashes, above), or at its height with another hash.
  // A fresh start reads the last `depth` blocks, so that a reorg right after it is still seen whole.
  let next: number;
  if (top && (top.height > tip || (top.height === tip && node.hash !== top.hash))) next = await rollBack();
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
  let levelWithPool = false;
  if (levelWithTip) {
    const pool = await source.poolHashes();
    const inPool = new Set(pool);
    const seen = new Set(cursor.poolSeen);
    const unread = pool.filter((h) => !seen.has(h) || suspects.has(h));
    // The txs of orphaned blocks first: where they are now is this step's news.
    unread.sort((a, b) => Number(suspects.has(b)) - Number(suspects.has(a)));
    const fresh = unread.slice(0, opts.maxPoolTxs ?? unread.length);
    levelWithPool = fresh.length === unread.length;
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

  const scannedThrough = levelWithTip && levelWithPool ? opts.now : from.scannedThrough;
  cursor.blocks = cursor.blocks.slice(-opts.depth);
  cursor.scannedThrough = scannedThrough;
  return {
    step: { tipHeight: tip, orphanedAbove, blocks, mempool, gone, scannedThrough, observedAfter: from.scannedThrough },
    cursor,
    node,
    behind: null,
  };
}

/** The step taken from a node that is behind: nothing, and the scan time where it was. */
export function quietStep(seen: number, node: NodeTip, scannedThrough: number): FollowStep {
  return { tipHeight: Math.max(seen, node.height), orphanedAbove: null, blocks: [], mempool: [], gone: [], scannedThrough, observedAfter: scannedThrough };
}

/** Why the node's word must not move the scan forward (it is behind `seen`, or syncing); null when it may. */
export function nodeBehind(node: NodeTip, seen: number, blocks: readonly CursorBlock[]): string | null {
  if (node.syncing) return "the node says it is still syncing";
  if (node.height >= seen) return null;
  // Below what was seen, its top being our block at that height: the node is behind our chain. Any
  // other top is a shorter chain. Below our window it cannot be told, and waiting is the safe side.
  const ours = blocks.find((b) => b.height === node.height);
  if (ours && ours.hash !== node.hash) return null;
  return `the node's tip ${node.height} is below ${seen}, seen before`;
}

/** Highest remembered height whose hash is still on the node's chain. */
async function findFork(source: ChainSource, blocks: readonly CursorBlock[], node: NodeTip, depth: number): Promise<number> {
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i]!;
    if (b.height > node.height) continue;
    const hash = b.height === node.height ? node.hash : await source.blockHash(b.height);
    if (hash === b.hash) return b.height;
  }
  // Deeper than we remember: re-deliver another `depth` blocks below the oldest one we knew.
  return Math.max(-1, (blocks[0]?.height ?? 0) - 1 - depth);
}
