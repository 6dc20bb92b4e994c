// A Bitcoin or Litecoin transaction as the watcher hands it to user accounts: txid, transparent outputs
// (script and satoshis) and the outpoints it spends, small and structured-clonable (it crosses Durable Object RPC).

import type { ChainTx } from "../adapter";
import type { CoreTx } from "./core-rpc";

export interface UtxoOutput {
  /** vout: the output's position in the tx. */
  readonly index: number;
  /** scriptPubKey, lowercase hex: what invoices match. */
  readonly script: string;
  /** Satoshis as a decimal string: a bigint does not survive every hop to the accounts, a string does. */
  readonly value: string;
}

export interface UtxoTx extends ChainTx {
  /** The txid. */
  readonly hash: string;
  /** A miner reward: never a payment (its outputs mature only after 100 blocks). */
  readonly coinbase: boolean;
  /** Transparent outputs; Litecoin's MWEB outputs carry no script or value and are left out. */
  readonly outputs: readonly UtxoOutput[];
  /** `txid:vout` of every transparent input: how a replacement or double spend relates to what it conflicts with. */
  readonly spends: readonly string[];
  /**
   * A pool tx that may still be replaced before it is mined: it signals BIP125 (itself or through an
   * unconfirmed ancestor), its node replaces any tx (full RBF), or the node does not say. False once mined.
   */
  readonly replaceable: boolean;
}

/**
 * Whether a pool tx may still be replaced: its mempool entry's BIP125 flag (own or inherited signal), unless
 * the node replaces any tx (full RBF) or does not say (newer Core drops the flag along with opt-in-only RBF).
 */
export function replaceableInPool(bip125Replaceable: boolean | null, fullRbf: boolean | null): boolean {
  return fullRbf === true || bip125Replaceable !== false;
}

/** The compact form of a tx the node decoded (getblock verbosity 2, getrawtransaction verbose). */
export function utxoTxOf(tx: CoreTx, replaceable: boolean): UtxoTx {
  return {
    hash: tx.txid,
    coinbase: tx.coinbase,
    outputs: tx.outputs.map((o) => ({ index: o.n, script: o.script, value: o.satoshis.toString() })),
    spends: tx.spends.map((s) => `${s.txid}:${s.vout}`),
    replaceable,
  };
}
