// EIP-681 payment requests, for the QR code of an invoice: the chain's coin sent to an address, or a
// token's transfer(address,uint256) call. BNB Smart Chain has no scheme of its own: `ethereum:` and its chain id.

import { checksummedAddress, normaliseAddress } from "./address";

// The chain id is always written: without it a wallet pays on whatever chain it is on, and the same
// address exists on every EVM chain. Amounts are integers in atomic units, exact at any size (EIP-681
// also allows 2.014e18, which a 64-bit double would round).

/** `ethereum:<to>@<chainId>?value=<wei>`; without value for zero or less. */
export function nativeTransferUri(to: string, chainId: number, wei: bigint): string {
  const target = `ethereum:${eip55(to)}@${chainId}`;
  return wei > 0n ? `${target}?value=${wei}` : target;
}

/**
 * `ethereum:<contract>@<chainId>/transfer?address=<to>&uint256=<units>`; without uint256 for zero or less.
 * `contract` is a Token's: 40 lowercase hex digits.
 */
export function tokenTransferUri(contract: string, chainId: number, to: string, units: bigint): string {
  const call = `ethereum:${checksummedAddress(contract)}@${chainId}/transfer?address=${eip55(to)}`;
  return units > 0n ? `${call}&uint256=${units}` : call;
}

/** The EIP-55 spelling, the one a payer is shown; text that is no address stays as given, so a URI never throws. */
function eip55(text: string): string {
  const matchKey = normaliseAddress(text);
  return matchKey === null ? text : checksummedAddress(matchKey);
}
