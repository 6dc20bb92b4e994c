// Since when the chain watcher has been waiting on its node: the start of the oldest node call that has
// not returned. /healthz shows it, so a tick hanging on a node that does not answer is visible at once,
// before the call runs out of time.

import type { ChainSource, ChainTx } from "../chains/adapter";

export class NodeWait {
  private readonly pending = new Map<number, number>();
  private serial = 0;

  /** Node calls made so far (each source call or explorer request counts once). */
  calls = 0;

  /** Start of the oldest pending node call; null when none is pending. */
  get since(): number | null {
    let oldest: number | null = null;
    for (const started of this.pending.values()) if (oldest === null || started < oldest) oldest = started;
    return oldest;
  }

  /** Runs a node call, timed. */
  async time<R>(call: () => Promise<R>): Promise<R> {
    const id = ++this.serial;
    this.calls += 1;
    this.pending.set(id, Date.now());
    try {
      return await call();
    } finally {
      this.pending.delete(id);
    }
  }

  /** The source, with every call timed. */
  watch<Tx extends ChainTx>(source: ChainSource<Tx>): ChainSource<Tx> {
    const timed =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> =>
        this.time(() => call(...args));
    return {
      tip: timed((atLeast?: number) => source.tip(atLeast)),
      block: timed((height: number) => source.block(height)),
      blockHash: timed((height: number) => source.blockHash(height)),
      poolHashes: timed(() => source.poolHashes()),
      poolTxs: timed((hashes: string[]) => source.poolTxs(hashes)),
      txStatus: timed((hashes: string[]) => source.txStatus(hashes)),
      node: () => source.node(),
    };
  }
}
