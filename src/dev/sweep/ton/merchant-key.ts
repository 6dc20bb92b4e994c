// The merchant's TON signing key from what a wallet exports: the 24-word TON mnemonic, or the ed25519 seed
// (32 bytes) or NaCl secret key (64 bytes, seed ‖ public key) in hex. Checked once; nothing here quotes the secret.

import { keyPairFromSeed, mnemonicToPrivateKey, mnemonicValidate, type KeyPair } from "@ton/crypto";
import { SecretError } from "../wallet";

const MNEMONIC_WORDS = 24;
const SEED_HEX = /^[0-9a-f]{64}$/;
const SECRET_KEY_HEX = /^[0-9a-f]{128}$/;

export async function merchantKeyPair(text: string): Promise<KeyPair> {
  const trimmed = text.trim();
  if (/\s/.test(trimmed)) {
    const words = trimmed.normalize("NFKD").toLowerCase().split(/\s+/);
    if (words.length !== MNEMONIC_WORDS) throw new SecretError(`the mnemonic has ${words.length} words, a TON mnemonic has ${MNEMONIC_WORDS}`);
    // TON's own check (an HMAC of the words must mark a basic seed), not BIP39's checksum: a BIP39 phrase fails it.
    if (!(await mnemonicValidate(words))) throw new SecretError("the mnemonic is not a valid TON mnemonic (a word is wrong, or it is a BIP39 phrase)");
    return mnemonicToPrivateKey(words);
  }
  const hex = trimmed.replace(/^0x/i, "").toLowerCase();
  if (SEED_HEX.test(hex)) return keyPairFromSeed(Buffer.from(hex, "hex"));
  if (SECRET_KEY_HEX.test(hex)) {
    const secretKey = Buffer.from(hex, "hex");
    const pair = keyPairFromSeed(secretKey.subarray(0, 32));
    if (!pair.publicKey.equals(secretKey.subarray(32))) throw new SecretError("the secret key's second half is not the public key of its first half");
    return pair;
  }
  throw new SecretError("the secret is neither a 24-word TON mnemonic nor an ed25519 seed (64 hex digits) or secret key (128 hex digits)");
}
