// The Monero payment URI (monero-project's URI scheme, what wallet2's make_uri writes), for the QR code
// of an invoice: the address, and the amount in XMR as an exact decimal.

import { formatAmount } from "../../domain/amount";

/** `monero:<address>?tx_amount=<XMR>`; without tx_amount for zero or less, so the payer types the amount. */
export function moneroUri(address: string, piconero: bigint, decimals: number): string {
  return piconero > 0n ? `monero:${address}?tx_amount=${formatAmount(piconero, decimals)}` : `monero:${address}`;
}
