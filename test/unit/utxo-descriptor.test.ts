// Output descriptors as account keys: the BIP-380 checksum against Litecoin Core's and rust-miniscript's,
// key origins, the receive-chain suffixes, tr() with BIP-86's tweak, and every form that is refused.
// Vectors: utxo.json (shared/vectors, unchanged); utxo-descriptors.json (Litecoin Core 0.21.2.1, made by
// make-utxo-descriptors.sh); bip86.json (the BIP-86 text, descriptor checksums from rust-miniscript/BDK).

import { readFileSync } from "node:fs";
import { HDKey } from "@scure/bip32";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { deriveInvoiceAddress, deriveOutput, scriptOfAddress } from "../../src/chains/utxo/address";
import { descriptorChecksum, parseReceiveDescriptor, withDescriptorChecksum } from "../../src/chains/utxo/descriptor";
import { parseAccountKey, type AccountKey, type KeyProblem } from "../../src/chains/utxo/keys";
import { utxoNetwork, type UtxoNetwork } from "../../src/chains/utxo/networks";

const load = (name: string) => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), "utf8"));
const utxo = load("utxo.json");
const core: { results: CoreDescriptor[] } = load("utxo-descriptors.json");
const bip86: { rootpriv: string; master_fingerprint: string; account: { path: string; xpub: string }; outputs: Record<string, string>[]; descriptors: string[] } = load("bip86.json");

/** A row of utxo-descriptors.json: Core's verdict on one descriptor as written. */
interface CoreDescriptor {
  input: string;
  checksum?: string;
  normalized?: string;
  addresses_0_to_2?: string[] | null;
  error?: string;
}

const BTC_MAIN = utxoNetwork("BTC", "mainnet");
const LTC_MAIN = utxoNetwork("LTC", "mainnet");
const LTC_REGTEST = utxoNetwork("LTC", "regtest");
const K84_TEST: string = utxo.litecoin_core_derivations.find((s: { chain: string; script_type: string }) => s.chain === "regtest" && s.script_type === "p2wpkh").extended_key;

function accepted(text: string, network: UtxoNetwork): AccountKey {
  const parsed = parseAccountKey(text, network);
  if (!parsed.ok) throw new Error(`expected ${text} to parse, got ${parsed.problem}`);
  return parsed.key;
}
const problemOf = (text: string, network: UtxoNetwork): KeyProblem | "accepted" => {
  const parsed = parseAccountKey(text, network);
  return parsed.ok ? "accepted" : parsed.problem;
};

describe("BIP-380 checksum", () => {
  const checksummed: string[] = [
    ...utxo.litecoin_core_derivations.map((s: { descriptor: string }) => s.descriptor),
    utxo.official_through_litecoin_core.bip84_account_on_litecoin_main.descriptor_receive,
    ...bip86.descriptors,
  ];

  it.each(checksummed)("computes Core's checksum of %s", (descriptor) => {
    const [body, checksum] = descriptor.split("#") as [string, string];
    expect(descriptorChecksum(body)).toBe(checksum);
  });

  it.each(core.results.flatMap((r) => (r.checksum ? [[r.input, r.checksum] as const] : [])))(
    "computes Core's checksum of %s as written (h steps, upper-case fingerprint, non-ranged, raw)",
    (input, checksum) => {
      expect(descriptorChecksum(input)).toBe(checksum);
    },
  );

  it("counts its vectors: 18 + 1 + 3 from utxo.json and bip86.json, 7 from Litecoin Core", () => {
    expect(checksummed).toHaveLength(22);
    expect(core.results.filter((r) => r.checksum)).toHaveLength(7);
  });

  it("has no checksum for a character outside the descriptor alphabet", () => {
    expect(descriptorChecksum("raw(Ü)")).toBeNull();
    expect(() => withDescriptorChecksum("wpkh(\n)")).toThrow(RangeError);
  });

  it("refuses a descriptor whose checksum Core refused, and every single-character change of a good one", () => {
    const refused = core.results.find((r) => r.error)!;
    expect(refused.error).toMatch(/does not match computed checksum/);
    expect(problemOf(refused.input, LTC_REGTEST)).toBe("bad-descriptor-checksum");
    const good: string = utxo.litecoin_core_derivations[0].descriptor;
    const hash = good.indexOf("#");
    for (const at of [hash + 1, hash + 8, 5, 40, hash - 3]) {
      const changed = good.slice(0, at) + (good[at] === "q" ? "p" : "q") + good.slice(at + 1);
      expect(problemOf(changed, LTC_MAIN)).toMatch(/bad-descriptor-checksum|bad-checksum|malformed/);
    }
  });

  it.each(["#", "#2ag6nxc", "#2ag6nxcdd", "#2AG6NXCD"])("refuses the checksum part %s", (suffix) => {
    expect(problemOf(`wpkh([73c5da0a/84'/1'/0']${K84_TEST}/0/*)${suffix}`, LTC_REGTEST)).toBe("bad-descriptor-checksum");
  });
});

describe("key origin and receive chain", () => {
  interface Ranged {
    input: string;
    checksum: string;
    normalized: string;
    addresses_0_to_2: string[];
  }
  const ranged = core.results.filter((r): r is CoreDescriptor & Ranged => Boolean(r.addresses_0_to_2));

  it.each(ranged.map((r) => [r.input, r] as const))("%s derives Core's first three addresses", (_, row) => {
    const key = accepted(`${row.input}#${row.checksum}`, LTC_REGTEST);
    expect([0, 1, 2].map((i) => deriveInvoiceAddress(key, i).address)).toEqual(row.addresses_0_to_2);
    // The canonical form is Core's normalised one: origin steps with ', fingerprint in lower case.
    expect(key.descriptor).toBe(row.normalized);
  });

  it("keeps the origin, normalised", () => {
    const key = accepted(`wpkh([73C5DA0A/84h/1h/0h]${K84_TEST}/0/*)`, LTC_REGTEST);
    expect(key.origin).toEqual({ fingerprint: "73c5da0a", path: ["84'", "1'", "0'"] });
    expect(parseReceiveDescriptor(`pkh([00000000]${K84_TEST})`)).toEqual({ ok: true, descriptor: { script: "p2pkh", origin: { fingerprint: "00000000", path: [] }, key: K84_TEST } });
  });

  it("treats /0/*, /<0;1>/* and no suffix as the same account: same addresses, same fingerprint, same canonical form", () => {
    const forms = [`wpkh(${K84_TEST}/0/*)`, `wpkh(${K84_TEST}/<0;1>/*)`, `wpkh(${K84_TEST})`, K84_TEST].map((t) => accepted(t, LTC_REGTEST));
    for (const key of forms) {
      expect(deriveInvoiceAddress(key, 7).matchKey).toBe(deriveInvoiceAddress(forms[0]!, 7).matchKey);
      expect(key.fingerprint).toBe(forms[0]!.fingerprint);
      expect(key.descriptor).toBe(forms[0]!.descriptor);
    }
  });

  it("accepts a multipath descriptor with its checksum", () => {
    expect(problemOf(withDescriptorChecksum(`wpkh([73c5da0a/84'/1'/0']${K84_TEST}/<0;1>/*)`), LTC_REGTEST)).toBe("accepted");
  });

  it.each([
    ["the change chain", `wpkh(${K84_TEST}/1/*)`, "unsupported-descriptor"],
    ["the reversed pair", `wpkh(${K84_TEST}/<1;0>/*)`, "unsupported-descriptor"],
    ["a bare wildcard", `wpkh(${K84_TEST}/*)`, "unsupported-descriptor"],
    ["a hardened wildcard", `wpkh(${K84_TEST}/0/*')`, "unsupported-descriptor"],
    ["a hardened step after an xpub", `wpkh(${K84_TEST}/0h/*)`, "unsupported-descriptor"],
    ["one fixed address", `wpkh(${K84_TEST}/0/5)`, "unsupported-descriptor"],
    ["multisig", `wsh(multi(1,${K84_TEST}/0/*))`, "unsupported-descriptor"],
    ["sorted multisig in P2SH", `sh(sortedmulti(1,${K84_TEST}/0/*))`, "unsupported-descriptor"],
    ["tr with a script tree", `tr(${K84_TEST}/0/*,pk(${K84_TEST}/1/*))`, "unsupported-descriptor"],
    ["an address descriptor", "addr(rltc1q6rz28mcfaxtmd6v789l9rrlrusdprr9puuzgkg)", "unsupported-descriptor"],
    ["a raw script", "raw(deadbeef)", "unsupported-descriptor"],
    ["a single hex public key", "wpkh(0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c)", "malformed"],
    ["an unclosed function", `wpkh(${K84_TEST}/0/*`, "malformed"],
    ["a short fingerprint", `wpkh([73c5da0/84'/1'/0']${K84_TEST}/0/*)`, "malformed"],
    ["an origin step past 2^31-1", `wpkh([73c5da0a/2147483648'/1'/0']${K84_TEST}/0/*)`, "malformed"],
    ["a mainnet xpub on regtest", `wpkh(${utxo.litecoin_core_derivations[0].extended_key}/0/*)`, "wrong-network"],
    ["a tprv", `wpkh(tprv8gQrrFgfPXGSVEXukkGAW1QFYAsmXvpmtt2HAJBUgoh4hbvEqgybRCShLMhpvfiPrqowXP6MJx89ffv4kEMboSTFf2wVzjjRtzexi6GnpEP/0/*)`, "private-key"],
  ] as const)("refuses %s", (_, text, problem) => {
    expect(problemOf(text, LTC_REGTEST)).toBe(problem);
  });
});

describe("tr(): BIP-86 single-key taproot", () => {
  it("has the account key of the BIP-86 root", () => {
    expect(HDKey.fromExtendedKey(bip86.rootpriv).derive(bip86.account.path).publicExtendedKey).toBe(bip86.account.xpub);
  });

  it.each(bip86.outputs.map((o) => [o.path, o] as const))("derives %s: internal key, tweaked output key, script and address", (_, o) => {
    const key = accepted(`tr([${bip86.master_fingerprint}/86'/0'/0']${bip86.account.xpub}/0/*)`, BTC_MAIN);
    const [branch, index] = o.path!.split("/").slice(-2).map(Number) as [0 | 1, number];
    const out = deriveOutput(key, branch, index);
    expect(bytesToHex(out.publicKey.subarray(1))).toBe(o.internal_key);
    expect(out.matchKey).toBe(o.scriptPubKey);
    expect(bytesToHex(out.script.subarray(2))).toBe(o.output_key);
    expect(out.address).toBe(o.address);
    expect(bytesToHex(scriptOfAddress(o.address!, BTC_MAIN)!)).toBe(o.scriptPubKey);
  });

  it("writes the BIP-86 receive descriptor back as rust-miniscript does, and refuses its change twin", () => {
    const [receive, change, bare] = bip86.descriptors as [string, string, string];
    expect(accepted(receive, BTC_MAIN).descriptor).toBe(receive);
    expect(problemOf(change, BTC_MAIN)).toBe("unsupported-descriptor");
    expect(accepted(bare, BTC_MAIN).descriptor).toBe(bare);
  });

  it("derives the same taproot outputs on Litecoin, with its prefix", () => {
    const key = accepted(`tr(${bip86.account.xpub})`, LTC_MAIN);
    const out = deriveInvoiceAddress(key, 0);
    expect(out.matchKey).toBe(bip86.outputs[0]!.scriptPubKey);
    expect(out.address.startsWith("ltc1p")).toBe(true);
  });
});
