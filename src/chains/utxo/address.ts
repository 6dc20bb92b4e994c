// Invoice addresses of an account key, and address text <-> output script for one network. Payments are
// matched on the script (hex scriptPubKey), never on address strings: one script has several spellings.

import { p2pkh, p2sh, p2tr, p2wpkh } from "@scure/btc-signer";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes } from "@noble/hashes/utils.js";
import { base58check as base58checkOf, bech32, bech32m } from "@scure/base";
import type { AccountKey } from "./keys";
import type { ScriptType, UtxoNetwork } from "./networks";

export interface DerivedOutput {
  /** How the network's nodes write the script (validateaddress / getblock spell it the same way). */
  address: string;
  /** The output script (scriptPubKey). */
  script: Uint8Array;
  /** Hex of `script`: what the watcher matches outputs against. */
  matchKey: string;
  /** The derived public key (33-byte compressed). */
  publicKey: Uint8Array;
}

/** BIP44 chains: 0 receives, 1 is change. Invoices only ever use the external one. */
export type Branch = 0 | 1;
/** Last non-hardened index: an xpub cannot derive beyond it. */
export const MAX_ADDRESS_INDEX = 0x7fffffff;

/** The address of invoice `index`: the account's external chain, `/0/index`. */
export function deriveInvoiceAddress(key: AccountKey, index: number): DerivedOutput {
  return deriveOutput(key, 0, index);
}

/** The output at `/branch/index` below the account key. */
export function deriveOutput(key: AccountKey, branch: Branch, index: number): DerivedOutput {
  if (branch !== 0 && branch !== 1) throw new RangeError(`deriveOutput: branch must be 0 or 1, got ${String(branch)}`);
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_ADDRESS_INDEX) {
    throw new RangeError(`deriveOutput: index must be an integer in 0..${MAX_ADDRESS_INDEX}, got ${index}`);
  }
  const publicKey = key.account.deriveChild(branch).deriveChild(index).publicKey!;
  const script = scriptOfPublicKey(key.script, publicKey);
  const address = addressOfScript(script, key.network);
  // Every script type above has an address form; reaching this would be a bug, not bad input.
  if (address === null) throw new Error(`deriveOutput: no address form for ${key.script}`);
  return { address, script, matchKey: bytesToHex(script), publicKey };
}

/** The output script paying a compressed public key; p2tr applies the BIP-86 key-path-only tweak. */
export function scriptOfPublicKey(type: ScriptType, publicKey: Uint8Array): Uint8Array {
  switch (type) {
    case "p2pkh":
      return p2pkh(publicKey).script;
    case "p2sh-p2wpkh":
      return p2sh(p2wpkh(publicKey)).script;
    case "p2wpkh":
      return p2wpkh(publicKey).script;
    case "p2tr":
      // BIP-86: the x-only internal key, tweaked with an empty script tree.
      return p2tr(publicKey.subarray(1, 33)).script;
  }
}

const base58check = base58checkOf(sha256);
const OP_0 = 0x00;
const OP_1 = 0x51;
const OP_16 = 0x60;
const OP_DUP = 0x76;
const OP_HASH160 = 0xa9;
const OP_EQUAL = 0x87;
const OP_EQUALVERIFY = 0x88;
const OP_CHECKSIG = 0xac;
const HASH160_BYTES = 20;
// BIP-173: a bech32 string is at most 90 characters; base58 addresses are far shorter.
const MAX_ADDRESS_LENGTH = 90;

/**
 * The output script an address of `network` pays to; null for anything that is not a valid address of
 * exactly that network (another network's prefix, a bad checksum, a witness program of the wrong size,
 * an MWEB address, …). Legacy P2SH spellings (Litecoin's 3… and 2…) decode to the same script as M…/Q….
 */
export function scriptOfAddress(address: string, network: UtxoNetwork): Uint8Array | null {
  if (typeof address !== "string" || address.length === 0 || address.length > MAX_ADDRESS_LENGTH) return null;
  const separator = address.lastIndexOf("1");
  if (separator > 0 && address.slice(0, separator).toLowerCase() === network.bech32) return segwitScript(address);
  return base58Script(address, network);
}

function segwitScript(address: string): Uint8Array | null {
  // BIP-350: version 0 is bech32, versions 1-16 bech32m; the checksum constant tells them apart.
  const asBech32 = bech32.decodeUnsafe(address, MAX_ADDRESS_LENGTH);
  const decoded = asBech32 ?? bech32m.decodeUnsafe(address, MAX_ADDRESS_LENGTH);
  if (!decoded || decoded.words.length === 0) return null;
  const [version, ...data] = decoded.words as [number, ...number[]];
  if (version > 16 || (version === 0) !== (asBech32 !== undefined)) return null;
  const program = bech32.fromWordsUnsafe(data);
  if (!program || program.length < 2 || program.length > 40) return null;
  if (version === 0 && program.length !== 20 && program.length !== 32) return null;
  return concatBytes(Uint8Array.of(version === 0 ? OP_0 : OP_1 + version - 1, program.length), program);
}

function base58Script(address: string, network: UtxoNetwork): Uint8Array | null {
  let payload: Uint8Array;
  try {
    payload = base58check.decode(address);
  } catch {
    return null;
  }
  if (payload.length !== 1 + HASH160_BYTES) return null;
  const hash = payload.subarray(1);
  const version = payload[0]!;
  if (version === network.p2pkhVersion) {
    return concatBytes(Uint8Array.of(OP_DUP, OP_HASH160, HASH160_BYTES), hash, Uint8Array.of(OP_EQUALVERIFY, OP_CHECKSIG));
  }
  if (network.p2shVersions.includes(version)) {
    return concatBytes(Uint8Array.of(OP_HASH160, HASH160_BYTES), hash, Uint8Array.of(OP_EQUAL));
  }
  return null;
}

/**
 * How `network` writes an output script as an address (P2SH with the current version); null for a
 * script without an address form (OP_RETURN, bare multisig, pay-to-pubkey, non-standard).
 */
export function addressOfScript(script: Uint8Array, network: UtxoNetwork): string | null {
  const n = script.length;
  if (n === 25 && script[0] === OP_DUP && script[1] === OP_HASH160 && script[2] === HASH160_BYTES && script[23] === OP_EQUALVERIFY && script[24] === OP_CHECKSIG) {
    return base58check.encode(concatBytes(Uint8Array.of(network.p2pkhVersion), script.subarray(3, 23)));
  }
  if (n === 23 && script[0] === OP_HASH160 && script[1] === HASH160_BYTES && script[22] === OP_EQUAL) {
    return base58check.encode(concatBytes(Uint8Array.of(network.p2shVersions[0]!), script.subarray(2, 22)));
  }
  const opcode = script[0];
  const length = script[1];
  if (n < 4 || n > 42 || length !== n - 2 || opcode === undefined) return null;
  if (opcode === OP_0) {
    if (length !== 20 && length !== 32) return null;
    return bech32.encode(network.bech32, [0, ...bech32.toWords(script.subarray(2))]);
  }
  if (opcode >= OP_1 && opcode <= OP_16) {
    return bech32m.encode(network.bech32, [opcode - OP_1 + 1, ...bech32m.toWords(script.subarray(2))]);
  }
  return null;
}
