// Monero subaddresses: the receive address of one (major, minor) index and its spend key D, derived
// from watch-only keys (private view key a, public spend key B) the way Monero's wallet does.

import { bytesToNumberLE } from "@noble/curves/utils.js";
import { encodeAddress, type XmrNetwork } from "./address";
import { hashToScalar, Point } from "./keys";

export interface XmrViewKeys {
  privateViewKey: Uint8Array;
  publicSpendKey: Uint8Array;
}

const SUBADDRESS_SALT = new TextEncoder().encode("SubAddr\0");

function uint32LE(n: number, name: string): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${name} must be a uint32, got ${n}`);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

/**
 * The address of subaddress (major, minor) and its public spend key D (what scanning matches).
 * (0, 0) is the primary standard address (D = B, view key a·G). Any other index is a subaddress:
 * m = Hs("SubAddr\0" ‖ a ‖ LE32(major) ‖ LE32(minor)), D = B + m·G, C = a·D.
 * Keys must come from parsePrivateViewKey / parsePublicSpendKey; anything else throws.
 * Both multiplications involve the view key, so they use noble's constant-time multiply; this
 * runs once per invoice, not per scanned transaction.
 */
export function deriveSubaddress(
  keys: XmrViewKeys,
  major: number,
  minor: number,
  network: XmrNetwork,
): { address: string; spendKey: Uint8Array } {
  const majorBytes = uint32LE(major, "major");
  const minorBytes = uint32LE(minor, "minor");
  const a = bytesToNumberLE(keys.privateViewKey);
  const B = Point.fromBytes(keys.publicSpendKey);
  if (major === 0 && minor === 0) {
    const spendKey = B.toBytes();
    return { address: encodeAddress(network, "standard", spendKey, Point.BASE.multiply(a).toBytes()), spendKey };
  }
  const m = hashToScalar(SUBADDRESS_SALT, keys.privateViewKey, majorBytes, minorBytes);
  // m = 0 has probability ~2^-252; noble's multiply rejects 0, and 0·G is the identity.
  const D = m === 0n ? B : B.add(Point.BASE.multiply(m));
  const spendKey = D.toBytes();
  return { address: encodeAddress(network, "subaddress", spendKey, D.multiply(a).toBytes()), spendKey };
}
