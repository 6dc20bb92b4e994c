// A TON transaction as the watcher hands it to user accounts: the payment its incoming message made.

import type { ChainTx } from "../adapter";

export interface TonOutput {
  /** 0: a transaction has one incoming message. */
  index: number;
  /** The invoice wallet's matchKey (64 lowercase hex of its account id, workchain 0). */
  to: string;
  /** Nanotons, decimal. */
  value: string;
}

export interface TonTx extends ChainTx {
  /** Hex of the transaction hash. */
  readonly hash: string;
  readonly outputs: TonOutput[];
}
