// Following an EVM chain for one coin: new blocks in order by number, reorgs found by stored block hashes
// (log filters do not report removed logs on every node), the pool where the node shows it, and every
// delivered tx watched until it is final: a tx that leaves the pool unmined, is replaced, or is mined
// but reverted is reported gone. Blocks and the pool are read first, then the watched addresses: an
// invoice created before a block existed is in that list, so no payment falls between two steps.

import type { PublicClient } from "viem";
import type { ChainBlock, NodeTip } from "../adapter";
import { nodeBehind, quietStep, type FollowStep } from "../follow";
import type { ChainFollower, FollowerStep, FollowPosition } from "../follower";
import { NodeError } from "../node-error";
import type { EvmNodes } from "./node";
import { isUnsupported } from "./node";
import { WrongNetworkError } from "../network-check";
import { hex, TokenMismatch, type PaymentReader, type RpcBlock, type RpcTx } from "./payments";
import type { EvmOutput, EvmTx } from "./tx";

interface TrackedTx {
  /** The block it was delivered in; null while in the pool (or after its block was orphaned). */
  height: number | null;
  outputs: EvmOutput[];
  /** How many times it was seen paying otherwise than delivered before (see shifted()). */
  shift: number;
}

export interface EvmCursor {
  /** Recent blocks, oldest first; the last is the highest delivered. */
  blocks: { height: number; hash: string }[];
  bestTip: number;
  scannedThrough: number;
  /** Delivered txs that may still change: in the pool, or mined within `depth` of the tip. */
  tracked: Record<string, TrackedTx>;
}

export interface EvmFollowOptions {
  /** Blocks read per step at most. */
  maxBlocks: number;
  /** Blocks remembered for reorg detection, and how long a mined payment is re-checked. */
  depth: number;
  /** Payments count as confirmed once their block is `finalized` (the node's tag), not by confirmations. */
  finality?: boolean;
}

/**
 * A tx seen paying one way and later another (a token whose pool call promised another amount than its
 * logs moved, or a tx re-executed differently after a reorg) gets new output indices, and the old
 * payment is reported gone: accounts never keep an amount the chain did not move.
 */
const SHIFT = 2 ** 48;

type PoolMethod = "txpool_content" | "pending-block" | null;

export const emptyEvmCursor = (): EvmCursor => ({ blocks: [], bestTip: -1, scannedThrough: 0, tracked: {} });

export function evmFollower(nodes: EvmNodes, reader: PaymentReader, opts: EvmFollowOptions): ChainFollower {
  let poolMethod: PoolMethod | undefined;
  let features: Record<string, string | number | boolean> | undefined;

  const withFeatures = async (client: PublicClient, tip: NodeTip): Promise<NodeTip> => {
    features ??= {
      ...(await reader.features(client, tip.height).catch((error: unknown) => {
        // A token that is not on this chain as configured is treated as a node on another network:
        // nothing is followed, /healthz says why, CreateInvoice refuses the coin.
        if (error instanceof TokenMismatch) throw new WrongNetworkError(`${tip.network} (${error.found})`, error.expected, nodes.node());
        throw error;
      })),
      pool: (poolMethod ??= await probePool(client)) ?? false,
      finality: opts.finality ? "finalized" : "confirmations",
    };
    return { ...tip, features };
  };

  return {
    kind: "evm",
    node: () => nodes.node(),
    async tip() {
      const { client, tip } = await nodes.connect();
      return withFeatures(client, tip);
    },
    async follow(stored, ctx) {
      const from = (stored as EvmCursor | undefined) ?? emptyEvmCursor();
      const { client, tip: bare } = await nodes.connect();
      // withFeatures probed the pool once, with the node's other features.
      const node = await withFeatures(client, bare);
      return followOnce(client, node, from, reader, poolMethod ?? null, ctx, opts);
    },
  };
}

async function followOnce(
  client: PublicClient,
  node: NodeTip,
  from: EvmCursor,
  reader: PaymentReader,
  poolMethod: PoolMethod,
  ctx: { now: number; watched(): Promise<{ matchKey: string }[]> },
  opts: EvmFollowOptions,
): Promise<FollowerStep> {
  const top = from.blocks.at(-1);
  const seen = Math.max(from.bestTip, top?.height ?? -1);
  const behind = nodeBehind(node, seen, from.blocks.map((b) => ({ ...b, txs: [] })));
  if (behind !== null) {
    const cursor: EvmCursor = { ...from, bestTip: seen };
    return { step: quietStep(seen, node, from.scannedThrough), tipMoved: false, cursor, position: positionOf(cursor), node, behind };
  }
  const tip = node.height;
  const tipMoved = !top || top.hash !== node.hash || top.height !== tip;

  // 1. The chain: new blocks, and the remembered ones checked against the node's (one batch).
  let kept = from.blocks.filter((b) => b.height <= tip);
  let orphanedAbove: number | null = top && top.height > tip ? tip : null;
  let blocks: RpcBlock[] = [];
  let end = top?.height ?? -1;
  let finalizedHeight: number | undefined;
  if (tipMoved) {
    const start = top ? Math.min(top.height, tip) + 1 : Math.max(0, tip - opts.depth + 1);
    const [current, fresh, final] = await Promise.all([
      readBlocks(client, kept.map((b) => b.height), false),
      readBlocks(client, range(start, Math.min(tip, start + opts.maxBlocks - 1)), reader.fullBlocks),
      opts.finality ? client.request({ method: "eth_getBlockByNumber", params: ["finalized", false] }) : null,
    ]);
    if (opts.finality) {
      if (!final || typeof final.number !== "string") throw new NodeError("the node has no finalized block (ETH_FINALITY=finalized needs a node that knows it)");
      finalizedHeight = Math.min(Number(final.number), tip);
    }
    const same = kept.filter((b, i) => current[i]!.hash === b.hash);
    const fork = same.length === kept.length ? (kept.at(-1)?.height ?? start - 1) : forkOf(kept, current, opts.depth);
    if (fork < (kept.at(-1)?.height ?? start - 1)) {
      orphanedAbove = Math.min(orphanedAbove ?? fork, fork);
      kept = kept.filter((b) => b.height <= fork);
      blocks = await readBlocks(client, range(fork + 1, Math.min(tip, fork + opts.maxBlocks)), reader.fullBlocks);
    } else {
      blocks = fresh;
    }
    // Each block on its parent: the chain did not change while it was read (else read again next time).
    let parent = kept.at(-1)?.hash;
    for (const b of blocks) {
      if (parent !== undefined && b.parentHash !== parent) throw new NodeError(`the chain changed while reading block ${b.number}`);
      parent = b.hash;
    }
    end = blocks.at(-1)?.number ?? kept.at(-1)?.height ?? end;
  }
  const level = end >= tip;

  // 2. The pool, once level with the tip; then whom to look for.
  const pool = level && poolMethod ? await readPool(client, poolMethod) : null;
  const watched = new Set((await ctx.watched()).map((w) => w.matchKey));

  // 3. Payments.
  const mined = await reader.inBlocks(client, blocks, watched);
  const pooled = pool ? reader.inPool(pool, watched) : new Map<string, EvmOutput[]>();

  const tracked = new Map<string, TrackedTx>();
  const finalBelow = tip - opts.depth + 1;
  for (const [hash, t] of Object.entries(from.tracked)) {
    if (!t.outputs.some((o) => watched.has(o.to))) continue; // no open invoice is paid by it any more
    if (t.height !== null && t.height < finalBelow && (orphanedAbove === null || t.height <= orphanedAbove)) continue;
    tracked.set(hash, orphanedAbove !== null && t.height !== null && t.height > orphanedAbove ? { ...t, height: null } : t);
  }
  const orphaned = new Set([...tracked].filter(([h, t]) => t.height === null && from.tracked[h]!.height !== null).map(([h]) => h));

  const delivered = new Map<number, ChainBlock<EvmTx>>();
  const mempool: EvmTx[] = [];
  const gone = new Set<string>();
  const timeOf = new Map(blocks.map((b) => [b.number, b]));
  const record = (hash: string, outputs: EvmOutput[], height: number | null): EvmOutput[] => {
    const before = tracked.get(hash);
    let shift = before?.shift ?? 0;
    if (before && !sameOutputs(before.outputs, outputs)) {
      // Seen paying otherwise before: the old sighting is gone, this one is new.
      gone.add(hash);
      shift += 1;
      if ((shift + 1) * SHIFT > Number.MAX_SAFE_INTEGER) throw new NodeError(`tx ${hash} changed its payments too often`);
    }
    const shifted = outputs.map((o) => ({ ...o, index: o.index + shift * SHIFT }));
    tracked.set(hash, { height, outputs: shifted, shift });
    return shifted;
  };
  for (const [hash, { height, outputs }] of mined) {
    const shifted = record(hash, outputs, height);
    const b = timeOf.get(height)!;
    const block = delivered.get(height) ?? delivered.set(height, { height, hash: b.hash, prevHash: b.parentHash, timestamp: b.timestamp, txs: [] }).get(height)!;
    block.txs.push({ hash, outputs: shifted });
  }
  for (const [hash, outputs] of pooled) {
    if (mined.has(hash)) continue;
    const before = tracked.get(hash);
    if (before && before.height === null && !orphaned.has(hash) && sameOutputs(before.outputs, outputs)) continue; // delivered before
    if (before && before.height !== null) continue; // mined as far as we know; the node's pool lags
    mempool.push({ hash, outputs: record(hash, outputs, null) });
  }

  // 4. Txs that were in the pool (or in an orphaned block) and are neither there nor in a block read now.
  if (level) {
    const inPool = new Set(pool?.map((t) => t.hash) ?? []);
    const missing = [...tracked].filter(([h, t]) => t.height === null && !mined.has(h) && !pooled.has(h) && !inPool.has(h)).map(([h]) => h);
    const answers = await Promise.all(missing.map((h) => client.request({ method: "eth_getTransactionByHash", params: [h as `0x${string}`] })));
    missing.forEach((hash, i) => {
      const tx = answers[i];
      // Unknown: dropped or replaced. Mined at or below what was read without paying: reverted, or paying
      // something else. Mined above it: the next step reads that block. In the pool, unseen: a pool that is
      // not readable here; it is looked for again.
      const minedAt = tx?.blockNumber ? Number(tx.blockNumber) : null;
      if (!tx || (minedAt !== null && minedAt <= end)) {
        gone.add(hash);
        tracked.delete(hash);
      }
    });
  }

  const scannedThrough = level && (pool !== null || poolMethod === null) ? ctx.now : from.scannedThrough;
  const newBlocks = blocks.map((b) => ({ height: b.number, hash: b.hash }));
  const cursor: EvmCursor = {
    blocks: [...kept, ...newBlocks].slice(-opts.depth),
    bestTip: Math.max(tip, from.bestTip),
    scannedThrough,
    tracked: Object.fromEntries(tracked),
  };
  const step: FollowStep = {
    tipHeight: tip,
    orphanedAbove,
    blocks: [...delivered.values()].sort((a, b) => a.height - b.height),
    mempool,
    gone: [...gone],
    scannedThrough,
    observedAfter: from.scannedThrough,
    ...(finalizedHeight !== undefined ? { finalizedHeight } : {}),
  };
  return { step, tipMoved: tipMoved || orphanedAbove !== null, cursor, position: positionOf(cursor), node, behind: null };
}

function sameOutputs(a: readonly EvmOutput[], b: readonly EvmOutput[]): boolean {
  const key = (list: readonly EvmOutput[]) =>
    list
      .map((o) => `${o.index % SHIFT}:${o.to}:${o.value}`)
      .sort()
      .join(",");
  return key(a) === key(b);
}

/** Highest remembered block still on the node's chain; deeper than remembered: `depth` more below the oldest. */
function forkOf(kept: readonly { height: number; hash: string }[], current: readonly RpcBlock[], depth: number): number {
  for (let i = kept.length - 1; i >= 0; i--) if (current[i]!.hash === kept[i]!.hash) return kept[i]!.height;
  return Math.max(-1, (kept[0]?.height ?? 0) - 1 - depth);
}

const range = (a: number, b: number) => Array.from({ length: Math.max(0, b - a + 1) }, (_, i) => a + i);

async function readBlocks(client: PublicClient, heights: readonly number[], full: boolean): Promise<RpcBlock[]> {
  const answers = await Promise.all(heights.map((h) => client.request({ method: "eth_getBlockByNumber", params: [hex(h), full] })));
  return answers.map((b, i) => {
    if (!b || typeof b.hash !== "string" || typeof b.parentHash !== "string") throw new NodeError(`the node has no block ${heights[i]}`);
    return {
      number: Number(b.number),
      hash: b.hash.toLowerCase(),
      parentHash: b.parentHash.toLowerCase(),
      timestamp: Number(b.timestamp),
      txs: full ? (b.transactions as unknown[]).map(rpcTx) : [],
    };
  });
}

function rpcTx(raw: unknown): RpcTx {
  const t = raw as { hash?: unknown; to?: unknown; value?: unknown; input?: unknown };
  if (typeof t.hash !== "string" || typeof t.value !== "string") throw new NodeError("the node sent a tx without hash or value");
  return {
    hash: t.hash.toLowerCase(),
    to: typeof t.to === "string" ? t.to.slice(2).toLowerCase() : null,
    value: BigInt(t.value),
    input: typeof t.input === "string" ? t.input : "0x",
  };
}

/** How this node shows its pool: txpool_content (geth, anvil, erigon), the pending block, or not at all. */
async function probePool(client: PublicClient): Promise<PoolMethod> {
  try {
    await client.request({ method: "txpool_status" as never });
    return "txpool_content";
  } catch (error) {
    if (!isUnsupported(error)) throw error;
  }
  try {
    const pending = await client.request({ method: "eth_getBlockByNumber", params: ["pending", true] });
    return pending && Array.isArray(pending.transactions) ? "pending-block" : null;
  } catch (error) {
    if (isUnsupported(error)) return null;
    throw error;
  }
}

/** The executable pool txs (txpool `pending`; `queued` ones wait on a missing nonce). */
async function readPool(client: PublicClient, method: Exclude<PoolMethod, null>): Promise<RpcTx[]> {
  if (method === "pending-block") {
    const pending = await client.request({ method: "eth_getBlockByNumber", params: ["pending", true] });
    return ((pending?.transactions ?? []) as unknown[]).map(rpcTx);
  }
  const content = (await client.request({ method: "txpool_content" as never })) as { pending?: Record<string, Record<string, unknown>> } | null;
  if (!content || typeof content !== "object") throw new NodeError("txpool_content answered no pool");
  return Object.values(content.pending ?? {}).flatMap((byNonce) => Object.values(byNonce).map(rpcTx));
}

function positionOf(cursor: EvmCursor): FollowPosition {
  return { bestTip: cursor.bestTip, height: cursor.blocks.at(-1)?.height ?? null, scannedThrough: cursor.scannedThrough };
}
