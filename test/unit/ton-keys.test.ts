// Which TON public keys a merchant may register, the v4r2 invoice wallets they give, and which address texts
// name which account. test/vectors/ton.json is the vector of shared/notes/ton.md (@ton/ton 16.3.0, Node and
// workerd); random keys are cross-checked against @ton/ton's WalletContractV4, an independent builder.

import { readFileSync } from "node:fs";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { base64, base64nopad, base64url, base64urlnopad } from "@scure/base";
import { WalletContractV4 } from "@ton/ton";
import { Address, beginCell, storeStateInit } from "@ton/core";
import { describe, expect, it } from "vitest";
import { parsePublicKey, type KeyProblem, type PublicKey } from "../../src/chains/ton/keys";
import { deriveInvoiceWallet, MAX_WALLET_INDEX, parseTonAddress, V4R2_CODE, V4R2_CODE_HASH, WALLET_ID_BASE, walletInit } from "../../src/chains/ton/wallet";

const vectors: {
  publicKey: string;
  walletIdBase: number;
  v4: [
    {
      index: number;
      raw: string;
      mainnetBounceable: string;
      mainnetNonBounceable: string;
      testnetBounceablePrefix: string;
      testnetBounceableSuffix: string;
      testnetNonBounceablePrefix: string;
      testnetNonBounceableSuffix: string;
    },
    { index: number; mainnetNonBounceable: string },
  ];
  defaultV4: string;
} = JSON.parse(readFileSync(new URL("../vectors/ton.json", import.meta.url), "utf8"));
const [v4n7, v4n0] = vectors.v4;
const vectorKey = hexToBytes(vectors.publicKey);
const DEFAULT_WALLET_ID = 698983191; // what wallet apps use on workchain 0

function accepted(text: string): PublicKey {
  const parsed = parsePublicKey(text);
  if (!parsed.ok) throw new Error(`expected ${text.slice(0, 24)}… to parse, got ${parsed.problem}`);
  return parsed.key;
}

function problemOf(text: string): KeyProblem | "accepted" {
  const parsed = parsePublicKey(text);
  return parsed.ok ? "accepted" : parsed.problem;
}

/** @ton/ton's own wallet, the reference every invoice address is checked against. */
function referenceWallet(publicKey: Uint8Array, index: number): WalletContractV4 {
  return WalletContractV4.create({ workchain: 0, publicKey: Buffer.from(publicKey), walletId: WALLET_ID_BASE + index });
}

// Points of order 1, 2, 4 and 8, canonically encoded.
const SMALL_ORDER_POINTS = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
];
const NOT_ON_CURVE = "0200000000000000000000000000000000000000000000000000000000000000"; // y = 2 has no x
const NON_CANONICAL_ONE = "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"; // y = p + 1

describe("parsePublicKey", () => {
  it("takes the vector key as hex in any case and as base64 or base64url, padded or not, all as one key", () => {
    const spellings = [
      vectors.publicKey,
      vectors.publicKey.toUpperCase(),
      base64.encode(vectorKey),
      base64nopad.encode(vectorKey),
      base64url.encode(vectorKey),
      base64urlnopad.encode(vectorKey),
      ` ${vectors.publicKey}\n`,
    ];
    for (const text of spellings) {
      const key = accepted(text);
      expect(key.publicKey).toEqual(vectorKey);
      expect(key.canonical).toBe(vectors.publicKey);
      expect(key.fingerprint).toBe(vectors.publicKey);
    }
  });

  it("takes keys made the way wallets make them, from a seed", () => {
    for (let i = 0; i < 20; i++) {
      const publicKey = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
      expect(accepted(base64.encode(publicKey)).canonical).toBe(bytesToHex(publicKey));
    }
  });

  it("refuses a 64-byte secret key or key pair, in hex and in base64", () => {
    const secret = ed25519.utils.randomSecretKey();
    const pair = new Uint8Array([...secret, ...ed25519.getPublicKey(secret)]);
    expect(problemOf(bytesToHex(pair))).toBe("private-key");
    expect(problemOf(base64.encode(pair))).toBe("private-key");
    expect(problemOf(base64urlnopad.encode(pair))).toBe("private-key");
  });

  it("refuses a seed phrase", () => {
    const words = "abandon ability able about above absent absorb abstract absurd abuse access accident";
    expect(problemOf(words)).toBe("seed-phrase");
    expect(problemOf(`${words} ${words}`)).toBe("seed-phrase");
  });

  it("refuses hex or base64 of any other length", () => {
    expect(problemOf(vectors.publicKey.slice(0, 62))).toBe("wrong-length");
    expect(problemOf(`${vectors.publicKey}00`)).toBe("wrong-length");
    expect(problemOf(base64.encode(vectorKey.subarray(0, 31)))).toBe("wrong-length");
    expect(problemOf(base64.encode(new Uint8Array([...vectorKey, 0])))).toBe("wrong-length");
    expect(problemOf(base64urlnopad.encode(new Uint8Array([...vectorKey, 0])))).toBe("wrong-length");
  });

  it("refuses garbage, base64 with stray bits or mixed alphabets, empty and overlong input", () => {
    for (const text of [
      "",
      "   ",
      "not a key",
      `0x${vectors.publicKey}`,
      `${base64nopad.encode(vectorKey).slice(0, 42)}B`, // the last char's two spare bits set
      `${base64.encode(vectorKey).slice(0, 42)}+_=`,
      "x".repeat(10_000),
      undefined as unknown as string,
    ]) {
      expect(problemOf(text), JSON.stringify(text?.slice(0, 50))).toBe("malformed");
    }
    // 63 hex digits are not hex, but are valid unpadded base64 of 47 bytes.
    expect(problemOf(vectors.publicKey.slice(0, 63))).toBe("wrong-length");
  });

  it("refuses 32 bytes that are not a canonically encoded point", () => {
    expect(problemOf(NOT_ON_CURVE)).toBe("not-a-point");
    expect(problemOf(NON_CANONICAL_ONE)).toBe("not-a-point");
  });

  it("refuses small-order points and points with a torsion component, which no wallet's key is", () => {
    for (const hex of SMALL_ORDER_POINTS) expect(problemOf(hex), hex).toBe("weak-key");
    const torsion = ed25519.Point.fromHex(SMALL_ORDER_POINTS[3]!);
    const mixed = ed25519.Point.BASE.multiply(12345n).add(torsion);
    expect(problemOf(mixed.toHex())).toBe("weak-key");
  });
});

describe("deriveInvoiceWallet", () => {
  it("gives the vector's v4r2 wallets #7 and #0, non-bounceable and url-safe", () => {
    const n7 = deriveInvoiceWallet(vectorKey, v4n7.index, "mainnet");
    expect(n7.friendly).toBe(v4n7.mainnetNonBounceable);
    expect(n7.raw).toBe(v4n7.raw);
    expect(n7.matchKey).toBe(v4n7.raw.slice(2));
    expect(n7.address.toString({ urlSafe: true, bounceable: true })).toBe(v4n7.mainnetBounceable);
    expect(deriveInvoiceWallet(vectorKey, v4n0.index, "mainnet").friendly).toBe(v4n0.mainnetNonBounceable);
  });

  it("gives testnet the same account, only flagged test-only (0Q…)", () => {
    const testnet = deriveInvoiceWallet(vectorKey, v4n7.index, "testnet");
    expect(testnet.friendly.startsWith(v4n7.testnetNonBounceablePrefix)).toBe(true);
    expect(testnet.friendly.endsWith(v4n7.testnetNonBounceableSuffix)).toBe(true);
    expect(testnet.raw).toBe(v4n7.raw);
    expect(testnet.address.equals(deriveInvoiceWallet(vectorKey, v4n7.index, "mainnet").address)).toBe(true);
  });

  it("matches @ton/ton's WalletContractV4 for 50 random keys at several indices", () => {
    const indices = [0, 1, 7, 1000, 0x3fffffff, MAX_WALLET_INDEX];
    for (let k = 0; k < 50; k++) {
      const publicKey = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
      for (const index of indices) {
        const ours = deriveInvoiceWallet(publicKey, index, "mainnet");
        const reference = referenceWallet(publicKey, index);
        expect(ours.address.equals(reference.address)).toBe(true);
        expect(ours.friendly).toBe(reference.address.toString({ urlSafe: true, bounceable: false }));
        expect(ours.raw).toBe(reference.address.toRawString());
      }
    }
  });

  it("gives every index its own address, none of them the key's default wallet", () => {
    const seen = new Set<string>();
    for (let index = 0; index < 200; index++) seen.add(deriveInvoiceWallet(vectorKey, index, "mainnet").matchKey);
    expect(seen.size).toBe(200);
    expect(seen.has(parseTonAddress(vectors.defaultV4)!.matchKey)).toBe(false);
    expect(WALLET_ID_BASE).toBeGreaterThan(DEFAULT_WALLET_ID);
    expect(vectors.walletIdBase).toBe(WALLET_ID_BASE);
  });

  it("refuses an index that is negative, not an integer or past the last uint32 walletId", () => {
    for (const index of [-1, 0.5, Number.NaN, Infinity, MAX_WALLET_INDEX + 1, 2 ** 53]) {
      expect(() => deriveInvoiceWallet(vectorKey, index, "mainnet"), String(index)).toThrow(RangeError);
      expect(() => walletInit(vectorKey, index), String(index)).toThrow(RangeError);
    }
    expect(MAX_WALLET_INDEX).toBe(0xbfffffff);
    expect(() => deriveInvoiceWallet(vectorKey, MAX_WALLET_INDEX, "mainnet")).not.toThrow();
  });
});

describe("walletInit", () => {
  it("embeds the well-known v4r2 code", () => {
    expect(bytesToHex(V4R2_CODE.hash())).toBe("feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0");
    expect(V4R2_CODE_HASH).toBe(bytesToHex(V4R2_CODE.hash()));
  });

  it("is the StateInit whose hash is the invoice address, cell for cell what @ton/ton deploys", () => {
    const init = walletInit(vectorKey, v4n7.index);
    const reference = referenceWallet(vectorKey, v4n7.index).init;
    expect(init.code!.equals(reference.code)).toBe(true);
    expect(init.data!.equals(reference.data)).toBe(true);
    const stateInit = beginCell().store(storeStateInit(init)).endCell();
    expect(bytesToHex(stateInit.hash())).toBe(deriveInvoiceWallet(vectorKey, v4n7.index, "mainnet").matchKey);
  });
});

describe("parseTonAddress", () => {
  const matchKey = v4n7.raw.slice(2);
  const account = deriveInvoiceWallet(vectorKey, v4n7.index, "mainnet").address;
  const testnetBounceable = account.toString({ urlSafe: true, bounceable: true, testOnly: true });
  const testnetNonBounceable = account.toString({ urlSafe: true, bounceable: false, testOnly: true });

  it("reads all five forms of the vector's wallet #7 as one account", () => {
    expect(testnetBounceable.startsWith(v4n7.testnetBounceablePrefix) && testnetBounceable.endsWith(v4n7.testnetBounceableSuffix)).toBe(true);
    expect(testnetNonBounceable.startsWith(v4n7.testnetNonBounceablePrefix) && testnetNonBounceable.endsWith(v4n7.testnetNonBounceableSuffix)).toBe(true);
    for (const text of [v4n7.raw, v4n7.mainnetBounceable, v4n7.mainnetNonBounceable, testnetBounceable, testnetNonBounceable]) {
      expect(parseTonAddress(text), text).toEqual({ matchKey, workchain: 0 });
    }
  });

  it("reads the standard-base64 and uppercase-hex spellings too", () => {
    const standard = v4n7.mainnetBounceable.replace(/-/g, "+").replace(/_/g, "/");
    expect(standard).not.toBe(v4n7.mainnetBounceable);
    expect(parseTonAddress(standard)).toEqual({ matchKey, workchain: 0 });
    expect(parseTonAddress(v4n7.raw.toUpperCase())).toEqual({ matchKey, workchain: 0 });
  });

  it("reports the masterchain, workchain -1, in either form", () => {
    const master = new Address(-1, Buffer.from(hexToBytes(matchKey)));
    expect(parseTonAddress(`-1:${matchKey}`)).toEqual({ matchKey, workchain: -1 });
    expect(parseTonAddress(master.toString({ urlSafe: true, bounceable: true }))).toEqual({ matchKey, workchain: -1 });
  });

  it("refuses a friendly address with a bad CRC16", () => {
    const text = v4n7.mainnetNonBounceable;
    const last = text.at(-1) === "W" ? "X" : "W";
    expect(parseTonAddress(text.slice(0, -1) + last)).toBeNull();
  });

  it("refuses garbage", () => {
    for (const text of [
      "",
      "hello",
      `0:${matchKey.slice(0, 63)}`,
      `0:${matchKey.slice(0, 63)}z`,
      `0.5:${matchKey}`,
      `${matchKey}`,
      v4n7.mainnetBounceable.slice(1),
      `${v4n7.mainnetBounceable}A`,
      "!".repeat(48),
      "A".repeat(48), // decodes to 36 bytes, but the tag and CRC are wrong
      undefined as unknown as string,
    ]) {
      expect(parseTonAddress(text), String(text)).toBeNull();
    }
  });
});
