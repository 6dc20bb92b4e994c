// Whether a coin's watcher can be trusted right now, judged from what it recorded in chain_state: the
// one place that decides what /healthz reports per coin, `ready`, and the reason when it is not.

import type { Coin } from "./coins";
import { Failures } from "./errors";

/** What the watcher recorded (chain_state), as far as health needs it. */
export interface WatcherRecord {
  tipHeight: number | null;
  cursorHeight: number | null;
  scannedThrough: number;
  checkedAt: number | null;
  network: string | null;
  expectedNetwork: string | null;
  lastError: string | null;
}

/** One coin in /healthz. Times are ISO strings, null when there is none. */
export interface ChainHealth {
  ready: boolean;
  /** Why the coin is not ready; null when it is. */
  reason: string | null;
  /** The network the node said it serves. */
  network: string | null;
  tip: number | null;
  cursor: number | null;
  lag: number | null;
  scannedThrough: string | null;
  checkedAt: string | null;
  lastError: string | null;
}

export function chainHealth(coin: Coin, record: WatcherRecord | undefined): ChainHealth {
  const reason = notReadyBecause(coin, record);
  const tip = record?.tipHeight ?? null;
  const cursor = record?.cursorHeight ?? null;
  return {
    ready: reason === null,
    reason,
    network: record?.network ?? null,
    tip,
    cursor,
    lag: tip !== null && cursor !== null ? tip - cursor : null,
    scannedThrough: iso(record?.scannedThrough || null),
    checkedAt: iso(record?.checkedAt ?? null),
    lastError: record?.lastError ?? null,
  };
}

function notReadyBecause(coin: Coin, record: WatcherRecord | undefined): string | null {
  if (record?.expectedNetwork) return Failures.wrongNetwork(coin, record.network ?? "another network", record.expectedNetwork).message;
  if (record?.lastError) return `the last tick failed: ${record.lastError}`;
  if (!record?.checkedAt) return "the watcher has not looked at the node yet";
  return null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
