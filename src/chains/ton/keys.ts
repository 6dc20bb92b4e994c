// A merchant's TON wallet public key, parsed once from what a wallet or tool exports: the 32-byte ed25519
// key as hex or base64. Every invoice wallet (wallet.ts) is derived from it; the private key never comes here.

import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { base64, base64nopad, base64url, base64urlnopad } from "@scure/base";

export interface PublicKey {
  /** The 32-byte ed25519 public key, a point of the prime-order subgroup. */
  readonly publicKey: Uint8Array;
  /**
   * Identity of the key for "one key, one user": the key itself in lowercase hex. Every invoice address
   * depends on these 32 bytes alone, so two spellings of one key are one user.
   */
  readonly fingerprint: string;
  /** The spelling stored and shown back: 64 lowercase hex digits. */
  readonly canonical: string;
}

export type KeyProblem =
  /** Empty, too long, or neither 64 hex digits nor base64 / base64url. */
  | "malformed"
  /** Hex or base64 that decodes to something other than 32 (or 64) bytes. */
  | "wrong-length"
  /** 64 bytes: a NaCl secret key (seed ‖ public key) or a key pair; a watch-only service must never hold one. */
  | "private-key"
  /** Words separated by spaces: a mnemonic, which is the wallet's secret. */
  | "seed-phrase"
  /** 32 bytes that are not the canonical encoding of an ed25519 point. */
  | "not-a-point"
  /** A point of small order or with a torsion component: [a]B never is one, so no wallet holds this key. */
  | "weak-key";

export const PUBLIC_KEY_BYTES = 32;
const SECRET_KEY_BYTES = 64;
// A 24-word mnemonic is under 220 characters; the bound keeps decoding of garbage cheap and still lets a
// pasted mnemonic be named for what it is.
const MAX_INPUT_LENGTH = 256;

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const MNEMONIC = /^[a-z]+(?:\s+[a-z]+){11,}$/i;

/** Parses a merchant's TON public key; every refusal is a typed problem, nothing throws. */
export function parsePublicKey(text: string): { ok: true; key: PublicKey } | { ok: false; problem: KeyProblem } {
  if (typeof text !== "string" || text.length > MAX_INPUT_LENGTH) return { ok: false, problem: "malformed" };
  const trimmed = text.trim();
  if (trimmed.length === 0) return { ok: false, problem: "malformed" };
  if (MNEMONIC.test(trimmed)) return { ok: false, problem: "seed-phrase" };

  const bytes = decodeKeyText(trimmed);
  if (bytes === null) return { ok: false, problem: "malformed" };
  if (bytes.length === SECRET_KEY_BYTES) return { ok: false, problem: "private-key" };
  if (bytes.length !== PUBLIC_KEY_BYTES) return { ok: false, problem: "wrong-length" };

  let point;
  try {
    point = ed25519.Point.fromBytes(bytes); // strict: y < p and a canonical sign bit (not ZIP-215)
  } catch {
    return { ok: false, problem: "not-a-point" };
  }
  if (point.isSmallOrder() || !point.isTorsionFree()) return { ok: false, problem: "weak-key" };
  const canonical = bytesToHex(bytes);
  return { ok: true, key: { publicKey: bytes, fingerprint: canonical, canonical } };
}

/**
 * Hex (even length, any case) or base64 in either alphabet, padded or not; null for anything else.
 * The decoders are strict (no stray padding bits), so one key has one base64 spelling per alphabet.
 */
function decodeKeyText(text: string): Uint8Array | null {
  if (HEX.test(text)) return hexToBytes(text.toLowerCase());
  const padded = text.endsWith("=");
  const coder = BASE64.test(text) ? (padded ? base64 : base64nopad) : BASE64URL.test(text) ? (padded ? base64url : base64urlnopad) : null;
  if (coder === null) return null;
  try {
    return coder.decode(text);
  } catch {
    return null;
  }
}
