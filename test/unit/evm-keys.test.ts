// Which account keys a merchant may register for ETH and BNB, the invoice addresses they give, and which
// address texts are taken. test/vectors/eth.json is shared/vectors/eth.json unchanged: ethers 6.17
// HDNodeWallet on anvil's mnemonic, cross-checked with @scure/bip32 and the node's own dev accounts.

import { readFileSync } from "node:fs";
import { HDKey } from "@scure/bip32";
import { base58, base58check } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { describe, expect, it } from "vitest";
import { addressOfPublicKey, checksummedAddress, deriveInvoiceAddress, isAddress, MAX_ADDRESS_INDEX, normaliseAddress } from "../../src/chains/evm/address";
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

  it.each(vectors.addresses)("derives invoice $index as $addressChecksummed from the xpub alone", (v) => {
    const derived = deriveInvoiceAddress(accepted(vectors.account.xpub), v.index);
    expect(derived.address).toBe(v.addressChecksummed);
    expect(derived.matchKey).toBe(v.address.slice(2));
    expect(bytesToHex(derived.publicKey)).toBe(v.publicKey.slice(2));
  });

  it.each(vectors.addresses)("reads invoice $index's lowercase and checksummed spellings as its matchKey", (v) => {
    const { matchKey } = deriveInvoiceAddress(accepted(vectors.account.xpub), v.index);
    expect(normaliseAddress(v.address)).toBe(matchKey);
    expect(normaliseAddress(v.addressChecksummed)).toBe(matchKey);
    expect(normaliseAddress(`0x${matchKey.toUpperCase()}`)).toBe(matchKey);
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
    expect(deriveInvoiceAddress(b, 5).matchKey).toBe(deriveInvoiceAddress(a, 5).matchKey);
  });

  it("differs for the next account m/44'/60'/1' of the same mnemonic", () => {
    const next = accepted(accountFromSeed("m/44'/60'/1'").publicExtendedKey);
    expect(next.fingerprint).not.toBe(accepted(vectors.account.xpub).fingerprint);
  });
});

describe("invoice indices", () => {
  it.each([-1, 1.5, MAX_ADDRESS_INDEX + 1, Number.NaN])("refuses index %s", (index) => {
    expect(() => deriveInvoiceAddress(accepted(vectors.account.xpub), index)).toThrow(RangeError);
  });

  it("derives the last non-hardened index", () => {
    expect(deriveInvoiceAddress(accepted(vectors.account.xpub), MAX_ADDRESS_INDEX).matchKey).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe("addresses of public keys", () => {
  it("gives one address for the compressed and uncompressed forms of a key", () => {
    const compressed = unhex(vectors.addresses[3]!.publicKey);
    const uncompressed = secp256k1.Point.fromBytes(compressed).toBytes(false);
    expect(bytesToHex(addressOfPublicKey(uncompressed))).toBe(vectors.addresses[3]!.address.slice(2));
    expect(bytesToHex(addressOfPublicKey(compressed))).toBe(vectors.addresses[3]!.address.slice(2));
  });
});

describe("EIP-55 address text", () => {
  // The examples in the EIP-55 text itself: four mixed-case, two all-caps, two all-lowercase.
  const eip55 = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
  ];

  it.each(eip55)("checksums %s as EIP-55 does and takes it", (address) => {
    expect(checksummedAddress(address.slice(2).toLowerCase())).toBe(address);
    expect(normaliseAddress(address)).toBe(address.slice(2).toLowerCase());
    expect(isAddress(address)).toBe(true);
  });

  it.each([
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
  ])("takes the single-case %s without a checksum", (address) => {
    expect(normaliseAddress(address)).toBe(address.slice(2).toLowerCase());
  });

  it.each(eip55)("refuses %s with one letter's case flipped", (address) => {
    const i = address.slice(2).search(/[a-fA-F]/) + 2;
    const c = address[i]!;
    const flipped = address.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + address.slice(i + 1);
    expect(normaliseAddress(flipped)).toBeNull();
    expect(isAddress(flipped)).toBe(false);
  });

  it.each(vectors.addresses)("refuses invoice $index's address with every letter's case inverted", (v) => {
    const inverted = "0x" + [...v.addressChecksummed.slice(2)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("");
    expect(inverted.toLowerCase()).toBe(v.address);
    expect(normaliseAddress(inverted)).toBeNull();
  });

  it.each([
    ["no 0x", "f39fd6e51aad88f6f4ce6ab8827279cfffb92266"],
    ["0X", "0Xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"],
    ["39 digits", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb9226"],
    ["41 digits", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb922660"],
    ["a non-hex digit", "0xg39fd6e51aad88f6f4ce6ab8827279cfffb92266"],
    ["a 32-byte log topic", `0x${"0".repeat(24)}f39fd6e51aad88f6f4ce6ab8827279cfffb92266`],
    ["surrounding spaces", " 0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266 "],
  ])("refuses text with %s", (_, text) => {
    expect(normaliseAddress(text)).toBeNull();
    expect(isAddress(text)).toBe(false);
  });
});
