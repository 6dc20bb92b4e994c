// View-key scanning: which outputs of one transaction pay a watched subaddress, and how much each
// carries, with the decrypted amount checked against the output's commitment as Monero's wallet does.

import { bytesToNumberLE } from "@noble/curves/utils.js";
import { concatBytes, hexToBytes } from "@noble/hashes/utils.js";
import { bytesToHex, CURVE_ORDER, derivationToScalar, deriveViewTag, hashToScalar, keccak256, scalarToBytes } from "./keys";
import { amountCommitment, deriveSubaddressPublicKey, generateKeyDerivation, generateKeyDerivations } from "./curve";
import type { ScanOutput, ScanTx } from "./tx";

export interface OwnedOutput<T> {
  outputIndex: number;
  /** One-time output key (hex): the output's identity on chain. */
  outputKey: string;
  amount: bigint;
  owner: T;
}

/** The curve arithmetic a scan needs: curve.ts's; bench/xmr-scan passes stock noble's to compare the same algorithm. */
export interface ScanCurve {
  /** 8·a·R, or null when R is not a point. */
  derivation(txPublicKey: Uint8Array, privateViewKey: Uint8Array): Uint8Array | null;
  /** P − shared·G, or null when P is not a point. */
  spendKey(outputKey: Uint8Array, shared: bigint): Uint8Array | null;
  /** mask·G + amount·H. */
  commitment(mask: bigint, amount: bigint): Uint8Array;
}

const CURVE: ScanCurve = { derivation: generateKeyDerivation, spendKey: deriveSubaddressPublicKey, commitment: amountCommitment };

const AMOUNT_SALT = new TextEncoder().encode("amount");
const MASK_SALT = new TextEncoder().encode("commitment_mask");
const HEX32 = /^[0-9a-f]{64}$/;

/**
 * The outputs of `tx` that belong to one of `spendKeys` (hex subaddress spend key D -> owner),
 * in output order. Rules:
 * - Rejected outright: every output of a non-coinbase tx with a non-zero unlock_time. The payer
 *   chose a time lock, so the money could stay unspendable for as long as the payer likes; Monero's
 *   wallet shows such transfers as locked, and a merchant must not count them as paid.
 * - The derivation 8·a·R is computed once per distinct tx public key; output i is tried against
 *   every main key R and against additional key i, since either may be the one the sender used.
 * - A view tag, when present, rules an output out with one hash before any curve arithmetic.
 * - An output key seen twice in one tx is returned once (the "burning bug": only one of the two can
 *   ever be spent). Callers must apply the same guard across transactions.
 * - A RingCT amount is returned only when mask·G + amount·H equals the output commitment: the
 *   encrypted amount is whatever the sender wrote, the commitment is what consensus checked.
 * - Keys in extra that are not curve points are skipped; they never make this throw.
 * `privateViewKey` is the output of parsePrivateViewKey; a key of the wrong size throws.
 */
export function scanTransaction<T>(
  tx: ScanTx,
  privateViewKey: Uint8Array,
  spendKeys: ReadonlyMap<string, T>,
  curve: ScanCurve = CURVE,
): OwnedOutput<T>[] {
  if (privateViewKey.length !== 32) throw new RangeError("scanTransaction: the private view key must be 32 bytes");
  if (!worthScanning(tx) || spendKeys.size === 0) return [];
  const derivations = new Map<string, Uint8Array | null>();
  const derive = (txPubKey: string): Uint8Array | null => {
    let derivation = derivations.get(txPubKey);
    if (derivation === undefined) {
      derivation = HEX32.test(txPubKey) ? curve.derivation(hexToBytes(txPubKey), privateViewKey) : null;
      derivations.set(txPubKey, derivation);
    }
    return derivation;
  };
  return scanWithDerivations(tx, derive, spendKeys, curve);
}

/** One view key's part of a scan of one tx for many (scanTransactionForKeys). */
export interface KeyScan<T> {
  privateViewKey: Uint8Array;
  spendKeys: ReadonlyMap<string, T>;
}

/**
 * scanTransaction for many view keys at once (a scan shard's merchants): result i is exactly what
 * scanTransaction(tx, scans[i].privateViewKey, scans[i].spendKeys) returns. The derivations of
 * each tx public key for all the keys are computed together (generateKeyDerivations), which from a
 * handful of keys on costs a fraction of one derivation per key.
 */
export function scanTransactionForKeys<T>(tx: ScanTx, scans: readonly KeyScan<T>[]): OwnedOutput<T>[][] {
  if (scans.some((s) => s.privateViewKey.length !== 32)) throw new RangeError("scanTransaction: the private view key must be 32 bytes");
  const active = worthScanning(tx) ? scans.filter((s) => s.spendKeys.size > 0) : [];
  if (active.length === 0) return scans.map(() => []);
  const viewKeys = active.map((s) => s.privateViewKey);
  const byTxKey = new Map<string, (Uint8Array | null)[]>();
  for (const txPubKey of new Set([...tx.txPubKeys, ...tx.additionalPubKeys.slice(0, tx.outputs.length)])) {
    byTxKey.set(txPubKey, HEX32.test(txPubKey) ? generateKeyDerivations(hexToBytes(txPubKey), viewKeys) : viewKeys.map(() => null));
  }
  const found = new Map(active.map((s, i) => [s, scanWithDerivations(tx, (txPubKey) => byTxKey.get(txPubKey)?.[i] ?? null, s.spendKeys, CURVE)] as const));
  return scans.map((s) => found.get(s) ?? []);
}

/** False for a tx no view key can be paid by: time-locked (see scanTransaction) or without outputs. */
function worthScanning(tx: ScanTx): boolean {
  return (tx.unlockTime === 0n || tx.coinbase === true) && tx.outputs.length > 0;
}

/** The outputs of `tx` paying `spendKeys`, given each tx public key's derivation for the view key. */
function scanWithDerivations<T>(
  tx: ScanTx,
  derive: (txPubKey: string) => Uint8Array | null,
  spendKeys: ReadonlyMap<string, T>,
  curve: ScanCurve,
): OwnedOutput<T>[] {
  const mainDerivations = [...new Set(tx.txPubKeys)].map(derive);
  const found: OwnedOutput<T>[] = [];
  const seen = new Set<string>();
  tx.outputs.forEach((output, index) => {
    const additional = tx.additionalPubKeys[index];
    const candidates = additional === undefined ? mainDerivations : [...mainDerivations, derive(additional)];
    const tag = output.viewTag === undefined ? undefined : parseInt(output.viewTag, 16);
    for (const derivation of candidates) {
      if (derivation === null) continue;
      if (tag !== undefined && deriveViewTag(derivation, index) !== tag) continue;
      const shared = derivationToScalar(derivation, index);
      const spendKey = recoverSpendKey(curve, output.key, shared);
      if (spendKey === null || !spendKeys.has(spendKey)) continue;
      const amount = decodeAmount(tx.rctType, output, scalarToBytes(shared), curve);
      if (amount === null) continue;
      if (!seen.has(output.key)) {
        seen.add(output.key);
        found.push({ outputIndex: index, outputKey: output.key, amount, owner: spendKeys.get(spendKey)! });
      }
      return;
    }
  });
  return found;
}

/** D' = P - Hs(derivation ‖ i)·G as hex: the spend key the output pays if it is ours. */
function recoverSpendKey(curve: ScanCurve, outputKey: string, shared: bigint): string | null {
  if (!HEX32.test(outputKey)) return null;
  const spendKey = curve.spendKey(hexToBytes(outputKey), shared);
  return spendKey === null ? null : bytesToHex(spendKey);
}

/** The amount of an output we own, or null when it does not match its commitment. */
export function decodeAmount(rctType: number, output: ScanOutput, shared: Uint8Array, curve: ScanCurve = CURVE): bigint | null {
  if (rctType === 0) return output.amount; // coinbase and version-1 txs: cleartext, checked by consensus
  const { ecdhAmount, ecdhMask, commitment } = output;
  if (ecdhAmount === undefined || commitment === undefined) return null;
  let mask: bigint;
  let amount: bigint;
  if (rctType >= 4) {
    // Since Bulletproofs2 the amount is 8 bytes XOR keccak("amount" ‖ shared), and the mask is
    // derived, not transmitted.
    if (!/^[0-9a-f]{16}$/.test(ecdhAmount)) return null;
    const pad = keccak256(concatBytes(AMOUNT_SALT, shared));
    const encrypted = hexToBytes(ecdhAmount);
    amount = 0n;
    for (let k = 7; k >= 0; k--) amount = (amount << 8n) | BigInt(encrypted[k]! ^ pad[k]!);
    mask = hashToScalar(MASK_SALT, shared);
  } else {
    // Types 1-3: mask and amount are 32-byte scalars, offset by Hs(shared) and Hs(Hs(shared)).
    if (ecdhMask === undefined || !HEX32.test(ecdhAmount) || !HEX32.test(ecdhMask)) return null;
    const maskOffset = hashToScalar(shared);
    const amountOffset = hashToScalar(scalarToBytes(maskOffset));
    mask = subModL(bytesToNumberLE(hexToBytes(ecdhMask)), maskOffset);
    amount = subModL(bytesToNumberLE(hexToBytes(ecdhAmount)), amountOffset);
    if (amount >= 2n ** 64n) return null; // range proofs allow no more; Monero reads the low 8 bytes
  }
  return bytesToHex(curve.commitment(mask, amount)) === commitment ? amount : null;
}

function subModL(a: bigint, b: bigint): bigint {
  const r = (a - b) % CURVE_ORDER;
  return r < 0n ? r + CURVE_ORDER : r;
}
