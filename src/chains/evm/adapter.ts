// Ethereum and BNB Smart Chain behind the ChainAdapter interface: one address per invoice on the account
// key's external chain `/0/i`, payments found by recipient in the watcher (a public lookup, as UTXO chains).

import { atomic } from "../../domain/amount";
import type { Coin } from "../../domain/coins";
import type { ChainAdapter, DerivedAddress, FoundPayment, OpenKeySet } from "../adapter";
import { keyCache } from "../key-cache";
import { deriveInvoiceAddress } from "./address";
import { parseAccountKey, type AccountKey } from "./keys";
import type { EvmTx } from "./tx";

/** What an ETH or BNB key set stores as its public keys: the account xpub as the merchant gave it. */
export interface EvmPublicKeys {
  masterPubKey: string;
}

export interface EvmAdapter extends ChainAdapter<EvmTx> {
  findPayments<T>(tx: EvmTx, keys: OpenKeySet, watched: ReadonlyMap<string, T>): FoundPayment<T>[];
}

/** `coin`'s adapter: the chain's own coin, or a token on it (which uses the chain's key set). */
export function evmAdapter(coin: Coin): EvmAdapter {
  const accountOf = keyCache<AccountKey>((keys) => keys.publicKeys.masterPubKey ?? "", parseAccountKey, "EVM account key");
  return {
    coin,
    deriveAddress(keys: OpenKeySet, index: number): DerivedAddress {
      const { address, matchKey } = deriveInvoiceAddress(accountOf(keys), index);
      return { address, matchKey };
    },
    findPayments<T>(tx: EvmTx, _keys: OpenKeySet, watched: ReadonlyMap<string, T>): FoundPayment<T>[] {
      return tx.outputs.flatMap((o) =>
        watched.has(o.to)
          ? [
              {
                outputIndex: o.index,
                outputKey: `${tx.hash}:${o.index}`,
                amount: atomic(BigInt(o.value)),
                owner: watched.get(o.to)!,
                // Any pool tx can be replaced by another with its nonce and a higher fee: 0 confirmations means 1.
                replaceable: true,
              },
            ]
          : [],
      );
    },
    outputMatchKeys: (tx: EvmTx) => tx.outputs.map((o) => o.to),
  };
}
