// Following TON through toncenter v3, masterchain block by masterchain block: every transaction a
// block commits (all shards) is read, then the watched addresses are listed and the incoming
// payments to them kept. TON is final on commit (BFT; toncenter serves committed blocks only): no
// reorgs to follow, and no public pool, so a payment shows at first sight in a block.

import type { ChainBlock, NodeTip } from "../adapter";
import { nodeBehind, quietStep, type FollowStep } from "../follow";
import type { ChainFollower, FollowerStep, FollowPosition } from "../follower";
import type { Toncenter, V3Tx } from "./toncenter";
import type { TonTx } from "./tx";
import { parseTonAddress } from "./wallet";
import type { TonNetwork } from "./settings";

export interface TonCursor {
  /** The last masterchain block delivered; null before the first. */
  seqno: number | null;
  bestTip: number;
  scannedThrough: number;
}

export interface TonFollowOptions {
  /** Masterchain blocks read per step at most (one request each, more for a block with over 1,000 txs). */
  maxBlocks: number;
  /** How many blocks below the tip a fresh start reads. */
  startBelow: number;
}

/**
 * How far the scan time stays behind the last masterchain block's time: a shard block is committed by the
 * next masterchain block or so (a few seconds on mainnet; not measured live, so with room to spare).
 */
export const COMMIT_MARGIN_MS = 10_000;

export const emptyTonCursor = (): TonCursor => ({ seqno: null, bestTip: -1, scannedThrough: 0 });

export function tonFollower(client: Toncenter, network: TonNetwork, opts: TonFollowOptions): ChainFollower {
  let first = 0;
  let tipTime = 0;
  const tip = async (): Promise<NodeTip> => {
    const t = await client.tip();
    first = t.first;
    tipTime = t.genUtime;
    return { height: t.seqno, hash: t.rootHash, syncing: false, network };
  };
  return {
    kind: "ton",
    node: () => client.node(),
    tip,
    async follow(stored, ctx): Promise<FollowerStep> {
      const from = (stored as TonCursor | undefined) ?? emptyTonCursor();
      const node = await tip();
      const seen = Math.max(from.bestTip, from.seqno ?? -1);
      // No block hashes are kept: a tip below what was seen is an indexer behind, never a shorter chain.
      const behind = nodeBehind(node, seen, []);
      if (behind !== null) {
        const cursor = { ...from, bestTip: seen };
        return { step: quietStep(seen, node, from.scannedThrough), tipMoved: false, cursor, position: positionOf(cursor), node, behind };
      }
      // The indexer holds blocks from `first` on.
      const start = from.seqno === null ? Math.max(first, node.height - opts.startBelow) : from.seqno + 1;
      const end = Math.min(node.height, start + opts.maxBlocks - 1);
      const read: { seqno: number; txs: V3Tx[] }[] = [];
      for (let seqno = start; seqno <= end; seqno++) read.push({ seqno, txs: await client.blockTxs(seqno) });
      // Whom to look for, read after the blocks: an invoice created before a block existed is in the list.
      const watched = new Set((await ctx.watched()).map((w) => w.matchKey));
      const blocks: ChainBlock<TonTx>[] = [];
      for (const { seqno, txs } of read) {
        const paid = txs.flatMap((t) => payment(t, watched));
        if (paid.length === 0) continue;
        blocks.push({ height: seqno, hash: `mc:${seqno}`, prevHash: "", timestamp: Math.min(...paid.map((p) => p.now)), txs: paid.map((p) => p.tx) });
      }
      const level = end >= node.height;
      // Scanned through the chain time the indexer reached, not the wall clock: toncenter indexes blocks seconds after
      // they are made, and no pool shows what it has not indexed yet. With `ctx.now`, a payment made just before
      // expiresAt, in a block not yet indexed, let the invoice expire and then counted as late: a missed payment.
      // A tx's `now` is its shard block's time, and a shard block made a moment before this masterchain block may be
      // committed by the next one: the scan time stays COMMIT_MARGIN_MS behind, so such a tx is never "after" it.
      const reached = Math.min(ctx.now, tipTime * 1000 - COMMIT_MARGIN_MS);
      const scannedThrough = level ? Math.max(from.scannedThrough, reached) : from.scannedThrough;
      const cursor: TonCursor = { seqno: read.length > 0 ? end : from.seqno, bestTip: Math.max(from.bestTip, node.height), scannedThrough };
      const step: FollowStep = { tipHeight: node.height, orphanedAbove: null, blocks, mempool: [], gone: [], scannedThrough, observedAfter: from.scannedThrough };
      return { step, tipMoved: read.length > 0, cursor, position: positionOf(cursor), node, behind: null };
    },
  };
}

/**
 * The payment a transaction is, if any: an internal message with value to a watched address that the
 * transaction did not bounce back. A credit to an undeployed account (compute skipped, `aborted`) is a
 * payment: the value stays; only a bounce phase of `ok` returned it.
 */
export function payment(t: V3Tx, watched: ReadonlySet<string>): { tx: TonTx; now: number }[] {
  const m = t.in_msg;
  if (!m || m.source === null || m.bounced === true || m.value === null) return [];
  if (t.description?.bounce?.type === "ok") return [];
  const account = parseTonAddress(t.account);
  if (!account || account.workchain !== 0 || !watched.has(account.matchKey)) return [];
  if (!/^[0-9]{1,30}$/.test(m.value)) return [];
  const value = BigInt(m.value);
  if (value === 0n) return [];
  return [{ tx: { hash: hashHex(t.hash), outputs: [{ index: 0, to: account.matchKey, value: value.toString() }] }, now: t.now }];
}

/** toncenter writes tx hashes in base64; explorers and our API use hex. */
function hashHex(hash: string): string {
  const bytes = Uint8Array.from(atob(hash.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function positionOf(cursor: TonCursor): FollowPosition {
  return { bestTip: cursor.bestTip, height: cursor.seqno, scannedThrough: cursor.scannedThrough };
}
