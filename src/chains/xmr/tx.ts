// A transaction as the daemon decodes it (get_transactions `as_json`, get_transaction_pool `tx_json`,
// a block's `miner_tx`), reduced to the compact, structured-clonable record view-key scanning needs.

import { bytesToHex } from "@noble/hashes/utils.js";

export interface ScanOutput {
  /** One-time output key P (hex, 32 bytes). */
  key: string;
  /** View tag (hex, 1 byte); absent for untagged `{"key": …}` targets (before hard fork 15). */
  viewTag?: string;
  /** Cleartext amount (coinbase, version-1 txs); 0n for RingCT outputs, whose amount is encrypted. */
  amount: bigint;
  /** RingCT encrypted amount (hex): 16 chars for types >= 4, 64 chars for types 1-3. */
  ecdhAmount?: string;
  /** RingCT types 1-3 only: the encrypted commitment mask (hex, 64 chars). */
  ecdhMask?: string;
  /** RingCT output commitment C = mask·G + amount·H (hex, 32 bytes), to verify a decrypted amount. */
  commitment?: string;
}

export interface ScanTx {
  hash: string;
  unlockTime: bigint;
  /** RingCT type: 0 for coinbase and version-1 txs, 6 (BulletproofPlus) since hard fork 15. */
  rctType: number;
  /**
   * Miner tx (input `gen`). Its unlock_time (height + 60) is the protocol's maturity rule, not a
   * time lock chosen by a payer, so scanning does not reject it.
   */
  coinbase?: boolean;
  /** Every tx public key R (tag 0x01) in extra, in order; usually exactly one. */
  txPubKeys: string[];
  /** Additional tx public keys (tag 0x04), one per output when present. */
  additionalPubKeys: string[];
  outputs: ScanOutput[];
}

const HEX32 = /^[0-9a-f]{64}$/;
const HEX8 = /^[0-9a-f]{16}$/;
const HEX1 = /^[0-9a-f]{2}$/;

type Json = Record<string, unknown>;

/**
 * Parses one decoded transaction. Throws on anything that is not the daemon's tx JSON (wrong
 * shapes, bad hex, outputs without matching RingCT data). An unparsable `extra` is not an error:
 * Monero's own parser keeps the fields it read before the garbage, and so does this one.
 */
export function parseScanTx(hash: string, txJson: unknown): ScanTx {
  const fail: (what: string) => never = (what) => {
    throw new Error(`malformed Monero tx ${hash}: ${what}`);
  };
  const txHash = hash.toLowerCase();
  if (!HEX32.test(txHash)) fail("hash is not 32 bytes of hex");
  if (!isObject(txJson)) return fail("not a JSON object");

  // Only zero vs non-zero matters here, so a rounded JSON number is as good as the exact one.
  const lock = txJson.unlock_time;
  const unlockTime = typeof lock === "number" && Number.isInteger(lock) && lock >= 0 ? BigInt(lock) : fail("unlock_time");
  const vin = Array.isArray(txJson.vin) ? txJson.vin : fail("vin");
  const coinbase = vin.length === 1 && isObject(vin[0]) && "gen" in vin[0];
  const vout = Array.isArray(txJson.vout) ? txJson.vout : fail("vout");
  const extra = Array.isArray(txJson.extra) ? txJson.extra : fail("extra");
  const extraBytes = Uint8Array.from(extra, (b) => (Number.isInteger(b) && b >= 0 && b <= 255 ? b : fail("extra byte")));

  const rct: Json = txJson.rct_signatures === undefined ? {} : isObject(txJson.rct_signatures) ? txJson.rct_signatures : fail("rct_signatures");
  const rctType = rct.type ?? 0; // version-1 txs have no rct_signatures
  if (typeof rctType !== "number" || !Number.isInteger(rctType) || rctType < 0) return fail("rct_signatures.type");
  const ecdhInfo = rctType === 0 ? [] : Array.isArray(rct.ecdhInfo) ? rct.ecdhInfo : fail("ecdhInfo");
  const outPk = rctType === 0 ? [] : Array.isArray(rct.outPk) ? rct.outPk : fail("outPk");
  if (rctType !== 0 && (ecdhInfo.length !== vout.length || outPk.length !== vout.length)) {
    fail("ecdhInfo/outPk do not match the outputs");
  }

  const outputs = vout.map((o, i): ScanOutput => {
    if (!isObject(o) || !isObject(o.target)) return fail(`vout[${i}]`);
    const tagged = o.target.tagged_key;
    const target = isObject(tagged) ? tagged : o.target;
    const key = hex(target.key, HEX32) ?? fail(`vout[${i}] key`);
    const out: ScanOutput = { key, amount: 0n };
    if (isObject(tagged)) out.viewTag = hex(tagged.view_tag, HEX1) ?? fail(`vout[${i}] view_tag`);
    if (rctType === 0) {
      out.amount = toUint64(o.amount) ?? fail(`vout[${i}] amount`);
      return out;
    }
    const ecdh = ecdhInfo[i];
    if (!isObject(ecdh)) return fail(`ecdhInfo[${i}]`);
    if (rctType >= 4) {
      out.ecdhAmount = hex(ecdh.amount, HEX8) ?? fail(`ecdhInfo[${i}].amount`);
    } else {
      out.ecdhAmount = hex(ecdh.amount, HEX32) ?? fail(`ecdhInfo[${i}].amount`);
      out.ecdhMask = hex(ecdh.mask, HEX32) ?? fail(`ecdhInfo[${i}].mask`);
    }
    out.commitment = hex(outPk[i], HEX32) ?? fail(`outPk[${i}]`);
    return out;
  });

  return { hash: txHash, unlockTime, rctType, coinbase, ...parseExtraKeys(extraBytes), outputs };
}

/** Tx public keys from `extra`, read like Monero's parse_tx_extra: stop at the first field it cannot read. */
function parseExtraKeys(extra: Uint8Array): { txPubKeys: string[]; additionalPubKeys: string[] } {
  const txPubKeys: string[] = [];
  const additionalPubKeys: string[] = [];
  let i = 0;
  const readVarint = (): number | null => {
    let value = 0;
    for (let shift = 0; i < extra.length && shift < 35; shift += 7) {
      const byte = extra[i++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return null;
  };
  const readKey = (): string | null => (i + 32 <= extra.length ? bytesToHex(extra.subarray(i, (i += 32))) : null);

  while (i < extra.length) {
    const tag = extra[i++];
    if (tag === 0x01) {
      const key = readKey();
      if (key === null) break;
      txPubKeys.push(key);
    } else if (tag === 0x04) {
      const count = readVarint();
      if (count === null || i + 32 * count > extra.length) break;
      for (let k = 0; k < count; k++) additionalPubKeys.push(readKey()!);
    } else if (tag === 0x02 || tag === 0x03 || tag === 0xde) {
      // nonce (payment ids), merge-mining tag, "mysterious minergate": length-prefixed, skipped
      const length = readVarint();
      if (length === null || i + length > extra.length) break;
      i += length;
    } else {
      break; // 0x00 padding runs to the end; any other tag is unknown to Monero's parser too
    }
  }
  return { txPubKeys, additionalPubKeys };
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function hex(v: unknown, pattern: RegExp): string | undefined {
  if (typeof v !== "string") return undefined;
  const lower = v.toLowerCase();
  return pattern.test(lower) ? lower : undefined;
}

/** JSON numbers are exact only below 2^53: a larger amount parsed as a number is rejected, not rounded. */
function toUint64(v: unknown): bigint | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : undefined;
  if (typeof v === "bigint") return v >= 0n && v < 2n ** 64n ? v : undefined;
  if (typeof v === "string" && /^[0-9]{1,20}$/.test(v)) {
    const n = BigInt(v);
    return n < 2n ** 64n ? n : undefined;
  }
  return undefined;
}
