// The base58check envelope of a serialised BIP32 key (78 bytes + a 4-byte double-SHA-256 checksum),
// which every chain family that takes an account-level extended public key opens the same way.
import { sha256 } from "@noble/hashes/sha2.js";
import { base58 } from "@scure/base";

/** Bytes of a serialised BIP32 node: version 4, depth 1, parent fingerprint 4, index 4, chain code 32, key 33. */
export const EXTENDED_KEY_BYTES = 78;
const CHECKSUM_BYTES = 4;

/** The 78-byte payload of `text`, or why there is none: not base58 of that length, or a wrong checksum. */
export function openExtendedKey(text: string): { ok: true; payload: Uint8Array; version: number } | { ok: false; problem: "malformed" | "bad-checksum" } {
  let raw: Uint8Array;
  try {
    raw = base58.decode(text);
  } catch {
    return { ok: false, problem: "malformed" };
  }
  if (raw.length !== EXTENDED_KEY_BYTES + CHECKSUM_BYTES) return { ok: false, problem: "malformed" };
  const payload = raw.subarray(0, EXTENDED_KEY_BYTES);
  const expected = sha256(sha256(payload));
  for (let i = 0; i < CHECKSUM_BYTES; i++) if (raw[EXTENDED_KEY_BYTES + i] !== expected[i]) return { ok: false, problem: "bad-checksum" };
  return { ok: true, payload, version: new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, false) };
}
