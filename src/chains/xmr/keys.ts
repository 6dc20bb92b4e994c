// Monero key primitives: untrusted key hex parsed once, hash-to-scalar (Hs), view tags.
// The fast curve arithmetic scanning uses lives in curve.ts.

import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, concatBytes, hexToBytes } from "@noble/hashes/utils.js";

export { bytesToHex, hexToBytes };

/** The ed25519 group Monero uses; noble's points, for everything outside the scanning hot path. */
export const Point = ed25519.Point;
/** Order l of the prime subgroup: every Monero secret scalar is reduced below it. */
export const CURVE_ORDER = Point.Fn.ORDER;

const HEX_KEY = /^[0-9a-fA-F]{64}$/;

/** A private view key `a`: 64 hex chars of a canonical, non-zero scalar (`0 < a < l`). */
export function parsePrivateViewKey(hex: string): Uint8Array | null {
  if (!HEX_KEY.test(hex)) return null;
  const bytes = hexToBytes(hex.toLowerCase());
  const a = bytesToNumberLE(bytes);
  return a > 0n && a < CURVE_ORDER ? bytes : null;
}

/**
 * A public spend key `B`: 64 hex chars of a canonically encoded curve point that is not of small
 * order (a small-order key would make every subaddress and output key guessable by anyone).
 */
export function parsePublicSpendKey(hex: string): Uint8Array | null {
  if (!HEX_KEY.test(hex)) return null;
  const bytes = hexToBytes(hex.toLowerCase());
  try {
    return Point.fromBytes(bytes).isSmallOrder() ? null : bytes;
  } catch {
    return null;
  }
}

export const keccak256: (data: Uint8Array) => Uint8Array = keccak_256;

/** Monero's `hash_to_scalar` (Hs): Keccak-256 (original padding, not SHA-3) reduced mod l. */
export function hashToScalar(...parts: Uint8Array[]): bigint {
  return bytesToNumberLE(keccak_256(concatBytes(...parts))) % CURVE_ORDER;
}

export function scalarToBytes(s: bigint): Uint8Array {
  return numberToBytesLE(s, 32);
}

/** Monero's varint (LEB128: 7 bits per byte, least significant first). */
export function varint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint: ${n} is not a non-negative integer`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

/** Hs(derivation ‖ varint(i)): the per-output shared scalar (Monero's `derivation_to_scalar`). */
export function derivationToScalar(derivation: Uint8Array, outputIndex: number): bigint {
  return hashToScalar(derivation, varint(outputIndex));
}

const VIEW_TAG_SALT = new TextEncoder().encode("view_tag");

/** The one-byte view tag of output i: keccak("view_tag" ‖ derivation ‖ varint(i))[0]. */
export function deriveViewTag(derivation: Uint8Array, outputIndex: number): number {
  return keccak_256(concatBytes(VIEW_TAG_SALT, derivation, varint(outputIndex)))[0]!;
}
