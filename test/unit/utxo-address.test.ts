// Address text <-> output script per network: what a node on each network accepts, the one script every
// spelling of an address decodes to, and the spelling the node writes back. Vectors: utxo.json
// (shared/vectors, unchanged; validateaddress_matrix is Litecoin Core 0.21's own verdicts) and
// bip350.json (the BIP-350 text).

import { readFileSync } from "node:fs";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { addressOfScript, deriveInvoiceAddress, deriveOutput, MAX_ADDRESS_INDEX, scriptOfAddress, scriptOfPublicKey } from "../../src/chains/utxo/address";
import { parseAccountKey, type AccountKey } from "../../src/chains/utxo/keys";
import { allUtxoNetworks, utxoNetwork, type UtxoNetwork } from "../../src/chains/utxo/networks";

const load = (name: string) => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), "utf8"));
const utxo = load("utxo.json");
const bip350: { valid: Bip350Valid[]; invalid: { address: string; why: string }[] } = load("bip350.json");

const BTC = { mainnet: utxoNetwork("BTC", "mainnet"), testnet: utxoNetwork("BTC", "testnet"), signet: utxoNetwork("BTC", "signet"), regtest: utxoNetwork("BTC", "regtest") };
const LTC_BY_CHAIN: Record<string, UtxoNetwork> = { main: utxoNetwork("LTC", "mainnet"), test: utxoNetwork("LTC", "testnet"), regtest: utxoNetwork("LTC", "regtest") };

const hexOf = (address: string, network: UtxoNetwork): string | null => {
  const script = scriptOfAddress(address, network);
  return script && bytesToHex(script);
};

function accountKey(text: string, network: UtxoNetwork): AccountKey {
  const parsed = parseAccountKey(text, network);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.key;
}

describe("Litecoin Core's validateaddress on main, test and regtest (validateaddress_matrix)", () => {
  interface Row {
    chain: string;
    kind: string;
    address: string;
    isvalid: boolean;
    address_returned: string | null;
    scriptPubKey: string | null;
  }
  const rows: Row[] = utxo.validateaddress_matrix;

  it("has 3 chains × 11 kinds", () => {
    expect(rows).toHaveLength(33);
  });

  it.each(rows.map((r) => [r.chain, r.kind, r] as const))("%s, %s: valid exactly when Core says so, to Core's script", (_, __, row) => {
    const network = LTC_BY_CHAIN[row.chain]!;
    expect(hexOf(row.address, network)).toBe(row.isvalid ? row.scriptPubKey : null);
  });

  it.each(rows.filter((r) => r.isvalid).map((r) => [r.chain, r.kind, r] as const))("%s, %s: written back as Core writes it", (_, __, row) => {
    const network = LTC_BY_CHAIN[row.chain]!;
    // Legacy 3…/2… come back as M…/Q…: the script is the identity, the string is just a spelling.
    expect(addressOfScript(scriptOfAddress(row.address, network)!, network)).toBe(row.address_returned);
  });
});

interface Bip350Valid {
  address: string;
  network: "mainnet" | "testnet";
  scriptPubKey: string;
}

describe("BIP-350 segwit address vectors", () => {
  it.each(bip350.valid.map((v) => [v.address, v] as const))("%s decodes to its script and back", (_, v) => {
    const network = BTC[v.network];
    expect(hexOf(v.address, network)).toBe(v.scriptPubKey);
    expect(addressOfScript(hexToBytes(v.scriptPubKey), network)).toBe(v.address.toLowerCase());
  });

  it.each(bip350.invalid.map((v) => [v.why, v.address] as const))("refuses on every Bitcoin network: %s (%s)", (_, address) => {
    for (const network of Object.values(BTC)) expect(scriptOfAddress(address, network)).toBeNull();
  });

  it("has 8 valid and 15 invalid vectors", () => {
    expect([bip350.valid.length, bip350.invalid.length]).toEqual([8, 15]);
  });
});

describe("official Bitcoin addresses decode to the scripts their keys derive", () => {
  const slip = utxo.official.bip44_via_slip0132.accounts as { path: string; ext_pub: string; first_address: string }[];
  const cases = [
    ...slip.map((a, i) => ({ name: a.path, key: i === 0 ? `pkh(${a.ext_pub})` : a.ext_pub, network: BTC.mainnet, address: a.first_address, branch: 0 as const, index: 0 })),
    ...utxo.official.bip84.addresses.map((a: { path: string; address: string }) => ({
      name: a.path,
      key: utxo.official.bip84.account.xpub,
      network: BTC.mainnet,
      address: a.address,
      branch: Number(a.path.split("/").at(-2)) as 0 | 1,
      index: Number(a.path.split("/").at(-1)),
    })),
    ...(["testnet", "signet", "regtest"] as const).map((n) => ({ name: `m/49'/1'/0'/0/0 on ${n}`, key: utxo.official.bip49.account.xpub, network: BTC[n], address: utxo.official.bip49.addresses[0].address, branch: 0 as const, index: 0 })),
  ];

  it.each(cases.map((c) => [c.name, c.address, c] as const))("%s: %s", (_, __, c) => {
    const out = deriveOutput(accountKey(c.key, c.network), c.branch, c.index);
    expect(bytesToHex(scriptOfAddress(c.address, c.network)!)).toBe(out.matchKey);
    expect(out.address).toBe(c.address);
  });

  it("gives BIP49's script hash in the P2SH script", () => {
    const { script_hash } = utxo.official.bip49.addresses[0];
    expect(hexOf(utxo.official.bip49.addresses[0].address, BTC.testnet)).toBe(`a914${script_hash}87`);
  });
});

describe("one network's addresses only", () => {
  const zpubKey = () => accountKey(utxo.official.bip84.account.xpub, BTC.mainnet);
  const pkhMain = () => accountKey(`pkh(${utxo.official.bip44_via_slip0132.accounts[0].ext_pub})`, BTC.mainnet);

  it("refuses every Bitcoin mainnet spelling on the test networks, and theirs on mainnet", () => {
    const main = [deriveInvoiceAddress(zpubKey(), 0).address, deriveInvoiceAddress(pkhMain(), 0).address, utxo.official.bip44_via_slip0132.accounts[1].first_address];
    for (const address of main) {
      expect(scriptOfAddress(address, BTC.mainnet)).not.toBeNull();
      for (const network of [BTC.testnet, BTC.signet, BTC.regtest]) expect(scriptOfAddress(address, network)).toBeNull();
    }
    expect(scriptOfAddress(utxo.official.bip49.addresses[0].address, BTC.mainnet)).toBeNull();
  });

  it("tells regtest's bcrt1 from testnet's tb1 (base58 versions are shared by design)", () => {
    const script = deriveInvoiceAddress(zpubKey(), 0).script;
    const tb = addressOfScript(script, BTC.testnet)!;
    const bcrt = addressOfScript(script, BTC.regtest)!;
    expect([tb.slice(0, 3), bcrt.slice(0, 5)]).toEqual(["tb1", "bcrt1"]);
    expect(scriptOfAddress(tb, BTC.regtest)).toBeNull();
    expect(scriptOfAddress(bcrt, BTC.testnet)).toBeNull();
    expect(scriptOfAddress(bcrt, BTC.signet)).toBeNull();
    expect(bytesToHex(scriptOfAddress(tb, BTC.signet)!)).toBe(bytesToHex(script));
  });

  it("refuses every Litecoin mainnet address on Bitcoin mainnet", () => {
    const valid = (utxo.validateaddress_matrix as { chain: string; kind: string; address: string; isvalid: boolean }[]).filter((r) => r.chain === "main" && r.isvalid && !r.kind.startsWith("3 "));
    expect(valid.length).toBe(3);
    for (const row of valid) expect(scriptOfAddress(row.address, BTC.mainnet)).toBeNull();
  });

  it("refuses an MWEB address (litecoind 0.21 regtest, getnewaddress '' mweb): it has no output script", () => {
    const mweb = "tmweb1qqgvck64euxqf3xc4d0k0y8jrmpeyd8t3v4ynd2ctg4h78m0092adkqj3lcjdrde3gj68z4edsmp06x2r5hq03msqt663hkylk5wh9r6d4gy3cucc";
    for (const network of Object.values(LTC_BY_CHAIN)) expect(scriptOfAddress(mweb, network)).toBeNull();
  });

  it.each([["empty", ""], ["spaces", " bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"], ["too long", `bc1q${"q".repeat(100)}`], ["a base58 typo", "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabB"], ["an xpub", utxo.official.bip44_via_slip0132.accounts[0].ext_pub]])(
    "refuses %s",
    (_, text) => {
      expect(scriptOfAddress(text, BTC.mainnet)).toBeNull();
    },
  );

  it("accepts upper-case bech32 (QR codes) as the same script", () => {
    const address = deriveInvoiceAddress(zpubKey(), 3).address;
    expect(bytesToHex(scriptOfAddress(address.toUpperCase(), BTC.mainnet)!)).toBe(bytesToHex(scriptOfAddress(address, BTC.mainnet)!));
  });
});

describe("scripts without an address form", () => {
  const pubkey = hexToBytes(utxo.official.bip84.addresses[0].pubkey);

  it.each([
    ["OP_RETURN data", "6a0b68656c6c6f20776f726c64"],
    ["pay-to-pubkey", `21${bytesToHex(pubkey)}ac`],
    ["bare 1-of-1 multisig", `5121${bytesToHex(pubkey)}51ae`],
    ["empty", ""],
    ["a witness program with a wrong length byte", "0015751e76e8199196d454941c45d1b3a323f1433bd6"],
  ])("has no address for %s", (_, hex) => {
    for (const network of allUtxoNetworks()) expect(addressOfScript(hexToBytes(hex), network)).toBeNull();
  });

  it("builds each script type from a public key in its standard template", () => {
    const hash = "751e76e8199196d454941c45d1b3a323f1433bd6";
    const known = hexToBytes("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"); // the generator G
    expect(bytesToHex(scriptOfPublicKey("p2wpkh", known))).toBe(`0014${hash}`);
    expect(bytesToHex(scriptOfPublicKey("p2pkh", known))).toBe(`76a914${hash}88ac`);
    expect(bytesToHex(scriptOfPublicKey("p2sh-p2wpkh", known))).toMatch(/^a914[0-9a-f]{40}87$/);
    expect(bytesToHex(scriptOfPublicKey("p2tr", known))).toMatch(/^5120[0-9a-f]{64}$/);
  });
});

describe("derivation bounds", () => {
  const key = () => accountKey(utxo.official.bip84.account.xpub, BTC.mainnet);

  it("derives the last non-hardened index and refuses the ones around the range", () => {
    expect(deriveInvoiceAddress(key(), MAX_ADDRESS_INDEX).address).toMatch(/^bc1q/);
    for (const index of [-1, MAX_ADDRESS_INDEX + 1, 1.5, Number.NaN]) expect(() => deriveInvoiceAddress(key(), index)).toThrow(RangeError);
    expect(() => deriveOutput(key(), 2 as 0, 0)).toThrow(RangeError);
  });

  it("derives the same outputs every time, and distinct spellings wherever networks differ in prefix", () => {
    const seen = new Set<string>();
    for (const network of allUtxoNetworks()) {
      const plain = network.extendedKeys[0]!;
      const text = network.name === "mainnet" ? utxo.litecoin_core_derivations[0].extended_key : utxo.litecoin_core_derivations[6].extended_key;
      const k = accountKey(text, network);
      expect(plain.script).toBe("p2wpkh");
      for (let i = 0; i < 3; i++) {
        const out = deriveInvoiceAddress(k, i);
        expect(deriveInvoiceAddress(k, i)).toEqual(out);
        expect(bytesToHex(scriptOfAddress(out.address, network)!)).toBe(out.matchKey);
        seen.add(`${network.coin}:${network.bech32}:${out.address}`);
      }
    }
    // Bitcoin's testnet and signet share every prefix, so one key gives both the same addresses.
    expect(seen.size).toBe(new Set(allUtxoNetworks().map((n) => `${n.coin}:${n.bech32}`)).size * 3);
  });
});
