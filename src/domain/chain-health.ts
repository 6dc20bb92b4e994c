// Whether a coin's watcher can be trusted right now, judged from what it recorded in chain_state and
// what it is doing: the one place that decides what /healthz reports per coin, `ready`, and why not.

import type { Coin } from "./coins";
import { Failures } from "./errors";

/** Three poll intervals without a complete scan while invoices are watched: the watcher is stuck. */
export const STALE_AFTER_POLLS = 3;
/** A node call pending longer than one request may take (5 s) is being retried: the node does not answer. */
export const NODE_WAIT_LIMIT_MS = 5_000;

/** What the watcher recorded (chain_state), as far as health needs it. */
export interface WatcherRecord {
  tipHeight: number | null;
  bestTipHeight: number | null;
  cursorHeight: number | null;
  scannedThrough: number;
  checkedAt: number | null;
  network: string | null;
  expectedNetwork: string | null;
  nodeBehind: string | null;
  lastError: string | null;
  /** JSON of what the node lets the watcher see beyond blocks; null when its chain has nothing to say. */
  features?: string | null;
}

export interface HealthContext {
  now: number;
  pollMs: number;
  /** How far behind the clock the scan time runs when all is well (a backend's commit margin); 0 for most. */
  scanLagMs?: number;
  /** Whether invoices of the coin are watched (a stale scan matters only then). */
  watching: boolean;
  /** Start of the node call the watcher is waiting on; null when none. */
  waitingSince: number | null;
  /** Accounts a scan shard still owes batches, and the earliest time held back; absent: none. */
  held?: { accounts: number; since: number } | null;
}

/** One coin in /healthz. Times are ISO strings, null when there is none. */
export interface ChainHealth {
  ready: boolean;
  /** Why the coin is not ready; null when it is. */
  reason: string | null;
  /** The network the node said it serves. */
  network: string | null;
  /** The node's tip at its latest answer. */
  tip: number | null;
  /** The highest tip seen while following. */
  bestTip: number | null;
  cursor: number | null;
  /** Blocks between the best tip seen and the cursor. */
  lag: number | null;
  scannedThrough: string | null;
  checkedAt: string | null;
  waitingSince: string | null;
  lastError: string | null;
  /**
   * Accounts a scan shard still owes batches to (they failed or did not fit; retried on their own),
   * and since when their expiry is held. The coin stays ready: the other accounts move on.
   */
  heldAccounts: number;
  heldSince: string | null;
  /** What the node lets the watcher see beyond blocks (an EVM node: `pool`, `internalTransfers`); absent when its chain has nothing to say. */
  features?: Record<string, unknown>;
}

export function chainHealth(coin: Coin, record: WatcherRecord | undefined, at: HealthContext): ChainHealth {
  const reason = notReadyBecause(coin, record, at);
  const bestTip = record?.bestTipHeight ?? null;
  const cursor = record?.cursorHeight ?? null;
  return {
    ready: reason === null,
    reason,
    network: record?.network ?? null,
    tip: record?.tipHeight ?? null,
    bestTip,
    cursor,
    lag: bestTip !== null && cursor !== null ? bestTip - cursor : null,
    scannedThrough: iso(record?.scannedThrough || null),
    checkedAt: iso(record?.checkedAt ?? null),
    waitingSince: iso(at.waitingSince),
    lastError: record?.lastError ?? null,
    heldAccounts: at.held?.accounts ?? 0,
    heldSince: iso(at.held?.since ?? null),
    ...(record?.features ? { features: JSON.parse(record.features) as Record<string, unknown> } : {}),
  };
}

function notReadyBecause(coin: Coin, record: WatcherRecord | undefined, at: HealthContext): string | null {
  if (record?.expectedNetwork) return Failures.wrongNetwork(coin, record.network ?? "another network", record.expectedNetwork).message;
  if (at.waitingSince !== null && at.now - at.waitingSince > NODE_WAIT_LIMIT_MS) return `waiting on the node since ${iso(at.waitingSince)}`;
  if (record?.lastError) return `the last tick failed: ${record.lastError}`;
  if (!record?.checkedAt) return "the watcher has not looked at the node yet";
  if (record.nodeBehind) return record.nodeBehind;
  if (at.watching && at.now - record.scannedThrough > STALE_AFTER_POLLS * at.pollMs + (at.scanLagMs ?? 0)) {
    return record.scannedThrough === 0
      ? "the chain has not been scanned through yet"
      : `the chain was last scanned through ${iso(record.scannedThrough)}, more than ${STALE_AFTER_POLLS} poll intervals ago`;
  }
  return null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
