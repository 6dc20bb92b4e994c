// Reading the daemon's decoded transaction JSON into ScanTx: every regtest tx the daemon returned,
// pruned and pool forms, the miner tx of a block, older output and RingCT shapes, and bad input.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseScanTx } from "../../src/chains/xmr/tx";

const vectors = JSON.parse(readFileSync(new URL("../vectors/xmr.json", import.meta.url), "utf8"));
const regtest = vectors.regtest;

interface VectorTx {
  name: string;
  tx_hash: string;
  summary: {
    unlock_time: number;
    rct_type: number;
    extra: { tx_pub_key: string; additional_pubkeys: string[] };
    outputs: { key: string; view_tag: string; amount: number; ecdh_amount?: string; commitment?: string }[];
  };
  daemon_get_transactions: { txs: { tx_hash: string; as_json: string }[] };
}
const vectorTxs: VectorTx[] = [...regtest.transactions, ...regtest.negative, regtest.coinbase];
const txJson = (t: VectorTx) => JSON.parse(t.daemon_get_transactions.txs[0]!.as_json);
const byName = (name: string): VectorTx => vectorTxs.find((t) => t.name === name)!;

describe("parseScanTx on the daemon's transactions", () => {
  it.each(vectorTxs.map((t) => [t.name, t] as const))("reads keys, tags and RingCT data of %s as the vector summary lists them", (_, t) => {
    const tx = parseScanTx(t.tx_hash, txJson(t));
    expect(tx.hash).toBe(t.tx_hash);
    expect(tx.unlockTime).toBe(BigInt(t.summary.unlock_time));
    expect(tx.rctType).toBe(t.summary.rct_type);
    expect(tx.txPubKeys).toEqual([t.summary.extra.tx_pub_key]);
    expect(tx.additionalPubKeys).toEqual(t.summary.extra.additional_pubkeys);
    expect(tx.outputs).toEqual(
      t.summary.outputs.map((o) => ({
        key: o.key,
        viewTag: o.view_tag,
        amount: BigInt(o.amount),
        ...(o.ecdh_amount === undefined ? {} : { ecdhAmount: o.ecdh_amount, commitment: o.commitment }),
      })),
    );
  });

  it("marks the miner tx as coinbase, with its cleartext reward and maturity lock", () => {
    const tx = parseScanTx(regtest.coinbase.tx_hash, txJson(regtest.coinbase));
    expect(tx).toMatchObject({ coinbase: true, rctType: 0, unlockTime: 184n, outputs: [{ amount: 35176085112309n }] });
    expect(parseScanTx(byName("single_subaddress").tx_hash, txJson(byName("single_subaddress"))).coinbase).toBe(false);
  });

  it("reads the miner tx embedded in a get_block answer", () => {
    const block = regtest.blocks["121"].result;
    const tx = parseScanTx(block.miner_tx_hash, JSON.parse(block.json).miner_tx);
    expect(tx).toMatchObject({ coinbase: true, unlockTime: 181n, rctType: 0 });
    expect(tx.outputs).toHaveLength(1);
  });

  it("reads a pool tx from get_transaction_pool's tx_json exactly like get_transactions' as_json", () => {
    const pool = regtest.pool_snapshot.get_transaction_pool.transactions[0];
    const fromPool = parseScanTx(pool.id_hash, JSON.parse(pool.tx_json));
    const fromGetTransactions = parseScanTx(pool.id_hash, txJson(regtest.transactions.find((t: VectorTx) => t.tx_hash === pool.id_hash)));
    expect(fromPool).toEqual(fromGetTransactions);
  });

  it("needs nothing from rctsig_prunable (get_transactions with prune: true)", () => {
    const json = txJson(byName("two_subaddresses"));
    const full = parseScanTx(byName("two_subaddresses").tx_hash, json);
    delete json.rctsig_prunable;
    expect(parseScanTx(byName("two_subaddresses").tx_hash, json)).toEqual(full);
  });

  it("accepts upper-case hex and returns it lower-cased", () => {
    const t = byName("single_subaddress");
    const json = txJson(t);
    json.vout[0].target.tagged_key.key = json.vout[0].target.tagged_key.key.toUpperCase();
    const tx = parseScanTx(t.tx_hash.toUpperCase(), json);
    expect([tx.hash, tx.outputs[0]!.key]).toEqual([t.tx_hash, t.summary.outputs[0]!.key]);
  });
});

describe("parseScanTx on older shapes", () => {
  it("reads untagged outputs ({ key }, before hard fork 15) without a view tag", () => {
    const t = byName("single_subaddress");
    const json = txJson(t);
    json.vout = json.vout.map((o: any) => ({ amount: 0, target: { key: o.target.tagged_key.key } }));
    const tx = parseScanTx(t.tx_hash, json);
    expect(tx.outputs.map((o) => [o.key, "viewTag" in o])).toEqual(t.summary.outputs.map((o) => [o.key, false]));
  });

  it("reads 32-byte amount and mask of RingCT types 1-3", () => {
    const t = byName("single_subaddress");
    const json = txJson(t);
    json.rct_signatures.type = 3;
    json.rct_signatures.ecdhInfo = json.vout.map((_: unknown, i: number) => ({ mask: `${i}`.repeat(64), amount: "ab".repeat(32) }));
    const tx = parseScanTx(t.tx_hash, json);
    expect(tx.outputs[1]).toMatchObject({ ecdhMask: "1".repeat(64), ecdhAmount: "ab".repeat(32) });
  });

  it("reads a version-1 tx (no rct_signatures) with cleartext amounts", () => {
    const json = { version: 1, unlock_time: 0, vin: [{ key: {} }], vout: [{ amount: 9000000000000, target: { key: "11".repeat(32) } }], extra: [1, ...Array(32).fill(7)] };
    expect(parseScanTx("ee".repeat(32), json)).toMatchObject({ rctType: 0, coinbase: false, txPubKeys: ["07".repeat(32)], outputs: [{ amount: 9000000000000n }] });
  });

  it("accepts amounts above 2^53 only when they arrive exact (bigint or string), never rounded", () => {
    const json = (amount: unknown) => ({ version: 2, unlock_time: 0, vin: [{ gen: { height: 1 } }], vout: [{ amount, target: { key: "11".repeat(32) } }], extra: [], rct_signatures: { type: 0 } });
    expect(parseScanTx("ee".repeat(32), json("18446744073709551615")).outputs[0]!.amount).toBe(2n ** 64n - 1n);
    expect(parseScanTx("ee".repeat(32), json(2n ** 60n)).outputs[0]!.amount).toBe(2n ** 60n);
    expect(() => parseScanTx("ee".repeat(32), json(2 ** 60))).toThrow(/amount/);
    expect(() => parseScanTx("ee".repeat(32), json("18446744073709551616"))).toThrow(/amount/);
  });
});

describe("parseScanTx on extra", () => {
  const withExtra = (extra: number[]) => {
    const t = byName("single_subaddress");
    return parseScanTx(t.tx_hash, { ...txJson(t), extra });
  };
  const key = (byte: number) => Array(32).fill(byte);
  const hex = (byte: number) => byte.toString(16).padStart(2, "0").repeat(32);

  it("returns every 0x01 key, skipping nonces and merge-mining tags between them", () => {
    const tx = withExtra([1, ...key(1), 2, 9, 1, ...Array(8).fill(5), 3, 2, 0, 0, 1, ...key(2)]);
    expect(tx.txPubKeys).toEqual([hex(1), hex(2)]);
  });

  it("reads additional keys from the 0x04 tag", () => {
    const tx = withExtra([1, ...key(1), 4, 3, ...key(4), ...key(5), ...key(6)]);
    expect([tx.txPubKeys, tx.additionalPubKeys]).toEqual([[hex(1)], [hex(4), hex(5), hex(6)]]);
  });

  it("keeps what it read before garbage, like Monero's parser, instead of throwing", () => {
    expect(withExtra([1, ...key(1), 0x99, 1, ...key(2)]).txPubKeys).toEqual([hex(1)]); // unknown tag
    expect(withExtra([1, ...key(1), 1, ...key(2).slice(0, 31)]).txPubKeys).toEqual([hex(1)]); // truncated key
    expect(withExtra([1, ...key(1), 4, 2, ...key(4)]).additionalPubKeys).toEqual([]); // fewer keys than counted
    expect(withExtra([1, ...key(1), 2, 200, 1]).txPubKeys).toEqual([hex(1)]); // nonce runs past the end
    expect(withExtra([0, 0, 0, 1, ...key(1)]).txPubKeys).toEqual([]); // padding runs to the end
    expect(withExtra([])).toMatchObject({ txPubKeys: [], additionalPubKeys: [] });
  });
});

describe("parseScanTx on malformed input", () => {
  const t = byName("single_subaddress");
  const mutate = (change: (json: any) => void) => {
    const json = txJson(t);
    change(json);
    return () => parseScanTx(t.tx_hash, json);
  };

  it.each([
    ["a string instead of an object", () => parseScanTx(t.tx_hash, t.daemon_get_transactions.txs[0]!.as_json)],
    ["null", () => parseScanTx(t.tx_hash, null)],
    ["a hash that is not 32 bytes of hex", () => parseScanTx("abc", txJson(t))],
    ["a missing vout", mutate((j) => delete j.vout)],
    ["a missing unlock_time", mutate((j) => delete j.unlock_time)],
    ["an output key that is not hex", mutate((j) => (j.vout[0].target.tagged_key.key = "zz".repeat(32)))],
    ["a view tag of two bytes", mutate((j) => (j.vout[0].target.tagged_key.view_tag = "0f0f"))],
    ["an unknown output target", mutate((j) => (j.vout[0].target = { to_script: {} }))],
    ["fewer ecdhInfo entries than outputs", mutate((j) => j.rct_signatures.ecdhInfo.pop())],
    ["a missing outPk", mutate((j) => delete j.rct_signatures.outPk)],
    ["a short encrypted amount", mutate((j) => (j.rct_signatures.ecdhInfo[0].amount = "e96ca59b"))],
    ["an extra byte above 255", mutate((j) => (j.extra[3] = 256))],
  ])("throws on %s", (_, parse) => {
    expect(parse).toThrow(/malformed Monero tx/);
  });
});
