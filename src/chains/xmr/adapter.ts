// Monero behind the ChainAdapter interface: one subaddress (0, i) per invoice, and view-key
// scanning of the watcher's compact transactions against the user's pending subaddresses.

import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { atomic } from "../../domain/amount";
import { Coin } from "../../domain/coins";
import type { ChainAdapter, DerivedAddress, FoundPayment, KeysToScan, OpenKeySet } from "../adapter";
import type { XmrNetwork } from "./address";
import { scanTransaction, scanTransactionForKeys, type OwnedOutput } from "./scan";
import { deriveSubaddress } from "./subaddress";
import type { ScanTx } from "./tx";

export function xmrAdapter(network: XmrNetwork): ChainAdapter<ScanTx> {
  // Decoding the view key per tx would show in small scans; keyed by the secret, so a key set
  // re-registered with another view key never uses a stale one.
  const viewKeys = new Map<string, Uint8Array>();
  const viewKeyOf = (keys: OpenKeySet): Uint8Array => {
    if (!keys.secret) throw new Error(`XMR key set ${keys.id} has no private view key`);
    let key = viewKeys.get(keys.secret);
    if (!key) {
      key = hexToBytes(keys.secret);
      viewKeys.set(keys.secret, key);
    }
    return key;
  };

  return {
    coin: Coin.XMR,
    deriveAddress(keys: OpenKeySet, index: number): DerivedAddress {
      const publicSpendKey = hexToBytes(keys.publicKeys.pubSpendKey ?? "");
      const sub = deriveSubaddress({ privateViewKey: viewKeyOf(keys), publicSpendKey }, 0, index, network);
      return { address: sub.address, matchKey: bytesToHex(sub.spendKey) };
    },
    findPayments<T>(tx: ScanTx, keys: OpenKeySet, watched: ReadonlyMap<string, T>): FoundPayment<T>[] {
      // A miner reward is locked for 60 blocks: not a way to pay an invoice.
      if (tx.coinbase) return [];
      return scanTransaction(tx, viewKeyOf(keys), watched).map(found);
    },
    findPaymentsForKeys<T>(tx: ScanTx, scans: readonly KeysToScan<T>[]): FoundPayment<T>[][] {
      if (tx.coinbase) return scans.map(() => []);
      const results = scanTransactionForKeys(tx, scans.map((s) => ({ privateViewKey: viewKeyOf(s.keys), spendKeys: s.watched })));
      return results.map((outputs) => outputs.map(found));
    },
  };
}

function found<T>(o: OwnedOutput<T>): FoundPayment<T> {
  return { outputIndex: o.outputIndex, outputKey: o.outputKey, amount: atomic(o.amount), owner: o.owner };
}
