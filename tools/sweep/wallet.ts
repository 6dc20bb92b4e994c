// The merchant's signing keys: a BIP39 mnemonic (and passphrase) checked once, its seed stretched once, and the
// invoice accounts m/44'/60'/0'/0/i derived from it; a separate funding key is a plain 32-byte hex private key.

import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { HDKey } from "@scure/bip32";
import { english, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { Hex } from "viem";

const WORD_COUNTS = [12, 15, 18, 21, 24];
const WORD_INDEX = new Map(english.map((word, i) => [word, i]));

export class SecretError extends Error {
  override name = "SecretError";
}

/** The words of a BIP39 English mnemonic, normalised; throws (without quoting any word) unless its checksum holds. */
export function checkMnemonic(text: string): string {
  const words = text.normalize("NFKD").trim().toLowerCase().split(/\s+/);
  if (!WORD_COUNTS.includes(words.length)) throw new SecretError(`the mnemonic has ${words.length} words, not 12, 15, 18, 21 or 24`);
  const bits = words
    .map((word, i) => {
      const n = WORD_INDEX.get(word);
      if (n === undefined) throw new SecretError(`word ${i + 1} of the mnemonic is not in the BIP39 English list`);
      return n.toString(2).padStart(11, "0");
    })
    .join("");
  const checksumBits = words.length / 3;
  const entropyBits = bits.slice(0, bits.length - checksumBits);
  const entropy = Uint8Array.from(entropyBits.match(/.{8}/g)!, (byte) => parseInt(byte, 2));
  const expected = sha256(entropy)[0]!.toString(2).padStart(8, "0").slice(0, checksumBits);
  if (bits.slice(-checksumBits) !== expected) throw new SecretError("the mnemonic's checksum does not match (a word is wrong or out of order)");
  return words.join(" ");
}

/** The invoice accounts of one mnemonic. The PBKDF2 stretch (2048 rounds) runs once, not once per index. */
export class MerchantWallet {
  private readonly account: HDKey;

  constructor(mnemonic: string, passphrase = "") {
    const words = checkMnemonic(mnemonic);
    const salt = `mnemonic${passphrase.normalize("NFKD")}`;
    const seed = pbkdf2(sha512, new TextEncoder().encode(words), new TextEncoder().encode(salt), { c: 2048, dkLen: 64 });
    this.account = HDKey.fromMasterSeed(seed).derive("m/44'/60'/0'");
  }

  /** The signer of invoice address /0/index. */
  invoiceAccount(index: number): PrivateKeyAccount {
    const key = this.account.deriveChild(0).deriveChild(index).privateKey;
    if (!key) throw new Error(`no private key at /0/${index}`);
    return privateKeyToAccount(`0x${bytesToHex(key)}`);
  }
}

/** A funding key as typed or stored: 64 hex digits, with or without 0x. */
export function fundingAccount(text: string): PrivateKeyAccount {
  const hex = text.trim().replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new SecretError("the gas funding key is not 32 bytes of hex");
  return privateKeyToAccount(`0x${hex.toLowerCase()}` as Hex);
}
