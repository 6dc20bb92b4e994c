// Monero key primitives: which key hex is accepted, and the hand-written derivation, subaddress-key
// and commitment arithmetic against noble's reference points and against Monero's own transactions.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bytesToHex, CURVE_ORDER, derivationToScalar, deriveViewTag, hexToBytes, parsePrivateViewKey, parsePublicSpendKey, Point, scalarToBytes, varint } from "../../src/chains/xmr/keys";
import { AMOUNT_GENERATOR, amountCommitment, deriveSubaddressPublicKey, generateKeyDerivation, generateKeyDerivations } from "../../src/chains/xmr/curve";

const vectors = JSON.parse(readFileSync(new URL("../vectors/xmr.json", import.meta.url), "utf8"));
interface Wallet {
  private_view_key: string;
  public_spend_key: string;
  public_view_key: string;
}
const wallets: [string, Wallet][] = [...Object.entries<Wallet>(vectors.wallets), ["regtest", vectors.regtest.merchant]];

// All eight points of order dividing 8, canonically encoded (identity, order 2, 4, 8).
const SMALL_ORDER_POINTS = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
];
const L_HEX = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"; // l, little-endian
const NOT_ON_CURVE = "0200000000000000000000000000000000000000000000000000000000000000"; // y = 2 has no x
const NON_CANONICAL_ONE = "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"; // y = p + 1

/** Deterministic pseudo-random scalars in [1, l). */
function scalars(count: number, seed: number): bigint[] {
  let x = BigInt(seed);
  return Array.from({ length: count }, () => {
    x = (x * 6364136223846793005n + 1442695040888963407n) % 2n ** 256n;
    return (x % (CURVE_ORDER - 1n)) + 1n;
  });
}

describe("parsePrivateViewKey", () => {
  it.each(wallets)("accepts the %s wallet's view key, in either case", (_, w) => {
    expect(bytesToHex(parsePrivateViewKey(w.private_view_key)!)).toBe(w.private_view_key);
    expect(bytesToHex(parsePrivateViewKey(w.private_view_key.toUpperCase())!)).toBe(w.private_view_key);
  });

  it("accepts the extremes 1 and l - 1", () => {
    expect(parsePrivateViewKey("01".padEnd(64, "0"))).not.toBeNull();
    expect(parsePrivateViewKey("ec" + L_HEX.slice(2))).not.toBeNull();
  });

  it.each([
    ["zero", "0".repeat(64)],
    ["l itself (non-canonical 0)", L_HEX],
    ["l + 1", "ee" + L_HEX.slice(2)],
    ["2^256 - 1", "f".repeat(64)],
    ["63 hex chars", "1".repeat(63)],
    ["65 hex chars", "1".repeat(65)],
    ["an empty string", ""],
    ["non-hex characters", "g".repeat(64)],
    ["a 0x prefix", "0x" + "1".repeat(62)],
    ["surrounding spaces", ` ${"1".repeat(62)} `],
  ])("rejects %s", (_, hex) => {
    expect(parsePrivateViewKey(hex)).toBeNull();
  });
});

describe("parsePublicSpendKey", () => {
  it.each(wallets)("accepts the %s wallet's public keys", (_, w) => {
    expect(bytesToHex(parsePublicSpendKey(w.public_spend_key)!)).toBe(w.public_spend_key);
    expect(parsePublicSpendKey(w.public_view_key.toUpperCase())).not.toBeNull();
  });

  it.each(SMALL_ORDER_POINTS)("rejects the small-order point %s", (hex) => {
    expect(parsePublicSpendKey(hex)).toBeNull();
  });

  it.each([
    ["a y with no curve point", NOT_ON_CURVE],
    ["a non-canonical y (p + 1)", NON_CANONICAL_ONE],
    ["62 hex chars", "5".repeat(62)],
    ["66 hex chars", "5".repeat(66)],
    ["non-hex characters", "z".repeat(64)],
  ])("rejects %s", (_, hex) => {
    expect(parsePublicSpendKey(hex)).toBeNull();
  });
});

describe("deriveViewTag", () => {
  it("is the first byte of keccak('view_tag' ‖ derivation ‖ varint(i)), for indices of one to three varint bytes", async () => {
    const { keccak_256 } = await import("@noble/hashes/sha3.js");
    const { concatBytes } = await import("@noble/hashes/utils.js");
    const salt = new TextEncoder().encode("view_tag");
    for (const [n, a] of scalars(20, 13).entries()) {
      const derivation = scalarToBytes(a);
      for (const index of [0, 1, n, 127, 128, 300, 20_000]) {
        expect(deriveViewTag(derivation, index)).toBe(keccak_256(concatBytes(salt, derivation, varint(index)))[0]);
      }
    }
  });
});

describe("encoding helpers", () => {
  it("writes Monero varints (7 bits per byte, low first)", () => {
    expect([0, 1, 127, 128, 300, 16384].map((n) => bytesToHex(varint(n)))).toEqual(["00", "01", "7f", "8001", "ac02", "808001"]);
  });

  it("derives Monero's amount generator H", () => {
    expect(AMOUNT_GENERATOR.toHex()).toBe("8b655970153799af2aeadc9ff1add0ea6c7251d54154cfa92c173a0dd39c1f94");
  });
});

describe("generateKeyDerivation (8·a·R, hand-written vartime path)", () => {
  const torsion = SMALL_ORDER_POINTS.map((hex) => Point.fromHex(hex));

  it("equals noble's 8·(a·R) for random keys, including R with a torsion component", () => {
    const [a0, ...rest] = scalars(61, 7);
    const keys = [1n, CURVE_ORDER - 1n, a0!, ...rest.slice(0, 30)];
    keys.forEach((a, i) => {
      let R = Point.BASE.multiply(rest[30 + (i % 30)]!);
      if (i % 2 === 1) R = R.add(torsion[i % 8]!);
      const expected = R.multiply(a).clearCofactor().toHex();
      expect(bytesToHex(generateKeyDerivation(R.toBytes(), scalarToBytes(a))!)).toBe(expected);
    });
  });

  it("maps small-order tx keys to the identity, as Monero does", () => {
    for (const T of SMALL_ORDER_POINTS) {
      expect(bytesToHex(generateKeyDerivation(hexToBytes(T), scalarToBytes(12345n))!)).toBe(SMALL_ORDER_POINTS[0]);
    }
  });

  it("returns null, never throws, for bytes that are not a point", () => {
    const a = scalarToBytes(5n);
    expect(generateKeyDerivation(hexToBytes(NOT_ON_CURVE), a)).toBeNull();
    expect(generateKeyDerivation(hexToBytes(NON_CANONICAL_ONE), a)).toBeNull();
    expect(generateKeyDerivation(new Uint8Array(31), a)).toBeNull();
    // x = 0 with the sign bit set
    expect(generateKeyDerivation(hexToBytes("01".padEnd(62, "0") + "80"), a)).toBeNull();
  });

  it("agrees with noble on which of 500 random 32-byte strings are points", () => {
    let x = 99n;
    for (let i = 0; i < 500; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) % 2n ** 256n;
      const bytes = scalarToBytes(x);
      let valid = true;
      try {
        Point.fromBytes(bytes);
      } catch {
        valid = false;
      }
      expect(generateKeyDerivation(bytes, scalarToBytes(3n)) !== null).toBe(valid);
    }
  });

  it("gives the sender's derivation 8·r·C and the view tags of the merchant's outputs in Monero's txs", () => {
    const merchant = vectors.regtest.merchant;
    const a = parsePrivateViewKey(merchant.private_view_key)!;
    const viewKeyOf = new Map<string, string>([[`0/0`, merchant.public_view_key]]);
    for (const s of merchant.subaddresses) viewKeyOf.set(`${s.major}/${s.minor}`, s.view_public);
    for (const tx of vectors.regtest.transactions.filter((t: any) => t.merchant_outputs.length > 0 && t.additional_pubkeys.length === 0)) {
      const r = BigInt("0x" + bytesToHex(hexToBytes(tx.tx_key.slice(0, 64)).reverse()));
      for (const out of tx.merchant_outputs) {
        const C = Point.fromHex(viewKeyOf.get(`${out.major}/${out.minor}`)!);
        const derivation = generateKeyDerivation(hexToBytes(tx.tx_pub_key), a)!;
        expect(bytesToHex(derivation)).toBe(C.multiply(r).clearCofactor().toHex());
        expect(deriveViewTag(derivation, out.vout_index).toString(16).padStart(2, "0")).toBe(out.view_tag);
      }
    }
  });
});

describe("generateKeyDerivations (one tx key, many view keys: a scan shard's merchants)", () => {
  const torsion = SMALL_ORDER_POINTS.map((hex) => Point.fromHex(hex));

  it("gives every key noble's 8·(a·R), with or without the shared table, for R with and without a torsion component", () => {
    const all = scalars(80, 11);
    const keys = [1n, CURVE_ORDER - 1n, ...all.slice(0, 60)];
    for (const [t, count] of [[0, 1], [1, 3], [2, 4], [3, 5], [5, 62]] as const) {
      const R = Point.BASE.multiply(all[60 + t]!).add(torsion[t]!);
      const got = generateKeyDerivations(R.toBytes(), keys.slice(0, count).map(scalarToBytes)).map((d) => bytesToHex(d!));
      expect(got).toEqual(keys.slice(0, count).map((a) => R.multiply(a).clearCofactor().toHex()));
    }
  });

  it("agrees with generateKeyDerivation key by key, small-order tx keys included", () => {
    const keys = scalars(12, 5).map(scalarToBytes);
    for (const R of [Point.BASE.multiply(77n).toBytes(), ...SMALL_ORDER_POINTS.map(hexToBytes)]) {
      expect(generateKeyDerivations(R, keys).map((d) => bytesToHex(d!))).toEqual(keys.map((a) => bytesToHex(generateKeyDerivation(R, a)!)));
    }
  });

  it("returns null for every key when R is not a point, and for a key of the wrong size in its place only", () => {
    const keys = scalars(6, 3).map(scalarToBytes);
    for (const bad of [hexToBytes(NOT_ON_CURVE), hexToBytes(NON_CANONICAL_ONE), new Uint8Array(31)]) {
      expect(generateKeyDerivations(bad, keys)).toEqual(keys.map(() => null));
    }
    const R = Point.BASE.multiply(9n);
    const withShort = [...keys.slice(0, 3), new Uint8Array(31), ...keys.slice(3)];
    const got = generateKeyDerivations(R.toBytes(), withShort);
    expect(got[3]).toBeNull();
    expect(got.filter((d, i) => i !== 3).map((d) => bytesToHex(d!))).toEqual(keys.map((a) => bytesToHex(generateKeyDerivation(R.toBytes(), a)!)));
  });

  it("returns an empty list for no keys", () => {
    expect(generateKeyDerivations(Point.BASE.toBytes(), [])).toEqual([]);
  });
});

describe("deriveSubaddressPublicKey and amountCommitment (fixed-base combs)", () => {
  it("compute P - s·G like noble", () => {
    const s = scalars(20, 3);
    for (let i = 0; i < 10; i++) {
      const P = Point.BASE.multiply(s[i]!);
      const shared = i === 0 ? 0n : i === 1 ? CURVE_ORDER - 1n : s[10 + i]!;
      const expected = P.subtract(shared === 0n ? Point.ZERO : Point.BASE.multiply(shared)).toHex();
      expect(bytesToHex(deriveSubaddressPublicKey(P.toBytes(), shared)!)).toBe(expected);
    }
    expect(deriveSubaddressPublicKey(hexToBytes(NOT_ON_CURVE), 1n)).toBeNull();
  });

  it("compute mask·G + amount·H like noble, for amounts up to 2^64 - 1", () => {
    const masks = scalars(6, 11);
    const amounts = [0n, 1n, 1500000000000n, 2n ** 63n + 12345n, 2n ** 64n - 1n, 35176085112309n];
    amounts.forEach((amount, i) => {
      const mask = masks[i]!;
      const expected = Point.BASE.multiply(mask).add(amount === 0n ? Point.ZERO : AMOUNT_GENERATOR.multiply(amount)).toHex();
      expect(bytesToHex(amountCommitment(mask, amount))).toBe(expected);
    });
    expect(() => amountCommitment(1n, 2n ** 64n)).toThrow(RangeError);
  });

  it("recover the merchant's subaddress spend key from an output key (Monero's derive_subaddress_public_key)", () => {
    const merchant = vectors.regtest.merchant;
    const tx = vectors.regtest.transactions.find((t: any) => t.name === "single_subaddress");
    const out = tx.merchant_outputs[0];
    const derivation = generateKeyDerivation(hexToBytes(tx.tx_pub_key), parsePrivateViewKey(merchant.private_view_key)!)!;
    const D = deriveSubaddressPublicKey(hexToBytes(out.output_key), derivationToScalar(derivation, out.vout_index))!;
    const sub = merchant.subaddresses.find((s: any) => s.major === out.major && s.minor === out.minor);
    expect(bytesToHex(D)).toBe(sub.spend_public);
  });
});
