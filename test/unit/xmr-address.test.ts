// Monero address text: encoding from keys and decoding back, checked against addresses that Monero's
// own wallet printed for mainnet, stagenet, testnet and regtest (which uses mainnet prefixes).

import { readFileSync } from "node:fs";
import { base58xmr } from "@scure/base";
import { describe, expect, it } from "vitest";
import { decodeAddress, encodeAddress, type XmrNetwork } from "../../src/chains/xmr/address";
import { bytesToHex, hexToBytes, keccak256 } from "../../src/chains/xmr/keys";

const vectors = JSON.parse(readFileSync(new URL("../vectors/xmr.json", import.meta.url), "utf8"));
interface Wallet {
  primary_address: string;
  public_spend_key: string;
  public_view_key: string;
  subaddresses: { major: number; minor: number; address: string; spend_public: string; view_public: string }[];
  integrated_address_example: { integrated_address: string; payment_id: string };
}
const wallets: [string, XmrNetwork, Wallet][] = [
  ...Object.entries<Wallet>(vectors.wallets).map(([name, w]): [string, XmrNetwork, Wallet] => [name, name as XmrNetwork, w]),
  ["regtest", "mainnet", vectors.regtest.merchant],
];

describe("encodeAddress", () => {
  it.each(wallets)("gives the %s wallet's primary address from its public keys", (_, network, w) => {
    expect(encodeAddress(network, "standard", hexToBytes(w.public_spend_key), hexToBytes(w.public_view_key))).toBe(w.primary_address);
  });

  it.each(wallets)("gives the %s wallet's subaddresses from (D, C)", (_, network, w) => {
    for (const s of w.subaddresses) {
      expect(encodeAddress(network, "subaddress", hexToBytes(s.spend_public), hexToBytes(s.view_public))).toBe(s.address);
    }
  });

  it("uses the mainnet/testnet/stagenet prefixes 18/42, 53/63, 24/36", () => {
    const key = new Uint8Array(32).fill(7);
    const prefix = (network: XmrNetwork, kind: "standard" | "subaddress") => base58xmr.decode(encodeAddress(network, kind, key, key))[0];
    expect([prefix("mainnet", "standard"), prefix("mainnet", "subaddress")]).toEqual([18, 42]);
    expect([prefix("testnet", "standard"), prefix("testnet", "subaddress")]).toEqual([53, 63]);
    expect([prefix("stagenet", "standard"), prefix("stagenet", "subaddress")]).toEqual([24, 36]);
  });

  it("refuses keys that are not 32 bytes", () => {
    expect(() => encodeAddress("mainnet", "standard", new Uint8Array(31), new Uint8Array(32))).toThrow(RangeError);
  });
});

describe("decodeAddress", () => {
  it.each(wallets)("reads network, kind and keys back from the %s wallet's addresses", (_, network, w) => {
    expect(decodeAddress(w.primary_address)).toEqual({
      network,
      kind: "standard",
      spendKey: hexToBytes(w.public_spend_key),
      viewKey: hexToBytes(w.public_view_key),
    });
    for (const s of w.subaddresses) {
      const decoded = decodeAddress(s.address)!;
      expect([decoded.network, decoded.kind, bytesToHex(decoded.spendKey), bytesToHex(decoded.viewKey)]).toEqual([
        network,
        "subaddress",
        s.spend_public,
        s.view_public,
      ]);
    }
  });

  it.each(wallets)("reads the %s wallet's integrated address as its primary keys", (_, network, w) => {
    const decoded = decodeAddress(w.integrated_address_example.integrated_address)!;
    expect([decoded.network, decoded.kind, bytesToHex(decoded.spendKey), bytesToHex(decoded.viewKey)]).toEqual([
      network,
      "integrated",
      w.public_spend_key,
      w.public_view_key,
    ]);
  });

  it("rejects an address whose checksum does not match", () => {
    const bytes = base58xmr.decode(vectors.wallets.mainnet.primary_address);
    bytes[10] = bytes[10]! ^ 1; // a key byte changed, the checksum left as it was
    expect(decodeAddress(base58xmr.encode(bytes))).toBeNull();
    const checksum = base58xmr.decode(vectors.wallets.mainnet.primary_address);
    checksum[68] = checksum[68]! ^ 0x80;
    expect(decodeAddress(base58xmr.encode(checksum))).toBeNull();
  });

  it("rejects an unknown prefix even with a valid checksum", () => {
    const body = new Uint8Array(65).fill(9);
    body[0] = 99;
    expect(decodeAddress(base58xmr.encode(Uint8Array.from([...body, ...keccak256(body).subarray(0, 4)])))).toBeNull();
  });

  it.each([
    ["an empty string", ""],
    ["a truncated address", vectors.wallets.mainnet.primary_address.slice(0, 94)],
    ["characters outside base58", vectors.wallets.mainnet.primary_address.replace(/.$/, "0")],
    ["a Bitcoin address", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"],
    ["a standard prefix with an integrated address's length", decodeLengthMismatch()],
  ])("returns null for %s", (_, text) => {
    expect(decodeAddress(text)).toBeNull();
  });
});

/** A 77-byte payload (integrated length) under the standard prefix 18, with a valid checksum. */
function decodeLengthMismatch(): string {
  const body = new Uint8Array(73).fill(3);
  body[0] = 18;
  return base58xmr.encode(Uint8Array.from([...body, ...keccak256(body).subarray(0, 4)]));
}
