// The UTXO ChainAdapter: what a merchant's account key is stored as, invoice addresses from the stored form
// (checked against Litecoin Core 0.21's own deriveaddresses in test/vectors/utxo.json), and payments found
// by output script in the compact txs the watcher hands out.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { OpenKeySet } from "../../src/chains/adapter";
import { keysFromRequest, utxoAdapter } from "../../src/chains/utxo/adapter";
import type { CoreTx } from "../../src/chains/utxo/core-rpc";
import { replaceableInPool, utxoTxOf, type UtxoTx } from "../../src/chains/utxo/tx";
import { Coin } from "../../src/domain/coins";

const vectors = JSON.parse(readFileSync(new URL("../vectors/utxo.json", import.meta.url), "utf8"));

interface Derivation {
  chain: "main" | "test" | "regtest";
  script_type: "p2wpkh" | "p2sh-p2wpkh" | "p2pkh";
  branch: number;
  extended_key: string;
  descriptor: string;
  addresses: { index: number; address: string; scriptPubKey: string }[];
}
const receiveChains: Derivation[] = vectors.litecoin_core_derivations.filter((d: Derivation) => d.branch === 0);
const NETWORK_OF_CHAIN = { main: "mainnet", test: "testnet", regtest: "regtest" } as const;
const WRAP = { p2wpkh: (k: string) => `wpkh(${k})`, "p2sh-p2wpkh": (k: string) => `sh(wpkh(${k}))`, p2pkh: (k: string) => `pkh(${k})` };

/** A key set as an account opens it from D1: publicKeys went through JSON on the way. */
function stored(coin: Coin.BTC | Coin.LTC, network: "mainnet" | "testnet" | "regtest", key: string, id = 1): OpenKeySet {
  const keys = keysFromRequest(coin, network, key);
  if (!keys) throw new Error(`refused ${key.slice(0, 20)}…`);
  return { id, publicKeys: JSON.parse(JSON.stringify(keys.publicKeys)), secret: keys.secret };
}

const regtestP2wpkh = receiveChains.find((d) => d.chain === "regtest" && d.script_type === "p2wpkh")!;
const TXID = "aa".repeat(32);
const coreTx = (over: Partial<CoreTx> = {}): CoreTx => ({
  txid: TXID,
  wtxid: "bb".repeat(32),
  coinbase: false,
  spends: [{ txid: "cc".repeat(32), vout: 7 }],
  outputs: [],
  ...over,
});
const output = (n: number, script: string, satoshis: bigint) => ({ n, script, satoshis, address: null });

describe("keysFromRequest", () => {
  it("stores Litecoin Core's own receive descriptor for a bare account key, with no secret", () => {
    for (const d of receiveChains) {
      const key = d.script_type === "p2wpkh" ? d.extended_key : WRAP[d.script_type](d.extended_key);
      const keys = keysFromRequest(Coin.LTC, NETWORK_OF_CHAIN[d.chain], key);
      expect(keys).toMatchObject({ publicKeys: { descriptor: d.descriptor }, secret: null });
      expect(keys!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("gives one fingerprint to one key however it is written", () => {
    const bare = keysFromRequest(Coin.LTC, "regtest", regtestP2wpkh.extended_key)!;
    const described = keysFromRequest(Coin.LTC, "regtest", regtestP2wpkh.descriptor)!;
    expect(described).toEqual(bare);
  });

  it.each([
    ["garbage", "not a key"],
    ["a key of another network (a mainnet xpub on regtest)", receiveChains.find((d) => d.chain === "main")!.extended_key],
    ["a descriptor with a broken checksum", regtestP2wpkh.descriptor.replace(/#.*$/, "#qqqqqqqq")],
    ["an empty string", ""],
  ])("refuses %s", (_, key) => {
    expect(keysFromRequest(Coin.LTC, "regtest", key)).toBeNull();
  });

  it("refuses a pair of coin and network that does not exist", () => {
    expect(() => keysFromRequest(Coin.LTC, "signet", regtestP2wpkh.extended_key)).toThrow(TypeError);
  });
});

describe("deriveAddress", () => {
  it("derives Litecoin Core's addresses and scripts from the stored descriptor, for every script and network", () => {
    const adapter = { mainnet: utxoAdapter(Coin.LTC, "mainnet"), testnet: utxoAdapter(Coin.LTC, "testnet"), regtest: utxoAdapter(Coin.LTC, "regtest") };
    let checked = 0;
    for (const d of receiveChains) {
      const network = NETWORK_OF_CHAIN[d.chain];
      const keys = stored(Coin.LTC, network, WRAP[d.script_type](d.extended_key));
      for (const a of d.addresses) {
        expect(adapter[network].deriveAddress(keys, a.index)).toEqual({ address: a.address, matchKey: a.scriptPubKey });
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(9 * 3);
  });

  it("keeps key sets apart: another descriptor under the same id never reuses a cached parse", () => {
    const adapter = utxoAdapter(Coin.LTC, "regtest");
    const p2pkh = receiveChains.find((d) => d.chain === "regtest" && d.script_type === "p2pkh")!;
    expect(adapter.deriveAddress(stored(Coin.LTC, "regtest", regtestP2wpkh.extended_key, 7), 0).address).toBe(regtestP2wpkh.addresses[0]!.address);
    expect(adapter.deriveAddress(stored(Coin.LTC, "regtest", `pkh(${p2pkh.extended_key})`, 7), 0).address).toBe(p2pkh.addresses[0]!.address);
  });

  it("fails loudly for a key set whose stored keys are not a descriptor of its network", () => {
    const adapter = utxoAdapter(Coin.BTC, "mainnet");
    expect(() => adapter.deriveAddress({ id: 3, publicKeys: { pubSpendKey: "00" }, secret: null }, 0)).toThrow(/key set 3/);
    expect(() => adapter.deriveAddress(stored(Coin.LTC, "regtest", regtestP2wpkh.extended_key, 4), 0)).toThrow(/key set 4/);
  });
});

describe("findPayments", () => {
  const adapter = utxoAdapter(Coin.LTC, "regtest");
  const keys = stored(Coin.LTC, "regtest", regtestP2wpkh.extended_key);
  const [first, second] = [adapter.deriveAddress(keys, 0), adapter.deriveAddress(keys, 1)];
  const watched = new Map([
    [first.matchKey, "invoice-0"],
    [second.matchKey, "invoice-1"],
  ]);
  const stranger = `0014${"ee".repeat(20)}`;

  it("finds every output paying a watched script, identified by txid:vout, in exact satoshis", () => {
    const tx = utxoTxOf(
      coreTx({
        outputs: [output(0, stranger, 5n), output(1, first.matchKey, 2_099_999_999_999_999n), output(2, second.matchKey, 1n), output(3, first.matchKey, 546n)],
      }),
      true,
    );
    expect(adapter.findPayments(tx, keys, watched)).toEqual([
      { outputIndex: 1, outputKey: `${TXID}:1`, amount: 2_099_999_999_999_999n, owner: "invoice-0", replaceable: true },
      { outputIndex: 2, outputKey: `${TXID}:2`, amount: 1n, owner: "invoice-1", replaceable: true },
      { outputIndex: 3, outputKey: `${TXID}:3`, amount: 546n, owner: "invoice-0", replaceable: true },
    ]);
  });

  it("finds nothing in a stranger's tx, nor for scripts another key set watches", () => {
    const tx = utxoTxOf(coreTx({ outputs: [output(0, stranger, 1_000n), output(1, first.matchKey, 1_000n)] }), false);
    expect(adapter.findPayments(tx, keys, new Map([[stranger.replace("ee", "ef"), "x"]]))).toEqual([]);
    expect(adapter.findPayments(tx, keys, new Map())).toEqual([]);
  });

  it("never counts a coinbase output as a payment, even to an invoice address", () => {
    const reward = utxoTxOf(coreTx({ coinbase: true, spends: [], outputs: [output(0, first.matchKey, 5_000_000_000n)] }), false);
    expect(adapter.findPayments(reward, keys, watched)).toEqual([]);
  });

  it("keeps the position of an output as vout when MWEB outputs were left out before it", () => {
    // Litecoin numbers transparent outputs on their own; core-rpc drops MWEB ones, so n, not the array index, is vout.
    const tx = utxoTxOf(coreTx({ outputs: [output(1, first.matchKey, 10n)] }), false);
    expect(adapter.findPayments(tx, keys, watched).map((p) => p.outputKey)).toEqual([`${TXID}:1`]);
  });
});

describe("utxoTxOf", () => {
  it("keeps what accounts need, as strings and numbers that survive structured cloning", () => {
    const tx: UtxoTx = utxoTxOf(
      coreTx({ spends: [{ txid: "cc".repeat(32), vout: 7 }, { txid: "dd".repeat(32), vout: 0 }], outputs: [output(0, "51", 70_000_000_000_000_002n)] }),
      true,
    );
    expect(tx).toEqual({
      hash: TXID,
      coinbase: false,
      outputs: [{ index: 0, script: "51", value: "70000000000000002" }],
      spends: [`${"cc".repeat(32)}:7`, `${"dd".repeat(32)}:0`],
      replaceable: true,
    });
    expect(structuredClone(tx)).toEqual(tx);
    expect(JSON.parse(JSON.stringify(tx))).toEqual(tx);
  });
});

describe("replaceableInPool", () => {
  it.each([
    [true, null, true],
    [false, null, false],
    [false, false, false],
    [false, true, true],
    [null, null, true],
    [null, false, true],
  ] as const)("BIP125 flag %s with full RBF %s: replaceable %s", (bip125, fullRbf, replaceable) => {
    expect(replaceableInPool(bip125, fullRbf)).toBe(replaceable);
  });
});
