// Monero addresses: the base58 text a payer sees, to and from its network, kind and public keys.
// Layout: varint prefix ‖ public spend key ‖ public view key [‖ payment id] ‖ keccak checksum (4 B).

import { base58xmr } from "@scure/base";
import { concatBytes } from "@noble/hashes/utils.js";
import { keccak256, varint } from "./keys";

export type XmrNetwork = "mainnet" | "stagenet" | "testnet";
export type XmrAddressKind = "standard" | "integrated" | "subaddress";

/** Address prefixes from Monero's cryptonote_config.h; regtest uses the mainnet ones. */
const PREFIXES: Readonly<Record<XmrNetwork, Readonly<Record<XmrAddressKind, number>>>> = {
  mainnet: { standard: 18, integrated: 19, subaddress: 42 },
  testnet: { standard: 53, integrated: 54, subaddress: 63 },
  stagenet: { standard: 24, integrated: 25, subaddress: 36 },
};

const BY_PREFIX = new Map<number, { network: XmrNetwork; kind: XmrAddressKind }>(
  Object.entries(PREFIXES).flatMap(([network, kinds]) =>
    Object.entries(kinds).map(([kind, prefix]) => [prefix, { network, kind }] as [number, { network: XmrNetwork; kind: XmrAddressKind }]),
  ),
);

const CHECKSUM_BYTES = 4;
const PAYMENT_ID_BYTES = 8;

const checksum = (data: Uint8Array): Uint8Array => keccak256(data).subarray(0, CHECKSUM_BYTES);

/** Encodes a standard (primary) address or a subaddress; keys are 32-byte compressed points. */
export function encodeAddress(
  network: XmrNetwork,
  kind: "standard" | "subaddress",
  spendKey: Uint8Array,
  viewKey: Uint8Array,
): string {
  if (spendKey.length !== 32 || viewKey.length !== 32) throw new RangeError("encodeAddress: keys must be 32 bytes");
  const data = concatBytes(varint(PREFIXES[network][kind]), spendKey, viewKey);
  return base58xmr.encode(concatBytes(data, checksum(data)));
}

/**
 * Parses any Monero address (standard, integrated or subaddress) with its checksum verified;
 * null for anything else. The keys are only sliced out, not checked to be curve points: run them
 * through parsePublicSpendKey where that matters.
 */
export function decodeAddress(
  address: string,
): { network: XmrNetwork; kind: XmrAddressKind; spendKey: Uint8Array; viewKey: Uint8Array } | null {
  let bytes: Uint8Array;
  try {
    bytes = base58xmr.decode(address);
  } catch {
    return null;
  }
  // Every known prefix is below 0x80, so its varint is exactly one byte.
  const type = BY_PREFIX.get(bytes[0] ?? 0x80);
  if (type === undefined) return null;
  const bodyLength = 1 + 64 + (type.kind === "integrated" ? PAYMENT_ID_BYTES : 0);
  if (bytes.length !== bodyLength + CHECKSUM_BYTES) return null;
  const body = bytes.subarray(0, bodyLength);
  const expected = checksum(body);
  for (let i = 0; i < CHECKSUM_BYTES; i++) if (bytes[bodyLength + i] !== expected[i]) return null;
  return { ...type, spendKey: bytes.slice(1, 33), viewKey: bytes.slice(33, 65) };
}
