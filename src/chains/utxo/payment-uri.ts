// BIP21 payment URIs for Bitcoin and Litecoin, for the QR code of an invoice: the coin's scheme, the
// address as given, and the amount in whole coins as an exact decimal.

import { formatAmount } from "../../domain/amount";

/**
 * `<scheme>:<address>?amount=<coins>`; without amount for zero or less. The scheme is the coin's on every
 * network (Core writes `bitcoin:` for a testnet address too): the address itself tells the networks apart.
 */
export function bip21Uri(scheme: string, address: string, satoshis: bigint, decimals: number): string {
  return satoshis > 0n ? `${scheme}:${address}?amount=${formatAmount(satoshis, decimals)}` : `${scheme}:${address}`;
}
