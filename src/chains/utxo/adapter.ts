// Bitcoin and Litecoin behind the ChainAdapter interface: one address per invoice on the account key's
// external chain `/0/i`, and payments found by output script, the public lookup UTXO chains allow.

import { atomic } from "../../domain/amount";
import { Coin } from "../../domain/coins";
import type { ChainAdapter, DerivedAddress, FoundPayment, OpenKeySet } from "../adapter";
import { keyCache } from "../key-cache";
import { deriveInvoiceAddress } from "./address";
import { parseAccountKey, type AccountKey } from "./keys";
import { utxoNetwork, type UtxoNetwork, type UtxoNetworkName } from "./networks";
import type { UtxoTx } from "./tx";

export type UtxoChainCoin = Coin.BTC | Coin.LTC;

/**
 * What a BTC or LTC key set stores as its public keys: the canonical receive descriptor of the account
 * key (keys.ts), e.g. `wpkh([73c5da0a/84'/0'/0']xpub…/0/*)#…`. It names the script as well as the key,
 * so a zpub and an xpub of the same node are told apart, and Core's deriveaddresses can check it.
 */
export interface UtxoPublicKeys {
  descriptor: string;
}

/** A payment to an invoice output; `replaceable` as the tx's (false once mined). */
export interface UtxoPayment<T> extends FoundPayment<T> {
  replaceable: boolean;
}

export interface UtxoAdapter extends ChainAdapter<UtxoTx> {
  findPayments<T>(tx: UtxoTx, keys: OpenKeySet, watched: ReadonlyMap<string, T>): UtxoPayment<T>[];
}

/** The network parameters of `coin`; throws for a pair that does not exist (Litecoin has no signet). */
export function chainNetwork(coin: UtxoChainCoin, network: UtxoNetworkName): UtxoNetwork {
  const params = utxoNetwork(coin === Coin.BTC ? "BTC" : "LTC", network);
  if (!params) throw new TypeError(`no ${Coin[coin]} network named ${network}`);
  return params;
}

/**
 * What UpdateCryptoKeys stores for a merchant's account key (any form keys.ts accepts); null when it is
 * not a valid public key of this network, to be refused with InvalidArgument "invalid BTC master public key".
 */
export function keysFromRequest(
  coin: UtxoChainCoin,
  network: UtxoNetworkName,
  masterPubKey: string,
): { fingerprint: string; publicKeys: UtxoPublicKeys; secret: null } | null {
  const parsed = parseAccountKey(masterPubKey, chainNetwork(coin, network));
  if (!parsed.ok) return null;
  return { fingerprint: parsed.key.fingerprint, publicKeys: { descriptor: parsed.key.descriptor }, secret: null };
}

export function utxoAdapter(coin: UtxoChainCoin, network: UtxoNetworkName): UtxoAdapter {
  const params = chainNetwork(coin, network);
  const accountOf = keyCache<AccountKey>((keys) => keys.publicKeys.descriptor ?? "", (text) => parseAccountKey(text, params), `${Coin[coin]} descriptor`);

  return {
    coin,
    deriveAddress(keys: OpenKeySet, index: number): DerivedAddress {
      const { address, matchKey } = deriveInvoiceAddress(accountOf(keys), index);
      return { address, matchKey };
    },
    findPayments<T>(tx: UtxoTx, _keys: OpenKeySet, watched: ReadonlyMap<string, T>): UtxoPayment<T>[] {
      // A miner reward matures after 100 blocks and may vanish in a reorg: not a way to pay an invoice.
      if (tx.coinbase) return [];
      const found: UtxoPayment<T>[] = [];
      for (const output of tx.outputs) {
        if (!watched.has(output.script)) continue;
        const owner = watched.get(output.script)!;
        found.push({
          outputIndex: output.index,
          outputKey: `${tx.hash}:${output.index}`,
          amount: atomic(BigInt(output.value)),
          owner,
          replaceable: tx.replaceable,
        });
      }
      return found;
    },
    outputMatchKeys(tx: UtxoTx): string[] {
      return tx.coinbase ? [] : tx.outputs.map((o) => o.script);
    },
  };
}
