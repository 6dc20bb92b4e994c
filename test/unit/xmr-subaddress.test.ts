// Subaddress derivation from watch-only keys, for every wallet and every (major, minor) that Monero's
// wallet derived in the vectors: the address text and the spend key D that scanning matches on.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeAddress, type XmrNetwork } from "../../src/chains/xmr/address";
import { bytesToHex, parsePrivateViewKey, parsePublicSpendKey } from "../../src/chains/xmr/keys";
import { deriveSubaddress, type XmrViewKeys } from "../../src/chains/xmr/subaddress";

const vectors = JSON.parse(readFileSync(new URL("../vectors/xmr.json", import.meta.url), "utf8"));
interface Wallet {
  primary_address: string;
  private_view_key: string;
  public_spend_key: string;
  public_view_key: string;
  subaddresses: { major: number; minor: number; address: string; spend_public: string; view_public: string }[];
}
const wallets: [string, XmrNetwork, Wallet][] = [
  ...Object.entries<Wallet>(vectors.wallets).map(([name, w]): [string, XmrNetwork, Wallet] => [name, name as XmrNetwork, w]),
  ["regtest merchant (mainnet prefixes)", "mainnet", vectors.regtest.merchant],
];

const viewKeys = (w: Wallet): XmrViewKeys => ({
  privateViewKey: parsePrivateViewKey(w.private_view_key)!,
  publicSpendKey: parsePublicSpendKey(w.public_spend_key)!,
});

const cases = wallets.flatMap(([name, network, w]) =>
  w.subaddresses.map((s) => ({ name, network, w, ...s, label: `${name} (${s.major},${s.minor})` })),
);

describe("deriveSubaddress", () => {
  it.each(cases)("derives the $label subaddress and spend key Monero's wallet printed", ({ network, w, major, minor, address, spend_public, view_public }) => {
    const sub = deriveSubaddress(viewKeys(w), major, minor, network);
    expect(sub.address).toBe(address);
    expect(bytesToHex(sub.spendKey)).toBe(spend_public);
    expect(bytesToHex(decodeAddress(sub.address)!.viewKey)).toBe(view_public);
  });

  it.each(wallets)("gives the %s wallet's primary address at (0,0), with D = B", (_, network, w) => {
    const primary = deriveSubaddress(viewKeys(w), 0, 0, network);
    expect(primary.address).toBe(w.primary_address);
    expect(bytesToHex(primary.spendKey)).toBe(w.public_spend_key);
    expect(decodeAddress(primary.address)).toMatchObject({ network, kind: "standard" });
  });

  it("covers every (major, minor) the vectors list, for every wallet", () => {
    expect(cases).toHaveLength(4 * vectors.meta.subaddress_indices.length);
  });

  it("encodes the same keys for each network with that network's prefix", () => {
    const keys = viewKeys(vectors.wallets.mainnet);
    const mainnet = deriveSubaddress(keys, 0, 1, "mainnet");
    const stagenet = deriveSubaddress(keys, 0, 1, "stagenet");
    expect(bytesToHex(stagenet.spendKey)).toBe(bytesToHex(mainnet.spendKey));
    expect(decodeAddress(stagenet.address)).toMatchObject({ network: "stagenet", kind: "subaddress" });
  });

  it.each([
    ["a negative index", 0, -1],
    ["an index of 2^32", 2 ** 32, 0],
    ["a fractional index", 0, 1.5],
    ["NaN", Number.NaN, 0],
  ])("refuses %s", (_, major, minor) => {
    expect(() => deriveSubaddress(viewKeys(vectors.wallets.mainnet), major, minor, "mainnet")).toThrow(RangeError);
  });
});
