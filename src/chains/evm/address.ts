// Invoice addresses of an EVM account key, and address text -> the form payments are matched on.
// One 20-byte address has several spellings (lowercase, EIP-55, uppercase); matching uses lowercase hex only.

import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { AccountKey } from "./keys";

export interface DerivedAddress {
  /** The EIP-55 checksummed spelling, the one a payer is shown. */
  address: string;
  /** The address as 40 lowercase hex digits without 0x: what the watcher compares `to` fields and log topics with. */
  matchKey: string;
  /** The derived public key (33-byte compressed). */
  publicKey: Uint8Array;
}

/** Last non-hardened index: an xpub cannot derive beyond it. */
export const MAX_ADDRESS_INDEX = 0x7fffffff;

/** The address of invoice `index`: the account's external chain, `/0/index`, as MetaMask and ethers number them. */
export function deriveInvoiceAddress(key: AccountKey, index: number): DerivedAddress {
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_ADDRESS_INDEX) {
    throw new RangeError(`deriveInvoiceAddress: index must be an integer in 0..${MAX_ADDRESS_INDEX}, got ${index}`);
  }
  const publicKey = key.account.deriveChild(0).deriveChild(index).publicKey!;
  const matchKey = bytesToHex(addressOfPublicKey(publicKey));
  return { address: checksummedAddress(matchKey), matchKey, publicKey };
}

const ADDRESS_BYTES = 20;
const KECCAK_BYTES = 32;

/** The 20-byte account of a secp256k1 public key (either form): the last 20 bytes of keccak-256 of its X ‖ Y. */
export function addressOfPublicKey(publicKey: Uint8Array): Uint8Array {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  return keccak_256(uncompressed.subarray(1)).subarray(KECCAK_BYTES - ADDRESS_BYTES);
}

/**
 * EIP-55: `0x` and the hex digits, each letter upper-cased where the matching nibble of keccak-256 of the
 * lowercase hex text is 8 or more. `matchKey` is 40 lowercase hex digits without 0x.
 */
export function checksummedAddress(matchKey: string): string {
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(matchKey)));
  let out = "0x";
  for (let i = 0; i < matchKey.length; i++) out += parseInt(hash[i]!, 16) >= 8 ? matchKey[i]!.toUpperCase() : matchKey[i]!;
  return out;
}

const ADDRESS_TEXT = /^0x[0-9a-fA-F]{40}$/;
const SINGLE_CASE = /^0x(?:[0-9a-f]{40}|[0-9A-F]{40})$/;

/**
 * The matchKey of an address text, or null. All-lowercase and all-uppercase carry no checksum and are
 * taken as written; mixed case is an EIP-55 checksum and must be the right one, so a mistyped digit is
 * caught rather than paid to.
 */
export function normaliseAddress(text: string): string | null {
  if (typeof text !== "string" || !ADDRESS_TEXT.test(text)) return null;
  const matchKey = text.slice(2).toLowerCase();
  if (SINGLE_CASE.test(text)) return matchKey;
  return checksummedAddress(matchKey) === text ? matchKey : null;
}

/** Whether `text` is an address as normaliseAddress accepts it. */
export function isAddress(text: string): boolean {
  return normaliseAddress(text) !== null;
}
