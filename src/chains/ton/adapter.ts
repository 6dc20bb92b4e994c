// TON behind the ChainAdapter interface: one wallet contract address per invoice for the merchant's
// public key, payments found by recipient in the watcher.

import { atomic } from "../../domain/amount";
import { Coin } from "../../domain/coins";
import type { ChainAdapter, DerivedAddress, FoundPayment, OpenKeySet } from "../adapter";
import { keyCache } from "../key-cache";
import { parsePublicKey } from "./keys";
import type { TonNetwork } from "./settings";
import type { TonTx } from "./tx";
import { deriveInvoiceWallet } from "./wallet";

export interface TonAdapter extends ChainAdapter<TonTx> {
  findPayments<T>(tx: TonTx, keys: OpenKeySet, watched: ReadonlyMap<string, T>): FoundPayment<T>[];
}

export function tonAdapter(network: TonNetwork): TonAdapter {
  const keyOf = keyCache((keys) => keys.publicKeys.publicKey ?? "", parsePublicKey, "TON public key");
  return {
    coin: Coin.TON,
    deriveAddress(keys: OpenKeySet, index: number): DerivedAddress {
      const wallet = deriveInvoiceWallet(keyOf(keys).publicKey, index, network);
      return { address: wallet.friendly, matchKey: wallet.matchKey };
    },
    findPayments<T>(tx: TonTx, _keys: OpenKeySet, watched: ReadonlyMap<string, T>): FoundPayment<T>[] {
      return tx.outputs.flatMap((o) =>
        watched.has(o.to) ? [{ outputIndex: o.index, outputKey: `${tx.hash}:${o.index}`, amount: atomic(BigInt(o.value)), owner: watched.get(o.to)! }] : [],
      );
    },
    outputMatchKeys: (tx: TonTx) => tx.outputs.map((o) => o.to),
  };
}
