// Which account keys a merchant may register for BTC and LTC, what script each one means, and that one key
// has one fingerprint however it is written. test/vectors/utxo.json is shared/vectors/utxo.json unchanged:
// the BIP32/49/84 and SLIP-132 texts, re-derived independently, and Litecoin Core 0.21's own derivations.

import { readFileSync } from "node:fs";
import { HDKey } from "@scure/bip32";
import { base58check } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { deriveOutput } from "../../src/chains/utxo/address";
import { invalidMasterKeyMessage, parseAccountKey, type AccountKey, type KeyProblem } from "../../src/chains/utxo/keys";
import { allUtxoNetworks, utxoNetwork, type ScriptType, type UtxoNetwork } from "../../src/chains/utxo/networks";

const vectors = JSON.parse(readFileSync(new URL("../vectors/utxo.json", import.meta.url), "utf8"));
const b58 = base58check(sha256);

const BTC_MAIN = utxoNetwork("BTC", "mainnet");
const BTC_TEST = utxoNetwork("BTC", "testnet");
const LTC_MAIN = utxoNetwork("LTC", "mainnet");
/** Litecoin Core's chain names, as utxo.json records them. */
const LTC_BY_CHAIN: Record<string, UtxoNetwork> = { main: LTC_MAIN, test: utxoNetwork("LTC", "testnet"), regtest: utxoNetwork("LTC", "regtest") };

function accepted(text: string, network: UtxoNetwork): AccountKey {
  const parsed = parseAccountKey(text, network);
  if (!parsed.ok) throw new Error(`expected ${text.slice(0, 24)}… to parse on ${network.coin} ${network.name}, got ${parsed.problem}`);
  return parsed.key;
}

function problemOf(text: string, network: UtxoNetwork): KeyProblem | "accepted" {
  const parsed = parseAccountKey(text, network);
  return parsed.ok ? "accepted" : parsed.problem;
}

/** The same 78 bytes under another version: how one key gets its xpub/zpub/Ltub spellings. */
function reversion(key: string, version: number): string {
  const payload = b58.decode(key);
  new DataView(payload.buffer, payload.byteOffset).setUint32(0, version, false);
  return b58.encode(payload);
}

function versionOf(key: string): number {
  const payload = b58.decode(key);
  return new DataView(payload.buffer, payload.byteOffset).getUint32(0, false);
}

const WRAP: Record<ScriptType, (key: string) => string> = {
  p2pkh: (k) => `pkh(${k})`,
  "p2sh-p2wpkh": (k) => `sh(wpkh(${k}))`,
  p2wpkh: (k) => `wpkh(${k})`,
  p2tr: (k) => `tr(${k})`,
};
const SCRIPT_OF_VECTOR: Record<string, ScriptType> = { p2wpkh: "p2wpkh", "p2sh-p2wpkh": "p2sh-p2wpkh", p2pkh: "p2pkh" };

describe("BIP32 test vectors 1-3 (official)", () => {
  const chains: { seed: string; chain: string; ext_pub: string; ext_prv: string }[] = vectors.official.bip32.flatMap(
    (v: { seed_hex: string; chains: { chain: string; ext_pub: string; ext_prv: string }[] }) => v.chains.map((c) => ({ seed: v.seed_hex, ...c })),
  );

  it("covers all 14 nodes of the three seeds", () => {
    expect(chains).toHaveLength(14);
  });

  it.each(chains)("refuses the private node $chain of seed $seed as a private key, bare or in a descriptor", ({ ext_prv }) => {
    expect(problemOf(ext_prv, BTC_MAIN)).toBe("private-key");
    expect(problemOf(`wpkh(${ext_prv}/0/*)`, BTC_MAIN)).toBe("private-key");
  });

  it.each(chains)("takes the public node $chain of seed $seed inside a descriptor at any depth and writes it back unchanged", ({ ext_pub }) => {
    const key = accepted(`pkh(${ext_pub})`, BTC_MAIN);
    expect(key.account.publicExtendedKey).toBe(ext_pub);
    expect(key.script).toBe("p2pkh");
  });

  it.each(chains)("takes the bare public node $chain only at account depth 3", ({ chain, ext_pub }) => {
    const depth = chain.split("/").length - 1;
    expect(problemOf(ext_pub, BTC_MAIN)).toBe(depth === 3 ? "accepted" : "wrong-depth");
  });

  // The public half of BIP32: each non-hardened step, taken from the parent's xpub alone, lands on the child.
  const publicSteps = chains.flatMap((node, i) => {
    const next = chains[i + 1];
    if (!next || next.seed !== node.seed) return [];
    const step = next.chain.split("/").at(-1)!;
    return step.endsWith("'") ? [] : [{ parent: node.chain, child: next.chain, index: Number(step), from: node.ext_pub, to: next.ext_pub }];
  });

  it.each(publicSteps)("derives $child from the xpub of $parent", ({ index, from, to }) => {
    expect(accepted(`wpkh(${from})`, BTC_MAIN).account.deriveChild(index).publicExtendedKey).toBe(to);
  });

  it("has public steps to check in every seed", () => {
    expect(publicSteps.length).toBeGreaterThanOrEqual(4);
  });
});

describe("BIP84 (official): zpub on Bitcoin mainnet", () => {
  const { account, addresses, rootpub, rootpriv } = vectors.official.bip84;

  it("reads the account zpub as P2WPKH and derives the official receive and change addresses", () => {
    const key = accepted(account.xpub, BTC_MAIN);
    expect(key.script).toBe("p2wpkh");
    for (const a of addresses as { path: string; pubkey: string; address: string }[]) {
      const [branch, index] = a.path.split("/").slice(-2).map(Number) as [0 | 1, number];
      const out = deriveOutput(key, branch, index);
      expect(out.address).toBe(a.address);
      expect(bytesToHex(out.publicKey)).toBe(a.pubkey);
    }
  });

  it("refuses the root zpub (depth 0) and every zprv", () => {
    expect(problemOf(rootpub, BTC_MAIN)).toBe("wrong-depth");
    expect(problemOf(rootpriv, BTC_MAIN)).toBe("private-key");
    expect(problemOf(account.xpriv, BTC_MAIN)).toBe("private-key");
  });

  it("refuses the mainnet zpub on every other network", () => {
    for (const network of allUtxoNetworks().filter((n) => n.name !== "mainnet")) {
      expect(problemOf(account.xpub, network)).toBe("wrong-network");
    }
  });
});

describe("BIP49 (official, testnet): upub", () => {
  const { account, addresses, rootpriv } = vectors.official.bip49;
  const [first] = addresses as { pubkey: string; redeem_script: string; address: string }[];

  it.each(["testnet", "signet", "regtest"] as const)("reads the upub as P2SH-P2WPKH on Bitcoin %s and derives 2Mww8…", (name) => {
    const key = accepted(account.xpub, utxoNetwork("BTC", name));
    expect(key.script).toBe("p2sh-p2wpkh");
    const out = deriveOutput(key, 0, 0);
    expect(out.address).toBe(first!.address);
    expect(bytesToHex(out.publicKey)).toBe(first!.pubkey);
  });

  it("refuses the upub on mainnet and the uprvs everywhere", () => {
    expect(problemOf(account.xpub, BTC_MAIN)).toBe("wrong-network");
    expect(problemOf(account.xpriv, BTC_TEST)).toBe("private-key");
    expect(problemOf(rootpriv, BTC_TEST)).toBe("private-key");
  });
});

describe("SLIP-132 Bitcoin test vectors (m/44', m/49', m/84')", () => {
  const accounts: { path: string; ext_prv: string; ext_pub: string; first_address: string }[] = vectors.official.bip44_via_slip0132.accounts;
  const [bip44, bip49, bip84] = accounts as [(typeof accounts)[0], (typeof accounts)[0], (typeof accounts)[0]];

  it("reads ypub as P2SH-P2WPKH and zpub as P2WPKH, and derives their first addresses", () => {
    expect(deriveOutput(accepted(bip49.ext_pub, BTC_MAIN), 0, 0).address).toBe(bip49.first_address);
    expect(deriveOutput(accepted(bip84.ext_pub, BTC_MAIN), 0, 0).address).toBe(bip84.first_address);
    expect(accepted(bip49.ext_pub, BTC_MAIN).script).toBe("p2sh-p2wpkh");
  });

  it("reads a bare xpub as P2WPKH (what wallets exporting xpub mean today); pkh(xpub) gives the BIP44 address", () => {
    // SLIP-132 lets xpub also mean P2PKH; a merchant who wants that says so with a descriptor.
    expect(accepted(bip44.ext_pub, BTC_MAIN).script).toBe("p2wpkh");
    expect(deriveOutput(accepted(`pkh(${bip44.ext_pub})`, BTC_MAIN), 0, 0).address).toBe(bip44.first_address);
  });

  it("refuses xprv, yprv and zprv", () => {
    for (const account of accounts) expect(problemOf(account.ext_prv, BTC_MAIN)).toBe("private-key");
  });
});

describe("official vectors given to Litecoin Core (official_through_litecoin_core)", () => {
  const o = vectors.official_through_litecoin_core;

  it("BIP84's account, re-versioned to xpub, derives Core's 21 receive and 21 change addresses on Litecoin mainnet", () => {
    const key = accepted(o.bip84_account_on_litecoin_main.extended_key, LTC_MAIN);
    for (const [branch, list] of [[0, o.bip84_account_on_litecoin_main.receive], [1, o.bip84_account_on_litecoin_main.change]] as const) {
      expect(list).toHaveLength(21);
      for (const { index, address } of list as { index: number; address: string }[]) expect(deriveOutput(key, branch, index).address).toBe(address);
    }
  });

  it("writes the BIP84 account back as exactly the descriptor Core was given, checksum included", () => {
    const { descriptor_receive } = o.bip84_account_on_litecoin_main;
    expect(accepted(descriptor_receive, LTC_MAIN).descriptor).toBe(descriptor_receive);
  });

  it("gives the zpub and its xpub spelling one fingerprint", () => {
    const asZpub = accepted(vectors.official.bip84.account.xpub, BTC_MAIN);
    const asXpub = accepted(o.bip84_account_on_litecoin_main.extended_key, BTC_MAIN);
    expect(asXpub.fingerprint).toBe(asZpub.fingerprint);
    expect(asXpub.descriptor).toBe(asZpub.descriptor);
  });

  it.each(["bip49_on_litecoin_test", "bip49_on_litecoin_regtest"])("%s: the BIP49 descriptor derives Core's Q… address", (name) => {
    const v = o[name];
    const network = name.endsWith("regtest") ? LTC_BY_CHAIN.regtest! : LTC_BY_CHAIN.test!;
    expect(deriveOutput(accepted(v.descriptor, network), 0, v.index).address).toBe(v.address);
    expect(deriveOutput(accepted(v.descriptor, network), 0, v.index).matchKey).toBe(v.validateaddress_of_official_2M_address.scriptPubKey);
  });

  it.each(["slip0132_44_on_litecoin_main", "slip0132_49_on_litecoin_main", "slip0132_84_on_litecoin_main"])(
    "%s: the descriptor derives Core's address",
    (name) => {
      const v = o[name];
      expect(deriveOutput(accepted(v.descriptor, LTC_MAIN), 0, v.index).address).toBe(v.address);
    },
  );
});

describe("Litecoin Core deriveaddresses: 18 sets (main/test/regtest × P2WPKH/P2SH-P2WPKH/P2PKH × receive/change, 0..20)", () => {
  interface Derivation {
    chain: string;
    script_type: string;
    extended_key: string;
    extended_key_path: string;
    branch: 0 | 1;
    descriptor: string;
    addresses: { index: number; path: string; address: string; pubkey: string; scriptPubKey: string }[];
  }
  const sets: Derivation[] = vectors.litecoin_core_derivations;
  const label = (s: Derivation) => `${s.chain} ${s.script_type} /${s.branch}/*`;

  it("has all 18 sets of 21 addresses", () => {
    expect(sets).toHaveLength(18);
    expect(new Set(sets.map(label)).size).toBe(18);
    for (const set of sets) expect(set.addresses).toHaveLength(21);
  });

  it.each(sets.map((s) => [label(s), s] as const))("%s: every address, public key and script matches Core", (_, set) => {
    const network = LTC_BY_CHAIN[set.chain]!;
    const key = accepted(WRAP[SCRIPT_OF_VECTOR[set.script_type]!](set.extended_key), network);
    for (const a of set.addresses) {
      const out = deriveOutput(key, set.branch, a.index);
      expect(a.path).toBe(`${set.extended_key_path}/${set.branch}/${a.index}`);
      expect(out.address).toBe(a.address);
      expect(bytesToHex(out.publicKey)).toBe(a.pubkey);
      expect(out.matchKey).toBe(a.scriptPubKey);
    }
  });

  it.each(sets.filter((s) => s.branch === 0).map((s) => [label(s), s] as const))(
    "%s: Core's own descriptor parses and is written back byte for byte",
    (_, set) => {
      expect(accepted(set.descriptor, LTC_BY_CHAIN[set.chain]!).descriptor).toBe(set.descriptor);
    },
  );

  it.each(sets.filter((s) => s.branch === 1).map((s) => [label(s), s] as const))(
    "%s: Core's change-chain descriptor is refused as an invoice key",
    (_, set) => {
      expect(problemOf(set.descriptor, LTC_BY_CHAIN[set.chain]!)).toBe("unsupported-descriptor");
    },
  );
});

describe("extended-key versions per Litecoin network (extended_key_acceptance: Core's wpkh(KEY/0/*) vs ours)", () => {
  interface Acceptance {
    chain: string;
    version: string;
    version_bytes: string;
    accepted: boolean;
  }
  const results: Acceptance[] = vectors.extended_key_acceptance.results;
  // Our policy; Core (which only knows xpub/tpub, and keeps private keys) is the column beside it.
  const OURS: Record<string, Record<string, ScriptType | KeyProblem>> = {
    main: { xpub: "p2wpkh", Ltub: "p2pkh", Mtub: "p2sh-p2wpkh", zpub: "p2wpkh", tpub: "wrong-network", vpub: "wrong-network", ttub: "wrong-network", xprv: "private-key", tprv: "private-key", Ltpv: "private-key" },
    test: { tpub: "p2wpkh", ttub: "p2pkh", vpub: "p2wpkh", xpub: "wrong-network", Ltub: "wrong-network", Mtub: "wrong-network", zpub: "wrong-network", xprv: "private-key", tprv: "private-key", Ltpv: "private-key" },
  };
  OURS.regtest = OURS.test!;
  // The m/84'/2'/0' account key, re-versioned; each version is refused somewhere, and Core's error quotes it.
  const keyFor = (row: Acceptance): string => {
    const quoted = vectors.extended_key_acceptance.results
      .map((r: { version: string; error: string | null }) => (r.version === row.version ? r.error?.match(/key '([^']+)'/)?.[1] : undefined))
      .find(Boolean);
    if (!quoted) throw new Error(`no key text for ${row.version}`);
    return quoted;
  };
  const accountKey: string = vectors.litecoin_core_derivations[0].extended_key;

  it("has 30 rows: 3 chains × 10 versions, all of the same key", () => {
    expect(results).toHaveLength(30);
    const pub = HDKey.fromExtendedKey(accountKey).publicKey!;
    for (const row of results.filter((r) => !r.version.endsWith("prv") && !r.version.endsWith("pv"))) {
      const payload = b58.decode(keyFor(row));
      expect(bytesToHex(payload.subarray(45))).toBe(bytesToHex(pub));
    }
  });

  it.each(results.map((r) => [r.chain, r.version, r] as const))("%s %s", (_, __, row) => {
    const key = keyFor(row);
    expect(`0x${versionOf(key).toString(16).padStart(8, "0")}`).toBe(row.version_bytes);
    const expected = OURS[row.chain]![row.version];
    const parsed = parseAccountKey(key, LTC_BY_CHAIN[row.chain]!);
    expect(parsed.ok ? parsed.key.script : parsed.problem).toBe(expected);
    // Never stricter than Core with a public key: what it takes in wpkh(), we take in wpkh().
    if (row.accepted && !row.version.endsWith("prv")) expect(problemOf(`wpkh(${key}/0/*)`, LTC_BY_CHAIN[row.chain]!)).toBe("accepted");
  });

  it("gives every accepted spelling of the key the same fingerprint and the same first address as Core's P2WPKH set", () => {
    const first: string = vectors.litecoin_core_derivations[0].addresses[0].address;
    const spellings = results.filter((r) => r.chain === "main" && ["xpub", "zpub"].includes(r.version)).map(keyFor);
    const keys = spellings.map((k) => accepted(k, LTC_MAIN));
    expect(new Set(keys.map((k) => k.fingerprint)).size).toBe(1);
    expect(accepted(keyFor(results.find((r) => r.chain === "main" && r.version === "Ltub")!), LTC_MAIN).fingerprint).toBe(keys[0]!.fingerprint);
    expect(accepted(`wpkh([73c5da0a/84'/2'/0']${accountKey}/<0;1>/*)`, LTC_MAIN).fingerprint).toBe(keys[0]!.fingerprint);
    for (const key of keys) expect(deriveOutput(key, 0, 0).address).toBe(first);
  });

  it("derives the matrix's L… and M… addresses of the same key from Ltub and Mtub", () => {
    const ltub = accepted(keyFor(results.find((r) => r.chain === "main" && r.version === "Ltub")!), LTC_MAIN);
    const mtub = accepted(keyFor(results.find((r) => r.chain === "main" && r.version === "Mtub")!), LTC_MAIN);
    const matrix: { chain: string; kind: string; address: string }[] = vectors.validateaddress_matrix;
    expect(deriveOutput(ltub, 0, 0).address).toBe(matrix.find((m) => m.chain === "main" && m.kind.startsWith("L "))!.address);
    expect(deriveOutput(mtub, 0, 0).address).toBe(matrix.find((m) => m.chain === "main" && m.kind.startsWith("M "))!.address);
  });

  it("has the SLIP-132 registry's version bytes for every name it lists", () => {
    const known = new Map(allUtxoNetworks().flatMap((n) => n.extendedKeys.map((v) => [v.name, v] as const)));
    for (const entry of vectors.prefixes.slip0132_registry.entries as { pub: string; pub_bytes: string; prv?: string; prv_bytes?: string }[]) {
      const names = entry.pub.split("/");
      const bytes = entry.pub_bytes.split("/");
      names.forEach((name, i) => expect(`0x${known.get(name)!.public.toString(16).padStart(8, "0")}`).toBe(bytes[i]));
      if (entry.prv_bytes) expect(`0x${known.get(names[0]!)!.private.toString(16).padStart(8, "0")}`).toBe(entry.prv_bytes);
    }
  });
});

describe("private keys in any form", () => {
  // The three WIF keys (versions 128, 176, 239) of one secret, as Core's refusals quote them.
  const wifs = [...new Set<string>(vectors.wif_acceptance.flatMap((w: { error: string | null }) => w.error?.match(/key '([^']+)'/)?.[1] ?? []))];

  it("lifts all three WIF spellings from wif_acceptance", () => {
    expect(wifs).toHaveLength(3);
  });

  it.each(Object.entries(LTC_BY_CHAIN))("refuses every WIF key on Litecoin %s, bare and in a descriptor", (_, network) => {
    for (const wif of wifs) {
      expect(problemOf(wif, network)).toBe("malformed");
      expect(problemOf(`wpkh(${wif})`, network)).toBe("malformed");
    }
  });

  it("refuses a key whose 0x00 key byte marks it private even under a public version", () => {
    const xprv = vectors.official.bip44_via_slip0132.accounts[0].ext_prv;
    expect(problemOf(reversion(xprv, 0x0488b21e), BTC_MAIN)).toBe("private-key");
  });
});

describe("malformed input", () => {
  const zpub: string = vectors.official.bip84.account.xpub;

  it.each([
    ["empty", "", "malformed"],
    ["garbage", "not a key", "malformed"],
    ["a base58 character swapped", zpub.slice(0, 20) + (zpub[20] === "a" ? "b" : "a") + zpub.slice(21), "bad-checksum"],
    ["truncated", zpub.slice(0, -1), "malformed"],
    ["surrounding whitespace", ` ${zpub}\n`, "malformed"],
    ["far too long", zpub.repeat(10), "malformed"],
    ["an address", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "malformed"],
    ["an unknown version", reversion(zpub, 0x01020304), "malformed"],
  ] as const)("refuses %s", (_, text, problem) => {
    expect(problemOf(text, BTC_MAIN)).toBe(problem);
  });

  it("refuses a public key that is not on the curve", () => {
    const payload = b58.decode(zpub);
    payload.set([0x02, ...new Uint8Array(32).fill(0xff)], 45); // x >= p
    expect(problemOf(b58.encode(payload), BTC_MAIN)).toBe("invalid-key");
  });

  it("refuses a depth-0 node that names a parent", () => {
    const payload = b58.decode(vectors.official.bip84.rootpub);
    payload.set([0, 0, 0, 1], 5);
    expect(problemOf(`wpkh(${b58.encode(payload)})`, BTC_MAIN)).toBe("invalid-key");
  });

  it("says the one API message for every refusal, per coin", () => {
    expect(invalidMasterKeyMessage("BTC")).toBe("invalid BTC master public key");
    expect(invalidMasterKeyMessage("LTC")).toBe("invalid LTC master public key");
  });
});
