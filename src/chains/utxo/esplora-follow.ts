// Following Bitcoin or Litecoin through an Esplora explorer, which answers per address rather than per
// block: each step lists the watched addresses least recently listed first, within a budget of requests,
// and re-checks what it delivered before: blocks for reorgs (only when the tip moved), pool txs that left
// an address's listing. The scan time moves only when every watched address was listed since it.

import type { ChainBlock, NodeTip } from "../adapter";
import { nodeBehind, quietStep, type FollowStep } from "../follow";
import type { ChainFollower, FollowerStep, FollowPosition, WatchedAddress } from "../follower";
import type { EsploraClient, EsploraStatus, EsploraTx } from "./esplora";
import { EsploraError } from "./esplora";
import type { UtxoNetwork } from "./networks";
import type { UtxoTx } from "./tx";

/** A delivered tx the follower keeps an eye on while any address it pays is watched. */
interface TrackedTx {
  /** The tx as delivered: only the outputs that paid watched addresses. */
  tx: UtxoTx;
  /** The block it was delivered in; null while in the pool. */
  block: { height: number; hash: string; time: number } | null;
}

export interface EsploraCursor {
  /** The tip at the last step that followed the explorer; null before the first. */
  tip: { height: number; hash: string } | null;
  /** The highest tip the explorer showed; a lower one later is an explorer behind (or another instance). */
  bestTip: number;
  scannedThrough: number;
  /** Per watched address, when its last listing started (ms). */
  listedAt: Record<string, number>;
  /** Per txid, what was delivered of it. */
  tracked: Record<string, TrackedTx>;
}

export interface EsploraFollowOptions {
  /** Requests per step: listings stop once it is spent (the tip, reorg and vanished-tx checks always run). */
  budget: number;
  /** How deep below the tip a delivered block is re-checked for reorgs. */
  depth: number;
}

/** Confirmed txs older than this before their invoice was created are not payments to it (address reuse). */
export const REUSE_MARGIN_MS = 24 * 3600_000;
/** Esplora's first page of an address: up to 50 pool txs, then 25 confirmed; later pages 25 confirmed. */
const CONFIRMED_PAGE = 25;

export const emptyEsploraCursor = (): EsploraCursor => ({ tip: null, bestTip: -1, scannedThrough: 0, listedAt: {}, tracked: {} });

export function esploraFollower(client: EsploraClient, network: UtxoNetwork, opts: EsploraFollowOptions): ChainFollower {
  const tip = async (): Promise<NodeTip> => {
    const height = await client.tipHeight();
    const hash = await client.blockHashAt(height);
    // The tip moved down between the two calls (a reorg, or another instance answered): look again next time.
    if (hash === null) throw new EsploraError(`${client.node()}: no block at the tip height ${height} it just gave`);
    // The genesis check passed before the first answer was taken (createEsploraClient).
    return { height, hash, syncing: false, network: network.coreChain };
  };
  return {
    kind: "esplora",
    node: () => client.node(),
    tip,
    async follow(stored, ctx) {
      const from = (stored as EsploraCursor | undefined) ?? emptyEsploraCursor();
      const watched = await ctx.watched();
      const before = client.requestsMade();
      const node = await tip();
      // The budget is the whole step's, the tip's requests included.
      return followAddresses(client, node, from, watched, ctx.now, { ...opts, budget: opts.budget - (client.requestsMade() - before) });
    },
  };
}

/** One step; the input cursor is not changed. */
export async function followAddresses(
  client: EsploraClient,
  node: NodeTip,
  from: EsploraCursor,
  watched: readonly WatchedAddress[],
  now: number,
  opts: EsploraFollowOptions,
): Promise<FollowerStep> {
  const seen = Math.max(from.bestTip, from.tip?.height ?? -1);
  const known = Object.values(from.tracked).flatMap((t) => (t.block ? [{ height: t.block.height, hash: t.block.hash, txs: [] }] : []));
  const behind = nodeBehind(node, seen, from.tip ? [...known, { ...from.tip, txs: [] }] : known);
  if (behind !== null) {
    const cursor: EsploraCursor = { ...from, bestTip: seen };
    return { step: quietStep(seen, node, from.scannedThrough), tipMoved: false, cursor, position: positionOf(cursor), node, behind };
  }

  const startedWith = client.requestsMade();
  const spent = () => client.requestsMade() - startedWith;
  const sinceByScript = new Map(watched.map((w) => [w.matchKey, w.since]));
  const watchedScripts = new Set(sinceByScript.keys());
  // A tx is forgotten once none of the addresses it paid is watched.
  const tracked = new Map<string, TrackedTx>();
  for (const [txid, t] of Object.entries(from.tracked)) if (t.tx.outputs.some((o) => watchedScripts.has(o.script))) tracked.set(txid, t);
  const tipMoved = from.tip !== null && (from.tip.hash !== node.hash || from.tip.height !== node.height);

  /** What this step learnt of each tx: its status now, and the tx when it came in a listing. */
  const news = new Map<string, { status: EsploraStatus | null; tx?: EsploraTx }>();
  let orphanedAbove: number | null = null;
  const orphan = (height: number) => {
    orphanedAbove = Math.min(orphanedAbove ?? height - 1, height - 1);
  };

  // 1. Reorgs: only a moved tip can have orphaned a block. Every kept block is on the chain the previous
  // step saw, so the walk stops at the highest one still on the best chain: its ancestors are too.
  if (tipMoved) {
    const blocks = [...new Map([...tracked.values()].flatMap((t) => (t.block && node.height - t.block.height < opts.depth ? [[t.block.hash, t.block.height] as const] : []))).entries()];
    blocks.sort((a, b) => b[1] - a[1]);
    for (const [hash, height] of blocks) {
      if (await client.inBestChain(hash)) break;
      orphan(height);
    }
  }
  // 2. Listings. The addresses of txs in orphaned blocks first, whatever the budget: where their txs are
  // now is part of this step. Then the least recently listed, while the budget lasts.
  const suspects = new Set<string>();
  if (orphanedAbove !== null) for (const [txid, t] of tracked) if (t.block && t.block.height > orphanedAbove) suspects.add(txid);
  const urgent = new Set([...suspects].flatMap((txid) => tracked.get(txid)!.tx.outputs.map((o) => o.script)));
  const listedAt: Record<string, number> = {};
  for (const w of watched) if (Object.hasOwn(from.listedAt, w.address)) listedAt[w.address] = from.listedAt[w.address]!;
  const rank = (w: WatchedAddress) => (urgent.has(w.matchKey) ? -2 : (listedAt[w.address] ?? -1));
  const order = [...watched].sort((a, b) => rank(a) - rank(b) || (a.address < b.address ? -1 : 1));
  for (const w of order) {
    if (!urgent.has(w.matchKey) && spent() >= opts.budget) break;
    for (const tx of await listAddress(client, w.address, tracked, opts.budget - spent())) news.set(tx.txid, { status: tx.status, tx });
    // A tx in the pool (or in an orphaned block) that paid this address and is not in its listing left the
    // pool, or was mined meanwhile: the tx itself says which. Unconfirmed and not listed is not in the
    // pool either (electrs still serves a tx of an orphaned block that no pool holds).
    for (const [txid, t] of tracked) {
      if (news.has(txid) || (t.block !== null && !suspects.has(txid)) || !t.tx.outputs.some((o) => o.script === w.matchKey)) continue;
      const tx = await client.tx(txid);
      news.set(txid, tx?.status.confirmed ? { status: tx.status, tx } : { status: null });
    }
    listedAt[w.address] = now;
  }

  // 3. Decide what to deliver.
  const blocks = new Map<string, ChainBlock<UtxoTx>>();
  const mempool: UtxoTx[] = [];
  const gone: string[] = [];
  const inBlock = (tx: UtxoTx, at: { height: number; hash: string; time: number }) => {
    const block = blocks.get(at.hash) ?? { height: at.height, hash: at.hash, prevHash: "", timestamp: at.time, txs: [] };
    block.txs.push({ ...tx, replaceable: false });
    blocks.set(at.hash, block);
    tracked.set(tx.hash, { tx: { ...tx, replaceable: false }, block: at });
  };
  const inPool = (tx: UtxoTx) => {
    // Esplora does not say what its node replaces, nor whether an unconfirmed parent signals: a pool tx
    // may always be replaced, so 0 confirmations means 1 for it.
    mempool.push({ ...tx, replaceable: true });
    tracked.set(tx.hash, { tx: { ...tx, replaceable: true }, block: null });
  };
  for (const [txid, { status, tx }] of news) {
    const before = tracked.get(txid);
    if (status === null) {
      // Unknown to the explorer: dropped, replaced or double spent.
      if (before) {
        if (before.block) orphan(before.block.height);
        gone.push(txid);
        tracked.delete(txid);
      }
      continue;
    }
    const utxoTx = before?.tx ?? (tx ? compact(tx, watchedScripts) : null);
    if (!utxoTx || utxoTx.coinbase || utxoTx.outputs.length === 0) continue;
    if (!before) {
      // A first sight. A confirmed tx long before the invoice existed paid the address for something else.
      const since = Math.min(...utxoTx.outputs.map((o) => sinceByScript.get(o.script) ?? 0));
      if (status.confirmed && status.time * 1000 < since - REUSE_MARGIN_MS) continue;
      if (status.confirmed) inBlock(utxoTx, status);
      else inPool(utxoTx);
      continue;
    }
    if (!status.confirmed) {
      if (before.block) {
        orphan(before.block.height);
        inPool(utxoTx);
      }
      continue;
    }
    if (before.block?.hash === status.hash) continue;
    if (before.block) orphan(before.block.height);
    inBlock(utxoTx, status);
  }
  // Payments above a fork go back to the pool in every account: what is still on the chain is delivered again.
  if (orphanedAbove !== null) {
    const delivered = new Set([...blocks.values()].flatMap((b) => b.txs.map((t) => t.hash)));
    for (const t of [...tracked.values()]) if (t.block && t.block.height > orphanedAbove && !delivered.has(t.tx.hash)) inBlock(t.tx, t.block);
  }

  // 4. The scan time: every watched address listed since then.
  const allListed = watched.every((w) => Object.hasOwn(listedAt, w.address));
  const oldest = Math.min(now, ...Object.values(listedAt));
  const scannedThrough = allListed ? Math.max(from.scannedThrough, oldest) : from.scannedThrough;
  const cursor: EsploraCursor = {
    tip: { height: node.height, hash: node.hash },
    bestTip: node.height,
    scannedThrough,
    listedAt,
    tracked: Object.fromEntries(tracked),
  };
  const step: FollowStep = {
    tipHeight: node.height,
    orphanedAbove,
    blocks: [...blocks.values()].sort((a, b) => a.height - b.height),
    mempool,
    gone,
    scannedThrough,
    observedAfter: from.scannedThrough,
  };
  return { step, tipMoved, cursor, position: positionOf(cursor), node, behind: null };
}

/**
 * An address's txs: the first page, then older confirmed pages while a whole page was new to us (and the
 * budget lasts); what was tracked before needs no second look. More than 50 pool txs to one invoice
 * address are not all seen at once (Esplora does not page the pool).
 */
async function listAddress(client: EsploraClient, address: string, tracked: ReadonlyMap<string, TrackedTx>, budget: number): Promise<EsploraTx[]> {
  const all = await client.addressTxs(address);
  let page = all.filter((t) => t.status.confirmed);
  let left = budget - 1;
  while (left > 0 && page.length >= CONFIRMED_PAGE && !tracked.has(page.at(-1)!.txid)) {
    page = await client.addressTxs(address, page.at(-1)!.txid);
    all.push(...page);
    left -= 1;
  }
  return all;
}

/** The tx as accounts take it, with only the outputs that pay watched addresses. */
function compact(tx: EsploraTx, watched: ReadonlySet<string>): UtxoTx {
  return {
    hash: tx.txid,
    coinbase: tx.coinbase,
    outputs: tx.outputs.filter((o) => watched.has(o.script)).map((o) => ({ index: o.index, script: o.script, value: o.satoshis.toString() })),
    spends: tx.spends,
    replaceable: !tx.status.confirmed,
  };
}

function positionOf(cursor: EsploraCursor): FollowPosition {
  return { bestTip: cursor.bestTip, height: cursor.tip?.height ?? null, scannedThrough: cursor.scannedThrough };
}
