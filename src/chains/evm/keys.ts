// A merchant's watch-only account key for Ethereum and BNB Smart Chain, parsed once from what a wallet
// exports: the BIP44 account node m/44'/60'/0' as an xpub. One key serves every EVM network alike.

import { HDKey } from "@scure/bip32";
import { EXTENDED_KEY_BYTES, openExtendedKey } from "../extended-key";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes } from "@noble/hashes/utils.js";

export interface AccountKey {
  /** The account node (public only); invoices pay to its external chain `/0/i`. */
  readonly account: HDKey;
  /**
   * Identity of the key for "one key, one user": hex SHA-256 of chain code ‖ public key, the two things
   * every derived address depends on (the same formula as utxo/keys.ts). Depth, parent fingerprint and
   * child index are left out, so one key written with other origin metadata is still one key.
   */
  readonly fingerprint: string;
}

export type KeyProblem =
  /** Not base58, or not the 82 bytes of an extended key and its checksum. */
  | "malformed"
  /** A base58 key whose 4-byte checksum does not match. */
  | "bad-checksum"
  /** xprv, tprv, zprv, …: a watch-only service must never be handed one. */
  | "private-key"
  /** A public key with another version than xpub: tpub, ypub, zpub, Ltub, or bytes no wallet writes. */
  | "wrong-version"
  /** Not at account depth 3 (m/44'/60'/account'): a master key, or a chain or address node. */
  | "wrong-depth"
  /** Well-formed bytes that are not a valid BIP32 public node (not a curve point, depth 0 with a parent, …). */
  | "invalid-key";

/**
 * The only version accepted. Ethereum has no testnet key version (SLIP-132 lists none for coin 60) and
 * wallets export xpub for every EVM network, testnets included, whose addresses are the same as mainnet's:
 * a tpub brings no key an xpub cannot say, and is far more likely a Bitcoin testnet key pasted here.
 */
const XPUB_VERSION = 0x0488b21e;
/** Needed only because HDKey wants both versions; private keys are refused before it sees one. */
const XPRV_VERSION = 0x0488ade4;
// An xpub is 111 characters; the bound keeps base58 decoding of garbage cheap.
const MAX_INPUT_LENGTH = 128;
const ACCOUNT_DEPTH = 3;
/** Offset of the 33-byte key: a 0x00 there marks a private key (BIP32), whatever the version says. */
const KEY_OFFSET = 45;

/** Parses a merchant's EVM account xpub; every refusal is a typed problem, nothing throws. */
export function parseAccountKey(text: string): { ok: true; key: AccountKey } | { ok: false; problem: KeyProblem } {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_INPUT_LENGTH) return { ok: false, problem: "malformed" };
  const opened = openExtendedKey(text);
  if (!opened.ok) return opened;
  const { payload } = opened;

  if (payload[KEY_OFFSET] === 0) return { ok: false, problem: "private-key" };
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (view.getUint32(0, false) !== XPUB_VERSION) return { ok: false, problem: "wrong-version" };

  let account: HDKey;
  try {
    account = new HDKey({
      versions: { public: XPUB_VERSION, private: XPRV_VERSION },
      depth: payload[4]!,
      parentFingerprint: view.getUint32(5, false),
      index: view.getUint32(9, false),
      chainCode: payload.slice(13, KEY_OFFSET),
      publicKey: payload.slice(KEY_OFFSET, EXTENDED_KEY_BYTES),
    });
  } catch {
    return { ok: false, problem: "invalid-key" };
  }
  if (account.depth !== ACCOUNT_DEPTH) return { ok: false, problem: "wrong-depth" };
  return { ok: true, key: { account, fingerprint: bytesToHex(sha256(concatBytes(account.chainCode!, account.publicKey!))) } };
}
