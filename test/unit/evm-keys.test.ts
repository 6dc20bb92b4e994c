// Which account keys a merchant may register for ETH and BNB, and that one key has one fingerprint.
// test/vectors/eth.json is shared/vectors/eth.json unchanged: ethers 6.17 HDNodeWallet on anvil's
// mnemonic, cross-checked with @scure/bip32 and the node's own dev accounts.

import { readFileSync } from "node:fs";
import { HDKey } from "@scure/bip32";
import { base58, base58check } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { parseAccountKey, type AccountKey, type KeyProblem } from "../../src/chains/evm/keys";

interface AddressVector {
  index: number;
  path: string;
  publicKey: string;
  address: string;
  addressChecksummed: string;
}
const vectors: {
  seed: string;
  masterXpub: string;
  account: { path: string; xpub: string; depth: number; parentFingerprint: string; childIndex: number; chainCode: string; publicKey: string };
  externalChain: { xpub: string };
  addresses: AddressVector[];
} = JSON.parse(readFileSync(new URL("../vectors/eth.json", import.meta.url), "utf8"));
const b58 = base58check(sha256);
const unhex = (h: string) => hexToBytes(h.replace(/^0x/, ""));

function accepted(text: string): AccountKey {
  const parsed = parseAccountKey(text);
  if (!parsed.ok) throw new Error(`expected ${text.slice(0, 24)}… to parse, got ${parsed.problem}`);
  return parsed.key;
}

function problemOf(text: string): KeyProblem | "accepted" {
  const parsed = parseAccountKey(text);
  return parsed.ok ? "accepted" : parsed.problem;
}

/** The 78 bytes of `key` with `edit` applied, re-encoded with a fresh checksum. */
function rewritten(key: string, edit: (payload: Uint8Array, view: DataView) => void): string {
  const payload = b58.decode(key);
  edit(payload, new DataView(payload.buffer, payload.byteOffset, payload.byteLength));
  return b58.encode(payload);
}

/** The same 78 bytes under another version: how one key gets its tpub/ypub/zpub spellings. */
function reversioned(key: string, version: number): string {
  return rewritten(key, (_, view) => view.setUint32(0, version, false));
}

/** The account node derived privately from the vectors' seed, as a wallet that leaks its xprv would hold it. */
function accountFromSeed(path: string): HDKey {
  return HDKey.fromMasterSeed(unhex(vectors.seed)).derive(path);
}

describe("the account xpub at m/44'/60'/0' (eth.json)", () => {
  it("is taken and read as the account node the vectors describe", () => {
    const { account } = accepted(vectors.account.xpub);
    expect(account.depth).toBe(vectors.account.depth);
    expect(account.index).toBe(vectors.account.childIndex);
    expect(account.parentFingerprint).toBe(Number(vectors.account.parentFingerprint));
    expect(bytesToHex(account.chainCode!)).toBe(vectors.account.chainCode.slice(2));
    expect(bytesToHex(account.publicKey!)).toBe(vectors.account.publicKey.slice(2));
    expect(account.privateKey).toBeNull();
    expect(account.publicExtendedKey).toBe(vectors.account.xpub);
  });

  it("covers invoice indices 0..20 on the external chain", () => {
    expect(vectors.addresses.map((a) => a.index)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(vectors.addresses.every((a) => a.path === `${vectors.account.path}/0/${a.index}`)).toBe(true);
  });
});

describe("refused account keys", () => {
  it("refuses the account xprv of the same mnemonic as a private key", () => {
    const xprv = accountFromSeed(vectors.account.path).privateExtendedKey;
    expect(xprv.startsWith("xprv")).toBe(true);
    expect(problemOf(xprv)).toBe("private-key");
  });

  it("refuses private key bytes even under the xpub version", () => {
    const xprv = accountFromSeed(vectors.account.path).privateExtendedKey;
    expect(problemOf(reversioned(xprv, 0x0488b21e))).toBe("private-key");
  });

  it.each([
    ["tprv", 0x04358394],
    ["zprv", 0x04b2430c],
  ])("refuses the account key as a %s as a private key", (_, version) => {
    expect(problemOf(reversioned(accountFromSeed(vectors.account.path).privateExtendedKey, version))).toBe("private-key");
  });

  it.each([
    ["tpub", 0x043587cf],
    ["ypub", 0x049d7cb2],
    ["zpub", 0x04b24746],
    ["Ltub", 0x019da462],
    ["an unknown version", 0x01020304],
  ])("refuses the account key written as %s as the wrong version", (_, version) => {
    expect(problemOf(reversioned(vectors.account.xpub, version))).toBe("wrong-version");
  });

  it("refuses the depth-0 master xpub", () => {
    expect(problemOf(vectors.masterXpub)).toBe("wrong-depth");
  });

  it("refuses the external chain's xpub (depth 4) and an address node (depth 5)", () => {
    expect(problemOf(vectors.externalChain.xpub)).toBe("wrong-depth");
    expect(problemOf(accountFromSeed(`${vectors.account.path}/0/0`).publicExtendedKey)).toBe("wrong-depth");
  });

  it("refuses the account xpub with one payload byte changed under its old checksum", () => {
    const raw = base58.decode(vectors.account.xpub);
    raw[50] = raw[50]! ^ 0x01;
    expect(problemOf(base58.encode(raw))).toBe("bad-checksum");
  });

  it("refuses the account xpub with its checksum changed", () => {
    const raw = base58.decode(vectors.account.xpub);
    raw[raw.length - 1] = raw[raw.length - 1]! ^ 0xff;
    expect(problemOf(base58.encode(raw))).toBe("bad-checksum");
  });

  it.each([
    ["the empty string", ""],
    ["words", "not an extended key"],
    ["characters outside base58 (0, O, I, l)", `${vectors.account.xpub.slice(0, -1)}0`],
    ["an xpub with whitespace around it", ` ${vectors.account.xpub} `],
    ["an ETH address", vectors.addresses[0]!.addressChecksummed],
    ["a base58check payload of the wrong length", b58.encode(new Uint8Array(77))],
    ["two xpubs run together", vectors.account.xpub + vectors.account.xpub],
  ])("refuses %s as malformed", (_, text) => {
    expect(problemOf(text)).toBe("malformed");
  });

  it("refuses key bytes that are not a compressed curve point", () => {
    expect(problemOf(rewritten(vectors.account.xpub, (payload) => void (payload[45] = 0x05)))).toBe("invalid-key");
  });
});

describe("the key's fingerprint", () => {
  it("is hex SHA-256 of chain code ‖ public key", () => {
    const expected = bytesToHex(sha256(new Uint8Array([...unhex(vectors.account.chainCode), ...unhex(vectors.account.publicKey)])));
    expect(accepted(vectors.account.xpub).fingerprint).toBe(expected);
  });

  it("is the same for one key written with another parent fingerprint and child index", () => {
    const other = rewritten(vectors.account.xpub, (_, view) => {
      view.setUint32(5, 0xdeadbeef, false);
      view.setUint32(9, 0x80000007, false);
    });
    expect(other).not.toBe(vectors.account.xpub);
    const a = accepted(vectors.account.xpub);
    const b = accepted(other);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(b.account.deriveChild(0).deriveChild(5).publicKey).toEqual(a.account.deriveChild(0).deriveChild(5).publicKey);
  });

  it("differs for the next account m/44'/60'/1' of the same mnemonic", () => {
    const next = accepted(accountFromSeed("m/44'/60'/1'").publicExtendedKey);
    expect(next.fingerprint).not.toBe(accepted(vectors.account.xpub).fingerprint);
  });
});
