// The TON transfer link (ton://transfer, as Tonkeeper and TON Connect wallets open it), for the QR code
// of an invoice: the address as shown to the payer (url-safe base64, so it sits in the path as is), and the amount in nanotons.

/** `ton://transfer/<address>?amount=<nanotons>`; without amount for zero or less. */
export function tonTransferUri(address: string, nanotons: bigint): string {
  return nanotons > 0n ? `ton://transfer/${address}?amount=${nanotons}` : `ton://transfer/${address}`;
}
