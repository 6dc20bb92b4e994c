// How the watcher reads a chain, whatever the backend: a follower takes one bounded step from a stored
// cursor and says what to deliver. A node that serves whole blocks and its pool is followed block by block
// (followChain over a ChainSource); an explorer that answers per address is polled address by address
// (the UTXO module's Esplora follower). The watcher keeps the cursor, delivers, and only then stores it.

import type { ChainSource, NodeTip } from "./adapter";
import { emptyCursor, followChain, type ChainCursor, type FollowStep } from "./follow";

/** An address the watcher must find payments to, from the D1 index of open invoices. */
export interface WatchedAddress {
  address: string;
  /** The decoded output script (what outputs are compared with). */
  matchKey: string;
  /** When its invoice was created (ms): what was paid to it long before is not a payment to the invoice. */
  since: number;
}

export interface FollowContext {
  /** When this step started: becomes scannedThrough if the step ends level with the chain. */
  now: number;
  /** The addresses with watched invoices (read only by followers that poll per address). */
  watched(): Promise<WatchedAddress[]>;
}

/** Where the watcher stands after a step: for chain_state and /healthz. */
export interface FollowPosition {
  /** The highest tip a node showed while following. */
  bestTip: number;
  /** The highest block fully delivered; null before the first. */
  height: number | null;
  scannedThrough: number;
}

export interface FollowerStep {
  step: FollowStep;
  /** The node's tip moved (a new block or a reorg): confirmations of open payments may have changed. */
  tipMoved: boolean;
  /** The cursor to store once the step was delivered (structured-clonable). */
  cursor: unknown;
  position: FollowPosition;
  node: NodeTip;
  /** Why nothing was taken from the node (it is behind, or syncing); null when it was followed. */
  behind: string | null;
}

export interface ChainFollower {
  /** What shape its cursor has: a cursor stored by another kind (the backend was changed) is not reused. */
  readonly kind: string;
  /** The node or explorer in use now (URL without credentials), for logs. */
  node(): string;
  /** The node's tip, with the network check: what an idle watcher looks at. */
  tip(): Promise<NodeTip>;
  /** One step from `cursor` (undefined: a fresh start). The input is not changed: a failed delivery repeats the step. */
  follow(cursor: unknown, ctx: FollowContext): Promise<FollowerStep>;
}

export interface BlockFollowOptions {
  /** Blocks read per step at most: catch-up after downtime takes several steps. */
  maxBlocks: number;
  /** Recent blocks remembered for reorg detection. */
  depth: number;
}

/** A node that serves blocks and its pool, followed block by block (followChain). */
export function blockFollower(source: ChainSource, opts: BlockFollowOptions): ChainFollower {
  return {
    kind: "blocks",
    node: () => source.node(),
    tip: () => source.tip(),
    async follow(stored, ctx) {
      const from = (stored as ChainCursor | undefined) ?? emptyCursor();
      const { step, cursor, node, behind } = await followChain(source, from, { now: ctx.now, ...opts });
      return {
        step,
        tipMoved: step.blocks.length > 0 || step.orphanedAbove !== null,
        cursor,
        position: { bestTip: cursor.bestTip, height: cursor.blocks.at(-1)?.height ?? null, scannedThrough: cursor.scannedThrough },
        node,
        behind,
      };
    },
  };
}
