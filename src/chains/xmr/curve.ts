// Hand-written ed25519 arithmetic for view-key scanning, where its time goes: 8·a·R per tx public
// key, P - s·G per output, amount commitments. Checked against noble (test/unit/xmr-keys.test.ts).

import { numberToBytesLE } from "@noble/curves/utils.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { Point } from "./keys";
/**
 * Monero's `generate_key_derivation`: the compressed point 8·a·R, or null when R is not a valid
 * point encoding (an invalid key in tx extra is the sender's problem, never a reason to throw).
 *
 * Scanning does one variable-base multiplication per tx public key, so this is where its time goes.
 * noble's `Point.multiply` (constant time) and `multiplyUnsafe` both take ~1 ms here, spent in
 * BigInt field arithmetic that allocates on every operation. This path decodes R, runs a width-5
 * wNAF of the fixed scalar 8a over radix-2^22 float limbs (below) and encodes the result: ~0.18 ms.
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
  if (privateViewKeys.length < SHARED_TABLE_KEYS) {
    const R = txPublicKey.length === 32 ? decompress(txPublicKey) : null;
    if (R === null) return privateViewKeys.map(() => null);
    return privateViewKeys.map((k) => (k.length === 32 ? compress(multiplyByEightTimes(R, k)) : null));
  }
  const table = eightTimesTable(txPublicKey, sharedCombWidth(privateViewKeys.length));
  if (table === null) return privateViewKeys.map(() => null);
  return compressAll(privateViewKeys.map((k) => (k.length === 32 ? combMultiplyBytes(table, k) : null)));
}

/** Below this many keys per tx key, a fixed-base table costs more than it saves. */
const SHARED_TABLE_KEYS = 8;

/**
 * The comb of 8R for a tx public key, or null when it is not a point. The last few are kept (about
 * 0.5 MB each): the scan shards of one coin that share an isolate (all of them under `wrangler dev`,
 * where they may on Cloudflare) scan the same txs, and a table costs about 40 keys' additions.
 */
function eightTimesTable(txPublicKey: Uint8Array, width: number): Comb | null {
  const id = `${bytesToHex(txPublicKey)}:${width}`;
  const kept = recentTables.get(id);
  if (kept !== undefined) return kept;
  const R = txPublicKey.length === 32 ? decompress(txPublicKey) : null;
  let table: Comb | null = null;
  if (R !== null) {
    const eightR = extended();
    dbl(eightR, R, false);
    dbl(eightR, eightR, false);
    dbl(eightR, eightR, true);
    table = combTable(eightR, width, 256);
  }
  if (recentTables.size >= RECENT_TABLES) recentTables.delete(recentTables.keys().next().value!);
  recentTables.set(id, table);
  return table;
}

const RECENT_TABLES = 8;
const recentTables = new Map<string, Comb | null>();

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
// Field arithmetic mod p = 2^255 - 19 on 12 limbs of 22 bits (264 bits) held in a Float64Array.
// Products of limbs stay below 2^53, so a whole 12x12 product column sums exactly in doubles; limbs
// may be negative or up to a few times 2^22 between operations (carries are lazy). A multiplication
// is 144 products (16-bit limbs took 256) and costs ~0.1 µs in V8 against ~0.33 µs for BigInt
// multiply-and-reduce, and allocates nothing.

type Fe = Float64Array;

const LIMBS = 12;
const RADIX = 4194304; // 2^22
const INV_2_22 = 1 / RADIX;
const TOP_BITS = 8192; // the top limb's share of 255 bits: bits 242..254
const P = Point.Fp.ORDER;

// A Float64Array of its own costs ~2.5 µs in V8 (96 bytes is past the on-heap limit, so each
// gets a backing store), a view into a shared slab ~0.02 µs; a derivation makes about a hundred.
// Slots are handed out once and start zeroed; a slab is freed when its last view is.
const SLAB_ELEMENTS = LIMBS * 4096;
let slab = new Float64Array(SLAB_ELEMENTS);
let slabUsed = 0;

function fe(): Fe {
  if (slabUsed === SLAB_ELEMENTS) {
    slab = new Float64Array(SLAB_ELEMENTS);
    slabUsed = 0;
  }
  slabUsed += LIMBS;
  return slab.subarray(slabUsed - LIMBS, slabUsed);
}

function feFromBigint(n: bigint): Fe {
  const o = fe();
  for (let i = 0; i < LIMBS; i++) o[i] = Number((n >> BigInt(22 * i)) & 0x3fffffn);
  return o;
}

/** 255-bit little-endian value (the top bit, a point's x sign, is ignored). */
function feFromBytes(b: Uint8Array): Fe {
  const bytes = new Uint8Array(36); // reads past the end see zeros
  bytes.set(b.subarray(0, 32));
  bytes[31] = bytes[31]! & 0x7f;
  const o = fe();
  for (let i = 0; i < LIMBS; i++) {
    const bit = 22 * i;
    const at = bit >> 3;
    const window = bytes[at]! + 256 * bytes[at + 1]! + 65536 * bytes[at + 2]! + 16777216 * bytes[at + 3]!;
    o[i] = Math.floor(window / (1 << (bit & 7))) % RADIX;
  }
  return o;
}

/** The 32-byte little-endian encoding of canonical limbs (feCanonical's). */
function feToBytes(limbs: Fe): Uint8Array {
  const out = new Uint8Array(32);
  let acc = 0; // bits not yet written, below 2^30
  let bits = 0;
  let at = 0;
  for (let i = 0; i < LIMBS; i++) {
    acc += limbs[i]! * 2 ** bits;
    bits += 22;
    while (bits >= 8 && at < 32) {
      out[at++] = acc % 256;
      acc = Math.floor(acc / 256);
      bits -= 8;
    }
  }
  if (at < 32) out[at] = acc;
  return out;
}

function feAdd(o: Fe, a: Fe, b: Fe): void {
  for (let i = 0; i < LIMBS; i++) o[i] = a[i]! + b[i]!;
}

function feSub(o: Fe, a: Fe, b: Fe): void {
  for (let i = 0; i < LIMBS; i++) o[i] = a[i]! - b[i]!;
}

/**
 * The canonical limbs of a: each in [0, 2^22) (the top one in [0, 2^13)), the value in [0, p).
 * Three carry passes bring any lazily carried value (limbs negative or a few times 2^22) into
 * [0, 2^255), then p is subtracted once if the value is still at least p. No BigInt: encoding
 * runs once per derivation.
 */
function feCanonical(a: Fe): Fe {
  const o = fe();
  o.set(a);
  for (let pass = 0; pass < 3; pass++) {
    let carry = 0;
    for (let i = 0; i < LIMBS - 1; i++) {
      const v = o[i]! + carry;
      carry = Math.floor(v * INV_2_22);
      o[i] = v - carry * RADIX;
    }
    const top = o[LIMBS - 1]! + carry;
    carry = Math.floor(top / TOP_BITS);
    o[LIMBS - 1] = top - carry * TOP_BITS;
    o[0] = o[0]! + 19 * carry; // 2^255 = 19 (mod p)
  }
  // p = 2^255 - 19: limbs 2^22 - 19, 2^22 - 1 (ten of them), 2^13 - 1.
  let atLeastP = o[LIMBS - 1] === TOP_BITS - 1 && o[0]! >= RADIX - 19;
  for (let i = 1; i < LIMBS - 1 && atLeastP; i++) atLeastP = o[i] === RADIX - 1;
  if (atLeastP) {
    const low = o[0]! - (RADIX - 19); // value - p: only the low limb is left
    o.fill(0);
    o[0] = low;
  }
  return o;
}

function feIsZero(a: Fe): boolean {
  return feCanonical(a).every((limb) => limb === 0);
}

// feMul and feSqr are unrolled (column k = sum of a_i * b_(k-i)), generated rather than typed; a
// loop over typed arrays runs about 1.5x slower in V8. They end in the same reduction, written out
// twice on purpose: moving it into a helper (through an array or 23 arguments) made the whole
// derivation ~1.5x slower. Both read all inputs before writing, so `o` may alias `a` or `b`.

function feMul(o: Fe, a: Fe, b: Fe): void {
  const a0 = a[0]!, a1 = a[1]!, a2 = a[2]!, a3 = a[3]!, a4 = a[4]!, a5 = a[5]!;
  const a6 = a[6]!, a7 = a[7]!, a8 = a[8]!, a9 = a[9]!, a10 = a[10]!, a11 = a[11]!;
  const b0 = b[0]!, b1 = b[1]!, b2 = b[2]!, b3 = b[3]!, b4 = b[4]!, b5 = b[5]!;
  const b6 = b[6]!, b7 = b[7]!, b8 = b[8]!, b9 = b[9]!, b10 = b[10]!, b11 = b[11]!;
  let t0 = a0 * b0;
  let t1 = a0 * b1 + a1 * b0;
  let t2 = a0 * b2 + a1 * b1 + a2 * b0;
  let t3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  let t4 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0;
  let t5 = a0 * b5 + a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1 + a5 * b0;
  let t6 = a0 * b6 + a1 * b5 + a2 * b4 + a3 * b3 + a4 * b2 + a5 * b1 + a6 * b0;
  let t7 = a0 * b7 + a1 * b6 + a2 * b5 + a3 * b4 + a4 * b3 + a5 * b2 + a6 * b1 + a7 * b0;
  let t8 = a0 * b8 + a1 * b7 + a2 * b6 + a3 * b5 + a4 * b4 + a5 * b3 + a6 * b2 + a7 * b1 + a8 * b0;
  let t9 = a0 * b9 + a1 * b8 + a2 * b7 + a3 * b6 + a4 * b5 + a5 * b4 + a6 * b3 + a7 * b2 + a8 * b1 + a9 * b0;
  let t10 = a0 * b10 + a1 * b9 + a2 * b8 + a3 * b7 + a4 * b6 + a5 * b5 + a6 * b4 + a7 * b3 + a8 * b2 + a9 * b1 + a10 * b0;
  let t11 = a0 * b11 + a1 * b10 + a2 * b9 + a3 * b8 + a4 * b7 + a5 * b6 + a6 * b5 + a7 * b4 + a8 * b3 + a9 * b2 + a10 * b1 + a11 * b0;
  let t12 = a1 * b11 + a2 * b10 + a3 * b9 + a4 * b8 + a5 * b7 + a6 * b6 + a7 * b5 + a8 * b4 + a9 * b3 + a10 * b2 + a11 * b1;
  let t13 = a2 * b11 + a3 * b10 + a4 * b9 + a5 * b8 + a6 * b7 + a7 * b6 + a8 * b5 + a9 * b4 + a10 * b3 + a11 * b2;
  let t14 = a3 * b11 + a4 * b10 + a5 * b9 + a6 * b8 + a7 * b7 + a8 * b6 + a9 * b5 + a10 * b4 + a11 * b3;
  let t15 = a4 * b11 + a5 * b10 + a6 * b9 + a7 * b8 + a8 * b7 + a9 * b6 + a10 * b5 + a11 * b4;
  let t16 = a5 * b11 + a6 * b10 + a7 * b9 + a8 * b8 + a9 * b7 + a10 * b6 + a11 * b5;
  let t17 = a6 * b11 + a7 * b10 + a8 * b9 + a9 * b8 + a10 * b7 + a11 * b6;
  let t18 = a7 * b11 + a8 * b10 + a9 * b9 + a10 * b8 + a11 * b7;
  let t19 = a8 * b11 + a9 * b10 + a10 * b9 + a11 * b8;
  let t20 = a9 * b11 + a10 * b10 + a11 * b9;
  let t21 = a10 * b11 + a11 * b10;
  let t22 = a11 * b11;
  let c: number;
  // Carry the high columns 12..22 first (each below 2^51), so that folding them (weight
  // 2^264 = 9728 mod p) adds at most 2^36 to a low column; then carry the low ones round.
  c = Math.floor(t12 * INV_2_22); t12 -= c * RADIX; t13 += c;
  c = Math.floor(t13 * INV_2_22); t13 -= c * RADIX; t14 += c;
  c = Math.floor(t14 * INV_2_22); t14 -= c * RADIX; t15 += c;
  c = Math.floor(t15 * INV_2_22); t15 -= c * RADIX; t16 += c;
  c = Math.floor(t16 * INV_2_22); t16 -= c * RADIX; t17 += c;
  c = Math.floor(t17 * INV_2_22); t17 -= c * RADIX; t18 += c;
  c = Math.floor(t18 * INV_2_22); t18 -= c * RADIX; t19 += c;
  c = Math.floor(t19 * INV_2_22); t19 -= c * RADIX; t20 += c;
  c = Math.floor(t20 * INV_2_22); t20 -= c * RADIX; t21 += c;
  c = Math.floor(t21 * INV_2_22); t21 -= c * RADIX; t22 += c;
  c = Math.floor(t22 * INV_2_22); t22 -= c * RADIX; const t23 = c;
  t0 += 9728 * t12;
  t1 += 9728 * t13;
  t2 += 9728 * t14;
  t3 += 9728 * t15;
  t4 += 9728 * t16;
  t5 += 9728 * t17;
  t6 += 9728 * t18;
  t7 += 9728 * t19;
  t8 += 9728 * t20;
  t9 += 9728 * t21;
  t10 += 9728 * t22;
  t11 += 9728 * t23;
  c = Math.floor(t0 * INV_2_22); t0 -= c * RADIX; t1 += c;
  c = Math.floor(t1 * INV_2_22); t1 -= c * RADIX; t2 += c;
  c = Math.floor(t2 * INV_2_22); t2 -= c * RADIX; t3 += c;
  c = Math.floor(t3 * INV_2_22); t3 -= c * RADIX; t4 += c;
  c = Math.floor(t4 * INV_2_22); t4 -= c * RADIX; t5 += c;
  c = Math.floor(t5 * INV_2_22); t5 -= c * RADIX; t6 += c;
  c = Math.floor(t6 * INV_2_22); t6 -= c * RADIX; t7 += c;
  c = Math.floor(t7 * INV_2_22); t7 -= c * RADIX; t8 += c;
  c = Math.floor(t8 * INV_2_22); t8 -= c * RADIX; t9 += c;
  c = Math.floor(t9 * INV_2_22); t9 -= c * RADIX; t10 += c;
  c = Math.floor(t10 * INV_2_22); t10 -= c * RADIX; t11 += c;
  c = Math.floor(t11 * INV_2_22); t11 -= c * RADIX; t0 += 9728 * c;
  c = Math.floor(t0 * INV_2_22); t0 -= c * RADIX; t1 += c;
  c = Math.floor(t1 * INV_2_22); t1 -= c * RADIX; t2 += c;
  o[0] = t0; o[1] = t1; o[2] = t2; o[3] = t3;
  o[4] = t4; o[5] = t5; o[6] = t6; o[7] = t7;
  o[8] = t8; o[9] = t9; o[10] = t10; o[11] = t11;
}

function feSqr(o: Fe, a: Fe): void {
  const a0 = a[0]!, a1 = a[1]!, a2 = a[2]!, a3 = a[3]!, a4 = a[4]!, a5 = a[5]!;
  const a6 = a[6]!, a7 = a[7]!, a8 = a[8]!, a9 = a[9]!, a10 = a[10]!, a11 = a[11]!;
  const d0 = 2 * a0, d1 = 2 * a1, d2 = 2 * a2, d3 = 2 * a3, d4 = 2 * a4, d5 = 2 * a5;
  const d6 = 2 * a6, d7 = 2 * a7, d8 = 2 * a8, d9 = 2 * a9, d10 = 2 * a10;
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
  let t12 = d1 * a11 + d2 * a10 + d3 * a9 + d4 * a8 + d5 * a7 + a6 * a6;
  let t13 = d2 * a11 + d3 * a10 + d4 * a9 + d5 * a8 + d6 * a7;
  let t14 = d3 * a11 + d4 * a10 + d5 * a9 + d6 * a8 + a7 * a7;
  let t15 = d4 * a11 + d5 * a10 + d6 * a9 + d7 * a8;
  let t16 = d5 * a11 + d6 * a10 + d7 * a9 + a8 * a8;
  let t17 = d6 * a11 + d7 * a10 + d8 * a9;
  let t18 = d7 * a11 + d8 * a10 + a9 * a9;
  let t19 = d8 * a11 + d9 * a10;
  let t20 = d9 * a11 + a10 * a10;
  let t21 = d10 * a11;
  let t22 = a11 * a11;
  let c: number;
  // Carry the high columns 12..22 first (each below 2^51), so that folding them (weight
  // 2^264 = 9728 mod p) adds at most 2^36 to a low column; then carry the low ones round.
  c = Math.floor(t12 * INV_2_22); t12 -= c * RADIX; t13 += c;
  c = Math.floor(t13 * INV_2_22); t13 -= c * RADIX; t14 += c;
  c = Math.floor(t14 * INV_2_22); t14 -= c * RADIX; t15 += c;
  c = Math.floor(t15 * INV_2_22); t15 -= c * RADIX; t16 += c;
  c = Math.floor(t16 * INV_2_22); t16 -= c * RADIX; t17 += c;
  c = Math.floor(t17 * INV_2_22); t17 -= c * RADIX; t18 += c;
  c = Math.floor(t18 * INV_2_22); t18 -= c * RADIX; t19 += c;
  c = Math.floor(t19 * INV_2_22); t19 -= c * RADIX; t20 += c;
  c = Math.floor(t20 * INV_2_22); t20 -= c * RADIX; t21 += c;
  c = Math.floor(t21 * INV_2_22); t21 -= c * RADIX; t22 += c;
  c = Math.floor(t22 * INV_2_22); t22 -= c * RADIX; const t23 = c;
  t0 += 9728 * t12;
  t1 += 9728 * t13;
  t2 += 9728 * t14;
  t3 += 9728 * t15;
  t4 += 9728 * t16;
  t5 += 9728 * t17;
  t6 += 9728 * t18;
  t7 += 9728 * t19;
  t8 += 9728 * t20;
  t9 += 9728 * t21;
  t10 += 9728 * t22;
  t11 += 9728 * t23;
  c = Math.floor(t0 * INV_2_22); t0 -= c * RADIX; t1 += c;
  c = Math.floor(t1 * INV_2_22); t1 -= c * RADIX; t2 += c;
  c = Math.floor(t2 * INV_2_22); t2 -= c * RADIX; t3 += c;
  c = Math.floor(t3 * INV_2_22); t3 -= c * RADIX; t4 += c;
  c = Math.floor(t4 * INV_2_22); t4 -= c * RADIX; t5 += c;
  c = Math.floor(t5 * INV_2_22); t5 -= c * RADIX; t6 += c;
  c = Math.floor(t6 * INV_2_22); t6 -= c * RADIX; t7 += c;
  c = Math.floor(t7 * INV_2_22); t7 -= c * RADIX; t8 += c;
  c = Math.floor(t8 * INV_2_22); t8 -= c * RADIX; t9 += c;
  c = Math.floor(t9 * INV_2_22); t9 -= c * RADIX; t10 += c;
  c = Math.floor(t10 * INV_2_22); t10 -= c * RADIX; t11 += c;
  c = Math.floor(t11 * INV_2_22); t11 -= c * RADIX; t0 += 9728 * c;
  c = Math.floor(t0 * INV_2_22); t0 -= c * RADIX; t1 += c;
  c = Math.floor(t1 * INV_2_22); t1 -= c * RADIX; t2 += c;
  o[0] = t0; o[1] = t1; o[2] = t2; o[3] = t3;
  o[4] = t4; o[5] = t5; o[6] = t6; o[7] = t7;
  o[8] = t8; o[9] = t9; o[10] = t10; o[11] = t11;
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
  const zInvs = inverseZs(points.filter((p): p is Extended => p !== null));
  let k = 0;
  return points.map((p) => (p === null ? null : encode(p, zInvs[k++]!)));
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
  const out = feToBytes(feCanonical(y));
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

/** The scalar being multiplied, padded; multiplications are synchronous, so one buffer serves them all. */
const scalarScratch = new Uint8Array(35);

/** combMultiply for a 32-byte little-endian scalar. */
function combMultiplyBytes(comb: Comb, bytes: Uint8Array): Extended {
  const { width, rows } = comb;
  const mask = (1 << width) - 1;
  const half = 1 << (width - 1);
  const padded = scalarScratch; // reads past the scalar's end see zeros, not undefined
  padded.fill(0);
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
