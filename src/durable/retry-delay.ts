// How long the chain watcher waits after a failed tick before it looks again: longer with each failure
// in a row, but never more than three poll intervals (nor a minute), so a node that answers again is
// seen within a few polls, however long it was down.

const MAX_POLL_INTERVALS = 3;
const MAX_DELAY_MS = 60_000;

export function retryDelayMs(pollMs: number, failuresInARow: number): number {
  return Math.min(MAX_DELAY_MS, pollMs * Math.min(Math.max(1, failuresInARow), MAX_POLL_INTERVALS));
}
