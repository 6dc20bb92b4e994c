// An EVM transaction as the watcher hands it to user accounts: only what pays watched addresses.

import type { ChainTx } from "../adapter";

/** One payment inside a tx: the tx's own value, an internal transfer, or a token's Transfer logs to one address. */
export interface EvmOutput {
  /**
   * Unique within the tx for its coin and stable across nodes, the pool and re-inclusion: 0 for the
   * tx's own value, the call-tree position of an internal transfer, a number of the recipient for a
   * token (its Transfer logs to one address are summed). payoutIndex() shifts it when a tx was seen
   * paying differently before (see follow.ts).
   */
  index: number;
  /** The payee's matchKey (40 lowercase hex digits). */
  to: string;
  /** Atomic units (wei, token base units), decimal. */
  value: string;
}

export interface EvmTx extends ChainTx {
  readonly hash: string;
  readonly outputs: EvmOutput[];
}

/** The token output index of a recipient: its first 48 bits, a safe integer no two recipients of one tx share in practice. */
export function recipientIndex(to: string): number {
  return Number.parseInt(to.slice(0, 12), 16);
}
