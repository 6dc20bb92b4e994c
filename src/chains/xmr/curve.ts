// Hand-written ed25519 arithmetic for view-key scanning, where its time goes: 8·a·R per tx public
// key, P - s·G per output, amount commitments. Checked against noble (test/unit/xmr-keys.test.ts).

import { numberToBytesLE } from "@noble/curves/utils.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { Point } from "./keys";
/**
 * Monero's `generate_key_derivation`: the compressed point 8·a·R, or null when R is not a valid
 * point encoding (an invalid key in tx extra is the sender's problem, never a reason to throw).
 *
 * Scanning does one variable-base multiplication per tx public key, so this is where its time goes.
 * noble's `Point.multiply` (constant time) and `multiplyUnsafe` both take ~1 ms here, spent in
 * BigInt field arithmetic that allocates on every operation. This path decodes R, runs a width-5
 * wNAF of the fixed scalar 8a over radix-2^16 float limbs (below) and encodes the result: ~0.3 ms.
 * Side channel: it is NOT constant time. Which doublings are followed by an addition, and with
 * which table entry, follows the bits of the view key. Accepted here because the view key cannot
 * spend (a leak costs privacy, not funds), recovering it would take fine-grained timing of a server
 * that scans thousands of unrelated transactions, and address derivation, the other place the
 * view key is used, keeps noble's constant-time multiply.
 */
export function generateKeyDerivation(txPublicKey: Uint8Array, privateViewKey: Uint8Array): Uint8Array | null {
  if (txPublicKey.length !== 32 || privateViewKey.length !== 32) return null;
  const R = decompress(txPublicKey);
  return R === null ? null : compress(multiplyByEightTimes(R, privateViewKey));
}

/**
 * generateKeyDerivation for one tx public key and many view keys (a scan shard's merchants), each
 * result exactly what generateKeyDerivation gives for that key (null for all when R is not a point,
 * and for a key that is not 32 bytes). From SHARED_TABLE_KEYS keys on, R is decoded once, 8R gets a
 * fixed-base table like G's (its width chosen for the number of keys) and each key costs one
 * addition per non-zero signed digit and no doublings, with one field inversion for all of them
 * (Montgomery's trick). a·(8R) is the same integer multiple of R as 8·(a·R), so torsion
 * components come out as in Monero.
 */
export function generateKeyDerivations(txPublicKey: Uint8Array, privateViewKeys: readonly Uint8Array[]): (Uint8Array | null)[] {
  const R = txPublicKey.length === 32 ? decompress(txPublicKey) : null;
  if (R === null) return privateViewKeys.map(() => null);
  if (privateViewKeys.length < SHARED_TABLE_KEYS) {
    return privateViewKeys.map((k) => (k.length === 32 ? compress(multiplyByEightTimes(R, k)) : null));
  }
  const eightR = extended();
  dbl(eightR, R, false);
  dbl(eightR, eightR, false);
  dbl(eightR, eightR, true);
  const table = combTable(eightR, sharedCombWidth(privateViewKeys.length), 256);
  return compressAll(privateViewKeys.map((k) => (k.length === 32 ? combMultiplyBytes(table, k) : null)));
}

/** Below this many keys per tx key, a fixed-base table costs more than it saves. */
const SHARED_TABLE_KEYS = 8;

/** Monero's amount generator H = 8·decode(keccak(G)) (rctTypes.h hard-codes the same point). */
export const AMOUNT_GENERATOR = Point.fromBytes(keccak_256(Point.BASE.toBytes())).clearCofactor();

/**
 * Monero's `derive_subaddress_public_key`: D' = P - s·G for an output key P and its shared scalar
 * s = Hs(derivation ‖ i). If the output pays us, D' is the spend key of the subaddress it pays.
 * Null when P is not a point. s is not secret on its own (it is the public half of the output's
 * one-time key), so the fixed-base comb below runs in variable time.
 */
export function deriveSubaddressPublicKey(outputKey: Uint8Array, shared: bigint): Uint8Array | null {
  const P = outputKey.length === 32 ? decompress(outputKey) : null;
  if (P === null) return null;
  const D = extended();
  addCached(D, P, toCached(combMultiply(baseTable(), shared)), true, false);
  return compress(D);
}

/**
 * The RingCT commitment mask·G + amount·H of a decrypted output (amount < 2^64), to compare with
 * the commitment on chain. Variable time: mask and amount only concern the recipient's own output.
 */
export function amountCommitment(mask: bigint, amount: bigint): Uint8Array {
  if (amount < 0n || amount >= 2n ** 64n) throw new RangeError("amount must be a uint64");
  const C = combMultiply(baseTable(), mask);
  addCached(C, C, toCached(combMultiply(amountTable(), amount)), false, false);
  return compress(C);
}

// ---------------------------------------------------------------------------------------------
// Field arithmetic mod p = 2^255 - 19 on 16 limbs of 16 bits held in a Float64Array. Products of
// limbs stay far below 2^53, so a whole 16x16 product column sums exactly in doubles; limbs may be
// negative or slightly above 2^16 between operations (carries are lazy). A multiplication costs
// ~0.15 µs in V8 against ~0.33 µs for BigInt multiply-and-reduce, and allocates nothing.

type Fe = Float64Array;

const P = Point.Fp.ORDER;
const INV_2_16 = 1 / 65536;

// A Float64Array of its own costs ~2.5 µs in V8 (128 bytes is past the on-heap limit, so each
// gets a backing store), a view into a shared slab ~0.02 µs; a derivation makes about a hundred.
// Slots are handed out once and start zeroed; a slab is freed when its last view is.
const SLAB_ELEMENTS = 16 * 4096;
let slab = new Float64Array(SLAB_ELEMENTS);
let slabUsed = 0;

function fe(): Fe {
  if (slabUsed === SLAB_ELEMENTS) {
    slab = new Float64Array(SLAB_ELEMENTS);
    slabUsed = 0;
  }
  slabUsed += 16;
  return slab.subarray(slabUsed - 16, slabUsed);
}

function feFromBigint(n: bigint): Fe {
  const o = fe();
  for (let i = 0; i < 16; i++) o[i] = Number((n >> BigInt(16 * i)) & 0xffffn);
  return o;
}

/** 255-bit little-endian value (the top bit, a point's x sign, is ignored). */
function feFromBytes(b: Uint8Array): Fe {
  const o = fe();
  for (let i = 0; i < 15; i++) o[i] = b[2 * i]! + 256 * b[2 * i + 1]!;
  o[15] = b[30]! + 256 * (b[31]! & 0x7f);
  return o;
}

function feAdd(o: Fe, a: Fe, b: Fe): void {
  for (let i = 0; i < 16; i++) o[i] = a[i]! + b[i]!;
}

function feSub(o: Fe, a: Fe, b: Fe): void {
  for (let i = 0; i < 16; i++) o[i] = a[i]! - b[i]!;
}

/**
 * The canonical limbs of a: each in [0, 2^16), the value in [0, p). Three carry passes bring any
 * lazily carried value (limbs negative or a few times 2^16) into [0, 2^255), then p is subtracted
 * once if the value is still at least p. No BigInt: encoding runs once per derivation.
 */
function feCanonical(a: Fe): Fe {
  const o = fe();
  o.set(a);
  for (let pass = 0; pass < 3; pass++) {
    let carry = 0;
    for (let i = 0; i < 15; i++) {
      const v = o[i]! + carry;
      carry = Math.floor(v * INV_2_16);
      o[i] = v - carry * 65536;
    }
    const top = o[15]! + carry;
    carry = Math.floor(top / 32768);
    o[15] = top - carry * 32768;
    o[0] = o[0]! + 19 * carry; // 2^255 = 19 (mod p)
  }
  let atLeastP = o[15] === 0x7fff && o[0]! >= 0xffed;
  for (let i = 1; i < 15 && atLeastP; i++) atLeastP = o[i] === 0xffff;
  if (atLeastP) {
    const low = o[0]! - 0xffed; // value - p: only the low limb is left
    o.fill(0);
    o[0] = low;
  }
  return o;
}

function feIsZero(a: Fe): boolean {
  return feCanonical(a).every((limb) => limb === 0);
}

// feMul and feSqr are unrolled (column k = sum of a_i * b_(k-i)); a loop over typed arrays runs
// about 1.5x slower in V8. They end in the same reduction, written out twice on purpose: moving it
// into a helper (through an array or 31 arguments) made the whole derivation ~1.5x slower.
// Both read all inputs before writing, so `o` may alias `a` or `b`.

function feMul(o: Fe, a: Fe, b: Fe): void {
  const a0 = a[0]!, a1 = a[1]!, a2 = a[2]!, a3 = a[3]!, a4 = a[4]!, a5 = a[5]!, a6 = a[6]!, a7 = a[7]!;
  const a8 = a[8]!, a9 = a[9]!, a10 = a[10]!, a11 = a[11]!, a12 = a[12]!, a13 = a[13]!, a14 = a[14]!, a15 = a[15]!;
  const b0 = b[0]!, b1 = b[1]!, b2 = b[2]!, b3 = b[3]!, b4 = b[4]!, b5 = b[5]!, b6 = b[6]!, b7 = b[7]!;
  const b8 = b[8]!, b9 = b[9]!, b10 = b[10]!, b11 = b[11]!, b12 = b[12]!, b13 = b[13]!, b14 = b[14]!, b15 = b[15]!;
  let t0 = a0 * b0;
  let t1 = a0 * b1 + a1 * b0;
  let t2 = a0 * b2 + a1 * b1 + a2 * b0;
  let t3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  let t4 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0;
  let t5 = a0 * b5 + a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1 + a5 * b0;
  let t6 = a0 * b6 + a1 * b5 + a2 * b4 + a3 * b3 + a4 * b2 + a5 * b1 + a6 * b0;
  let t7 = a0 * b7 + a1 * b6 + a2 * b5 + a3 * b4 + a4 * b3 + a5 * b2 + a6 * b1 + a7 * b0;
  let t8 = a0 * b8 + a1 * b7 + a2 * b6 + a3 * b5 + a4 * b4 + a5 * b3 + a6 * b2 + a7 * b1 +
           a8 * b0;
  let t9 = a0 * b9 + a1 * b8 + a2 * b7 + a3 * b6 + a4 * b5 + a5 * b4 + a6 * b3 + a7 * b2 +
           a8 * b1 + a9 * b0;
  let t10 = a0 * b10 + a1 * b9 + a2 * b8 + a3 * b7 + a4 * b6 + a5 * b5 + a6 * b4 + a7 * b3 +
            a8 * b2 + a9 * b1 + a10 * b0;
  let t11 = a0 * b11 + a1 * b10 + a2 * b9 + a3 * b8 + a4 * b7 + a5 * b6 + a6 * b5 + a7 * b4 +
            a8 * b3 + a9 * b2 + a10 * b1 + a11 * b0;
  let t12 = a0 * b12 + a1 * b11 + a2 * b10 + a3 * b9 + a4 * b8 + a5 * b7 + a6 * b6 + a7 * b5 +
            a8 * b4 + a9 * b3 + a10 * b2 + a11 * b1 + a12 * b0;
  let t13 = a0 * b13 + a1 * b12 + a2 * b11 + a3 * b10 + a4 * b9 + a5 * b8 + a6 * b7 + a7 * b6 +
            a8 * b5 + a9 * b4 + a10 * b3 + a11 * b2 + a12 * b1 + a13 * b0;
  let t14 = a0 * b14 + a1 * b13 + a2 * b12 + a3 * b11 + a4 * b10 + a5 * b9 + a6 * b8 + a7 * b7 +
            a8 * b6 + a9 * b5 + a10 * b4 + a11 * b3 + a12 * b2 + a13 * b1 + a14 * b0;
  let t15 = a0 * b15 + a1 * b14 + a2 * b13 + a3 * b12 + a4 * b11 + a5 * b10 + a6 * b9 + a7 * b8 +
            a8 * b7 + a9 * b6 + a10 * b5 + a11 * b4 + a12 * b3 + a13 * b2 + a14 * b1 + a15 * b0;
  const t16 = a1 * b15 + a2 * b14 + a3 * b13 + a4 * b12 + a5 * b11 + a6 * b10 + a7 * b9 + a8 * b8 +
              a9 * b7 + a10 * b6 + a11 * b5 + a12 * b4 + a13 * b3 + a14 * b2 + a15 * b1;
  const t17 = a2 * b15 + a3 * b14 + a4 * b13 + a5 * b12 + a6 * b11 + a7 * b10 + a8 * b9 + a9 * b8 +
              a10 * b7 + a11 * b6 + a12 * b5 + a13 * b4 + a14 * b3 + a15 * b2;
  const t18 = a3 * b15 + a4 * b14 + a5 * b13 + a6 * b12 + a7 * b11 + a8 * b10 + a9 * b9 + a10 * b8 +
              a11 * b7 + a12 * b6 + a13 * b5 + a14 * b4 + a15 * b3;
  const t19 = a4 * b15 + a5 * b14 + a6 * b13 + a7 * b12 + a8 * b11 + a9 * b10 + a10 * b9 + a11 * b8 +
              a12 * b7 + a13 * b6 + a14 * b5 + a15 * b4;
  const t20 = a5 * b15 + a6 * b14 + a7 * b13 + a8 * b12 + a9 * b11 + a10 * b10 + a11 * b9 + a12 * b8 +
              a13 * b7 + a14 * b6 + a15 * b5;
  const t21 = a6 * b15 + a7 * b14 + a8 * b13 + a9 * b12 + a10 * b11 + a11 * b10 + a12 * b9 + a13 * b8 +
              a14 * b7 + a15 * b6;
  const t22 = a7 * b15 + a8 * b14 + a9 * b13 + a10 * b12 + a11 * b11 + a12 * b10 + a13 * b9 + a14 * b8 +
              a15 * b7;
  const t23 = a8 * b15 + a9 * b14 + a10 * b13 + a11 * b12 + a12 * b11 + a13 * b10 + a14 * b9 + a15 * b8;
  const t24 = a9 * b15 + a10 * b14 + a11 * b13 + a12 * b12 + a13 * b11 + a14 * b10 + a15 * b9;
  const t25 = a10 * b15 + a11 * b14 + a12 * b13 + a13 * b12 + a14 * b11 + a15 * b10;
  const t26 = a11 * b15 + a12 * b14 + a13 * b13 + a14 * b12 + a15 * b11;
  const t27 = a12 * b15 + a13 * b14 + a14 * b13 + a15 * b12;
  const t28 = a13 * b15 + a14 * b14 + a15 * b13;
  const t29 = a14 * b15 + a15 * b14;
  const t30 = a15 * b15;
  // Fold limbs 16..30 (weight 2^256 = 38 mod p), then carry once around and twice more at the
  // bottom: every limb ends in [-8, 2^16 + 8), small enough for the next product.
  t0 += 38 * t16;
  t1 += 38 * t17;
  t2 += 38 * t18;
  t3 += 38 * t19;
  t4 += 38 * t20;
  t5 += 38 * t21;
  t6 += 38 * t22;
  t7 += 38 * t23;
  t8 += 38 * t24;
  t9 += 38 * t25;
  t10 += 38 * t26;
  t11 += 38 * t27;
  t12 += 38 * t28;
  t13 += 38 * t29;
  t14 += 38 * t30;
  let c: number;
  c = Math.floor(t0 * INV_2_16); t0 -= c * 65536; t1 += c;
  c = Math.floor(t1 * INV_2_16); t1 -= c * 65536; t2 += c;
  c = Math.floor(t2 * INV_2_16); t2 -= c * 65536; t3 += c;
  c = Math.floor(t3 * INV_2_16); t3 -= c * 65536; t4 += c;
  c = Math.floor(t4 * INV_2_16); t4 -= c * 65536; t5 += c;
  c = Math.floor(t5 * INV_2_16); t5 -= c * 65536; t6 += c;
  c = Math.floor(t6 * INV_2_16); t6 -= c * 65536; t7 += c;
  c = Math.floor(t7 * INV_2_16); t7 -= c * 65536; t8 += c;
  c = Math.floor(t8 * INV_2_16); t8 -= c * 65536; t9 += c;
  c = Math.floor(t9 * INV_2_16); t9 -= c * 65536; t10 += c;
  c = Math.floor(t10 * INV_2_16); t10 -= c * 65536; t11 += c;
  c = Math.floor(t11 * INV_2_16); t11 -= c * 65536; t12 += c;
  c = Math.floor(t12 * INV_2_16); t12 -= c * 65536; t13 += c;
  c = Math.floor(t13 * INV_2_16); t13 -= c * 65536; t14 += c;
  c = Math.floor(t14 * INV_2_16); t14 -= c * 65536; t15 += c;
  c = Math.floor(t15 * INV_2_16); t15 -= c * 65536; t0 += 38 * c;
  c = Math.floor(t0 * INV_2_16); t0 -= c * 65536; t1 += c;
  c = Math.floor(t1 * INV_2_16); t1 -= c * 65536; t2 += c;
  o[0] = t0; o[1] = t1; o[2] = t2; o[3] = t3;
  o[4] = t4; o[5] = t5; o[6] = t6; o[7] = t7;
  o[8] = t8; o[9] = t9; o[10] = t10; o[11] = t11;
  o[12] = t12; o[13] = t13; o[14] = t14; o[15] = t15;
}

function feSqr(o: Fe, a: Fe): void {
  const a0 = a[0]!, a1 = a[1]!, a2 = a[2]!, a3 = a[3]!, a4 = a[4]!, a5 = a[5]!, a6 = a[6]!, a7 = a[7]!;
  const a8 = a[8]!, a9 = a[9]!, a10 = a[10]!, a11 = a[11]!, a12 = a[12]!, a13 = a[13]!, a14 = a[14]!, a15 = a[15]!;
  const d0 = 2 * a0, d1 = 2 * a1, d2 = 2 * a2, d3 = 2 * a3, d4 = 2 * a4, d5 = 2 * a5, d6 = 2 * a6, d7 = 2 * a7;
  const d8 = 2 * a8, d9 = 2 * a9, d10 = 2 * a10, d11 = 2 * a11, d12 = 2 * a12, d13 = 2 * a13, d14 = 2 * a14;
  let t0 = a0 * a0;
  let t1 = d0 * a1;
  let t2 = d0 * a2 + a1 * a1;
  let t3 = d0 * a3 + d1 * a2;
  let t4 = d0 * a4 + d1 * a3 + a2 * a2;
  let t5 = d0 * a5 + d1 * a4 + d2 * a3;
  let t6 = d0 * a6 + d1 * a5 + d2 * a4 + a3 * a3;
  let t7 = d0 * a7 + d1 * a6 + d2 * a5 + d3 * a4;
  let t8 = d0 * a8 + d1 * a7 + d2 * a6 + d3 * a5 + a4 * a4;
  let t9 = d0 * a9 + d1 * a8 + d2 * a7 + d3 * a6 + d4 * a5;
  let t10 = d0 * a10 + d1 * a9 + d2 * a8 + d3 * a7 + d4 * a6 + a5 * a5;
  let t11 = d0 * a11 + d1 * a10 + d2 * a9 + d3 * a8 + d4 * a7 + d5 * a6;
  let t12 = d0 * a12 + d1 * a11 + d2 * a10 + d3 * a9 + d4 * a8 + d5 * a7 + a6 * a6;
  let t13 = d0 * a13 + d1 * a12 + d2 * a11 + d3 * a10 + d4 * a9 + d5 * a8 + d6 * a7;
  let t14 = d0 * a14 + d1 * a13 + d2 * a12 + d3 * a11 + d4 * a10 + d5 * a9 + d6 * a8 + a7 * a7;
  let t15 = d0 * a15 + d1 * a14 + d2 * a13 + d3 * a12 + d4 * a11 + d5 * a10 + d6 * a9 + d7 * a8;
  const t16 = d1 * a15 + d2 * a14 + d3 * a13 + d4 * a12 + d5 * a11 + d6 * a10 + d7 * a9 + a8 * a8;
  const t17 = d2 * a15 + d3 * a14 + d4 * a13 + d5 * a12 + d6 * a11 + d7 * a10 + d8 * a9;
  const t18 = d3 * a15 + d4 * a14 + d5 * a13 + d6 * a12 + d7 * a11 + d8 * a10 + a9 * a9;
  const t19 = d4 * a15 + d5 * a14 + d6 * a13 + d7 * a12 + d8 * a11 + d9 * a10;
  const t20 = d5 * a15 + d6 * a14 + d7 * a13 + d8 * a12 + d9 * a11 + a10 * a10;
  const t21 = d6 * a15 + d7 * a14 + d8 * a13 + d9 * a12 + d10 * a11;
  const t22 = d7 * a15 + d8 * a14 + d9 * a13 + d10 * a12 + a11 * a11;
  const t23 = d8 * a15 + d9 * a14 + d10 * a13 + d11 * a12;
  const t24 = d9 * a15 + d10 * a14 + d11 * a13 + a12 * a12;
  const t25 = d10 * a15 + d11 * a14 + d12 * a13;
  const t26 = d11 * a15 + d12 * a14 + a13 * a13;
  const t27 = d12 * a15 + d13 * a14;
  const t28 = d13 * a15 + a14 * a14;
  const t29 = d14 * a15;
  const t30 = a15 * a15;
  // Fold limbs 16..30 (weight 2^256 = 38 mod p), then carry once around and twice more at the
  // bottom: every limb ends in [-8, 2^16 + 8), small enough for the next product.
  t0 += 38 * t16;
  t1 += 38 * t17;
  t2 += 38 * t18;
  t3 += 38 * t19;
  t4 += 38 * t20;
  t5 += 38 * t21;
  t6 += 38 * t22;
  t7 += 38 * t23;
  t8 += 38 * t24;
  t9 += 38 * t25;
  t10 += 38 * t26;
  t11 += 38 * t27;
  t12 += 38 * t28;
  t13 += 38 * t29;
  t14 += 38 * t30;
  let c: number;
  c = Math.floor(t0 * INV_2_16); t0 -= c * 65536; t1 += c;
  c = Math.floor(t1 * INV_2_16); t1 -= c * 65536; t2 += c;
  c = Math.floor(t2 * INV_2_16); t2 -= c * 65536; t3 += c;
  c = Math.floor(t3 * INV_2_16); t3 -= c * 65536; t4 += c;
  c = Math.floor(t4 * INV_2_16); t4 -= c * 65536; t5 += c;
  c = Math.floor(t5 * INV_2_16); t5 -= c * 65536; t6 += c;
  c = Math.floor(t6 * INV_2_16); t6 -= c * 65536; t7 += c;
  c = Math.floor(t7 * INV_2_16); t7 -= c * 65536; t8 += c;
  c = Math.floor(t8 * INV_2_16); t8 -= c * 65536; t9 += c;
  c = Math.floor(t9 * INV_2_16); t9 -= c * 65536; t10 += c;
  c = Math.floor(t10 * INV_2_16); t10 -= c * 65536; t11 += c;
  c = Math.floor(t11 * INV_2_16); t11 -= c * 65536; t12 += c;
  c = Math.floor(t12 * INV_2_16); t12 -= c * 65536; t13 += c;
  c = Math.floor(t13 * INV_2_16); t13 -= c * 65536; t14 += c;
  c = Math.floor(t14 * INV_2_16); t14 -= c * 65536; t15 += c;
  c = Math.floor(t15 * INV_2_16); t15 -= c * 65536; t0 += 38 * c;
  c = Math.floor(t0 * INV_2_16); t0 -= c * 65536; t1 += c;
  c = Math.floor(t1 * INV_2_16); t1 -= c * 65536; t2 += c;
  o[0] = t0; o[1] = t1; o[2] = t2; o[3] = t3;
  o[4] = t4; o[5] = t5; o[6] = t6; o[7] = t7;
  o[8] = t8; o[9] = t9; o[10] = t10; o[11] = t11;
  o[12] = t12; o[13] = t13; o[14] = t14; o[15] = t15;
}

function feSqrN(o: Fe, a: Fe, n: number): void {
  feSqr(o, a);
  for (let i = 1; i < n; i++) feSqr(o, o);
}

/** z^(2^250 - 1) and z^11: the common prefix of the exponents p - 2 and (p - 5) / 8. */
function fePow250(z: Fe): { z250: Fe; z11: Fe } {
  const t = fe(), z9 = fe(), z11 = fe(), z5 = fe(), z10 = fe(), z20 = fe(), z50 = fe(), z100 = fe();
  feSqr(t, z); // z^2
  feSqrN(z9, t, 2); // z^8
  feMul(z9, z9, z); // z^9
  feMul(z11, z9, t); // z^11
  feSqr(t, z11);
  feMul(z5, t, z9); // z^(2^5 - 1)
  feSqrN(t, z5, 5);
  feMul(z10, t, z5); // z^(2^10 - 1)
  feSqrN(t, z10, 10);
  feMul(z20, t, z10); // z^(2^20 - 1)
  feSqrN(t, z20, 20);
  feMul(t, t, z20); // z^(2^40 - 1)
  feSqrN(t, t, 10);
  feMul(z50, t, z10); // z^(2^50 - 1)
  feSqrN(t, z50, 50);
  feMul(z100, t, z50); // z^(2^100 - 1)
  feSqrN(t, z100, 100);
  feMul(t, t, z100); // z^(2^200 - 1)
  feSqrN(t, t, 50);
  feMul(t, t, z50); // z^(2^250 - 1)
  return { z250: t, z11 };
}

/** z^(p - 2) = z^-1 (Fermat). */
function feInvert(z: Fe): Fe {
  const { z250, z11 } = fePow250(z);
  feSqrN(z250, z250, 5);
  feMul(z250, z250, z11);
  return z250;
}

/** z^((p - 5) / 8) = z^(2^252 - 3), the core of the square root in point decompression. */
function fePow2523(z: Fe): Fe {
  const { z250 } = fePow250(z);
  feSqrN(z250, z250, 2);
  feMul(z250, z250, z);
  return z250;
}

// ---------------------------------------------------------------------------------------------
// Points on -x^2 + y^2 = 1 + d·x^2·y^2 in extended coordinates (x = X/Z, y = Y/Z, x·y = T/Z), with
// the add-2008-hwcd-3 / dbl-2008-hwcd formulas (Hisil, Wong, Carter, Dawson 2008).

interface Extended {
  X: Fe;
  Y: Fe;
  Z: Fe;
  T: Fe;
}

/** A table point kept as (Y - X, Y + X, 2d·T, 2·Z), ready to be added. */
interface Cached {
  YmX: Fe;
  YpX: Fe;
  T2d: Fe;
  /** 2·Z (2 for an affine point). */
  Z2: Fe;
  /** Z = 1, so an addition needs no Z1·Z2. */
  affine: boolean;
}

const CURVE_D = Point.CURVE().d;
const FE_ONE = feFromBigint(1n);
const FE_D = feFromBigint(CURVE_D);
const FE_D2 = feFromBigint((2n * CURVE_D) % P);
// 2 is not a square mod p, so 2^((p-1)/4) is a square root of -1.
const FE_SQRT_M1 = feFromBigint(Point.Fp.pow(2n, (P - 1n) / 4n));

const extended = (): Extended => ({ X: fe(), Y: fe(), Z: fe(), T: fe() });
function identity(): Extended {
  const p = extended();
  p.Y[0] = 1;
  p.Z[0] = 1;
  return p;
}

/** y >= p: a non-canonical encoding, rejected like noble's strict (RFC 8032) decoding does. */
function isNonCanonicalY(s: Uint8Array): boolean {
  if ((s[31]! & 0x7f) !== 0x7f || s[0]! < 0xed) return false;
  for (let i = 1; i < 31; i++) if (s[i] !== 0xff) return false;
  return true;
}

/** RFC 8032 section 5.1.3 decoding; null when the bytes are not a point. */
function decompress(s: Uint8Array): Extended | null {
  if (isNonCanonicalY(s)) return null;
  const y = feFromBytes(s);
  const u = fe(), v = fe(), v3 = fe(), t = fe(), x = fe();
  feSqr(u, y);
  feMul(v, u, FE_D);
  feAdd(v, v, FE_ONE); // v = d·y^2 + 1
  feSub(u, u, FE_ONE); // u = y^2 - 1
  feSqr(v3, v);
  feMul(v3, v3, v); // v^3
  feSqr(t, v3);
  feMul(t, t, v);
  feMul(t, t, u); // u·v^7
  feMul(x, fePow2523(t), v3);
  feMul(x, x, u); // x = u·v^3·(u·v^7)^((p-5)/8)
  feSqr(t, x);
  feMul(t, t, v); // v·x^2
  const check = fe();
  feSub(check, t, u);
  if (!feIsZero(check)) {
    feAdd(check, t, u);
    if (!feIsZero(check)) return null; // u/v has no square root: not a point
    feMul(x, x, FE_SQRT_M1);
  }
  const xLimbs = feCanonical(x);
  const sign = s[31]! >> 7;
  if (sign === 1 && xLimbs.every((limb) => limb === 0)) return null;
  if ((xLimbs[0]! & 1) !== sign) feSub(x, fe(), x);
  const T = fe();
  feMul(T, x, y);
  return { X: x, Y: y, Z: feFromBigint(1n), T };
}

function compress(p: Extended): Uint8Array {
  return encode(p, feInvert(p.Z));
}

/** compress for many points at once, with one inversion for all. */
function compressAll(points: readonly (Extended | null)[]): (Uint8Array | null)[] {
  const present = points.filter((p): p is Extended => p !== null);
  const zInvs = inverseZs(present);
  const encoded = new Map(present.map((p, i) => [p, encode(p, zInvs[i]!)] as const));
  return points.map((p) => (p === null ? null : encoded.get(p)!));
}

/** 1/Z of every point, with one field inversion and three multiplications each (Montgomery's trick). */
function inverseZs(points: readonly Extended[]): Fe[] {
  if (points.length === 0) return [];
  const prefix: Fe[] = []; // prefix[i] = Z_0 ... Z_i
  let product = FE_ONE;
  for (const p of points) {
    const next = fe();
    feMul(next, product, p.Z);
    prefix.push(next);
    product = next;
  }
  let inverse = feInvert(product); // (Z_0 ... Z_i)^-1, walking down
  const out: Fe[] = new Array(points.length);
  for (let i = points.length - 1; i > 0; i--) {
    out[i] = fe();
    feMul(out[i]!, inverse, prefix[i - 1]!);
    feMul(inverse, inverse, points[i]!.Z);
  }
  out[0] = inverse;
  return out;
}

/** The RFC 8032 encoding of p, given 1/Z: y little-endian with x's parity in the top bit. */
function encode(p: Extended, zInv: Fe): Uint8Array {
  const x = fe(), y = fe();
  feMul(x, p.X, zInv);
  feMul(y, p.Y, zInv);
  const yLimbs = feCanonical(y);
  const out = new Uint8Array(32);
  for (let i = 0; i < 16; i++) {
    out[2 * i] = yLimbs[i]! & 0xff;
    out[2 * i + 1] = yLimbs[i]! >> 8;
  }
  if (feCanonical(x)[0]! & 1) out[31] = out[31]! | 0x80;
  return out;
}

function toCached(p: Extended, affine = false): Cached {
  const c: Cached = { YmX: fe(), YpX: fe(), T2d: fe(), Z2: fe(), affine };
  feSub(c.YmX, p.Y, p.X);
  feAdd(c.YpX, p.Y, p.X);
  feMul(c.T2d, p.T, FE_D2);
  feAdd(c.Z2, p.Z, p.Z);
  return c;
}

// Scratch space for the two formulas below; scanning is synchronous, so sharing it is safe.
const sA = fe(), sB = fe(), sC = fe(), sD = fe(), sE = fe(), sF = fe(), sG = fe(), sH = fe();

/**
 * o = 2p. dbl-2008-hwcd with a = -1, signs folded so that no negation is needed. T (one
 * multiplication) is computed only when an addition follows; doublings never read it.
 */
function dbl(o: Extended, p: Extended, withT: boolean): void {
  feSqr(sA, p.X); // A = X^2
  feSqr(sB, p.Y); // B = Y^2
  feSqr(sC, p.Z);
  feAdd(sC, sC, sC); // C = 2·Z^2
  feAdd(sH, sA, sB); // H = A + B
  feAdd(sE, p.X, p.Y);
  feSqr(sE, sE);
  feSub(sE, sH, sE); // E = A + B - (X + Y)^2
  feSub(sG, sA, sB); // G = A - B
  feAdd(sF, sG, sC); // F = G + C
  feMul(o.X, sE, sF);
  feMul(o.Y, sG, sH);
  feMul(o.Z, sF, sG);
  if (withT) feMul(o.T, sE, sH);
}

/** o = p + q, or p - q when `negate` (the cached form of -Q swaps Y∓X and negates 2d·T). */
function addCached(o: Extended, p: Extended, q: Cached, negate: boolean, withT: boolean): void {
  feSub(sA, p.Y, p.X);
  feMul(sA, sA, negate ? q.YpX : q.YmX); // A = (Y1 - X1)(Y2 - X2)
  feAdd(sB, p.Y, p.X);
  feMul(sB, sB, negate ? q.YmX : q.YpX); // B = (Y1 + X1)(Y2 + X2)
  feMul(sC, p.T, q.T2d); // C = 2d·T1·T2
  if (q.affine) feAdd(sD, p.Z, p.Z); // D = 2·Z1·Z2
  else feMul(sD, p.Z, q.Z2);
  feSub(sE, sB, sA); // E = B - A
  feAdd(sH, sB, sA); // H = B + A
  if (negate) {
    feAdd(sF, sD, sC); // F = D - C, G = D + C with C negated
    feSub(sG, sD, sC);
  } else {
    feSub(sF, sD, sC);
    feAdd(sG, sD, sC);
  }
  feMul(o.X, sE, sF);
  feMul(o.Y, sG, sH);
  feMul(o.Z, sF, sG);
  if (withT) feMul(o.T, sE, sH);
}

const WNAF_WIDTH = 5;

/**
 * Width-5 NAF digits (LSB first, odd in [-15, 15] or 0, non-zero digits at least 5 apart) of
 * 8·k for the 32-byte little-endian scalar k. The factor 8 is kept as three low zero bits, not
 * reduced mod l, so the result is exactly Monero's 8·(k·R) even when R has a torsion component.
 */
function wnafOfEightTimes(k: Uint8Array): Int8Array {
  const bits = new Uint8Array(256 + 3 + WNAF_WIDTH + 1);
  for (let i = 0; i < 256; i++) bits[i + 3] = (k[i >> 3]! >> (i & 7)) & 1;
  const digits = new Int8Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    if (bits[i] === 0) continue;
    let d = 0;
    for (let j = 0; j < WNAF_WIDTH; j++) {
      d |= bits[i + j]! << j;
      bits[i + j] = 0;
    }
    if (d >= 1 << (WNAF_WIDTH - 1)) {
      d -= 1 << WNAF_WIDTH; // take a negative digit and carry 1 into bit i + width
      let c = i + WNAF_WIDTH;
      while (bits[c] === 1) bits[c++] = 0;
      bits[c] = 1;
    }
    digits[i] = d;
  }
  return digits;
}

/** 8·k·R, variable time (see generateKeyDerivation). */
function multiplyByEightTimes(R: Extended, k: Uint8Array): Extended {
  // Odd multiples R, 3R, ..., 15R.
  const twoR = extended();
  dbl(twoR, R, true);
  const step = toCached(twoR);
  const table: Cached[] = [toCached(R)];
  let previous = R;
  for (let i = 1; i < 1 << (WNAF_WIDTH - 2); i++) {
    const next = extended();
    addCached(next, previous, step, false, true);
    table.push(toCached(next));
    previous = next;
  }
  const digits = wnafOfEightTimes(k);
  let top = digits.length - 1;
  while (top >= 0 && digits[top] === 0) top--;
  const out = identity();
  for (let i = top; i >= 0; i--) {
    const d = digits[i]!;
    if (i !== top) dbl(out, out, d !== 0);
    if (d !== 0) addCached(out, out, table[(Math.abs(d) - 1) >> 1]!, d < 0, false);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fixed-base multiplication (G, H, and a tx key shared by many view keys): a comb over signed
// base-2^w digits. Row i of a table holds (1..2^(w-1))·2^(w·i)·B in affine form, so s·B takes one
// mixed addition per non-zero digit and no doublings.

interface Comb {
  width: number;
  rows: Cached[][];
}

/** The comb for scalars below 2^bits (plus the carry of the top digit). */
function combTable(B: Extended, width: number, bits: number): Comb {
  const rows = Math.ceil(bits / width) + 1;
  const half = 1 << (width - 1);
  const points: Extended[] = [];
  let base = B; // 2^(w·i)·B
  for (let i = 0; i < rows; i++) {
    const first = toCached(base);
    points.push(base);
    let multiple = base;
    for (let j = 2; j <= half; j++) {
      const next = extended();
      addCached(next, multiple, first, false, true);
      points.push(next);
      multiple = next;
    }
    base = extended();
    dbl(base, multiple, true); // 2^(w·(i+1))·B = 2·(2^(w-1)·2^(w·i)·B)
  }
  const affine = toAffineCached(points);
  return { width, rows: Array.from({ length: rows }, (_, i) => affine.slice(i * half, (i + 1) * half)) };
}

/** The points as cached affine points (Z = 1, so an addition saves a multiplication), one inversion for all. */
function toAffineCached(points: readonly Extended[]): Cached[] {
  return inverseZs(points).map((zInv, i) => {
    const p = points[i]!;
    const a: Extended = { X: fe(), Y: fe(), Z: FE_ONE, T: fe() };
    feMul(a.X, p.X, zInv);
    feMul(a.Y, p.Y, zInv);
    feMul(a.T, a.X, a.Y);
    return toCached(a, true);
  });
}

// G's and H's, built on first use (a few ms for G), so importing this module stays cheap. G is
// multiplied twice per owned output and once per tag match, so its table is wide: 33 rows of 128.
let gTable: Comb | undefined;
let hTable: Comb | undefined;
const baseTable = (): Comb => (gTable ??= combTable(decompress(Point.BASE.toBytes())!, 8, 253));
const amountTable = (): Comb => (hTable ??= combTable(decompress(AMOUNT_GENERATOR.toBytes())!, 8, 64));

/**
 * The comb width for one point multiplied by `scalars` scalars: building the table costs about
 * rows·2^(w-1) additions, using it rows additions per scalar; the width with the least of both.
 */
function sharedCombWidth(scalars: number): number {
  let best = 4;
  let bestCost = Infinity;
  for (let w = 4; w <= 8; w++) {
    const rows = Math.ceil(256 / w) + 1;
    const cost = rows * ((1 << (w - 1)) * 1.5 + scalars);
    if (cost < bestCost) [best, bestCost] = [w, cost];
  }
  return best;
}

/** s·B for 0 <= s < 2^256 whose signed digits fit B's comb table (else RangeError). */
function combMultiply(table: Comb, s: bigint): Extended {
  return combMultiplyBytes(table, numberToBytesLE(s, 32));
}

/** combMultiply for a 32-byte little-endian scalar. */
function combMultiplyBytes(comb: Comb, bytes: Uint8Array): Extended {
  const { width, rows } = comb;
  const mask = (1 << width) - 1;
  const half = 1 << (width - 1);
  const padded = new Uint8Array(35); // reads past the scalar's end see zeros, not undefined
  padded.set(bytes);
  const acc = identity();
  let carry = 0;
  for (let i = 0, bit = 0; bit < 256 || carry !== 0; i++, bit += width) {
    // Digits in [-2^(w-1), 2^(w-1)): a digit of 2^(w-1) or more becomes digit - 2^w and carries one.
    const at = bit >> 3;
    const window = (padded[at]! | (padded[at + 1]! << 8) | (padded[at + 2]! << 16)) >> (bit & 7);
    let digit = (window & mask) + carry;
    carry = digit >= half ? 1 : 0;
    digit -= carry << width;
    if (digit === 0) continue;
    const row = rows[i];
    if (row === undefined) throw new RangeError("scalar too large for this comb table");
    addCached(acc, acc, row[Math.abs(digit) - 1]!, digit < 0, true);
  }
  return acc;
}
