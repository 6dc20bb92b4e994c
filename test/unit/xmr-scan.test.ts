// View-key scanning against the regtest transactions Monero made: the merchant finds exactly the
// outputs and amounts its own view-only wallet reported, and nothing in the negative cases, time-
// locked, tampered or foreign transactions.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bytesToHex, CURVE_ORDER, derivationToScalar, hashToScalar, hexToBytes, parsePrivateViewKey, parsePublicSpendKey, Point, scalarToBytes } from "../../src/chains/xmr/keys";
import { AMOUNT_GENERATOR, deriveSubaddressPublicKey, generateKeyDerivation } from "../../src/chains/xmr/curve";
import { scanTransaction, scanTransactionForKeys } from "../../src/chains/xmr/scan";
import { deriveSubaddress } from "../../src/chains/xmr/subaddress";
import { parseScanTx, type ScanTx } from "../../src/chains/xmr/tx";

const vectors = JSON.parse(readFileSync(new URL("../vectors/xmr.json", import.meta.url), "utf8"));
const regtest = vectors.regtest;
const merchant = regtest.merchant;

interface VectorTx {
  name: string;
  description: string;
  tx_hash: string;
  in_pool?: boolean;
  merchant_outputs?: { vout_index: number; output_key: string; amount: number; major: number; minor: number }[];
  merchant_received: { major: number; minor: number; amount: number }[];
  summary: { outputs: { index: number; key: string }[] };
  daemon_get_transactions: { txs: { as_json: string }[] };
}
const transactions: VectorTx[] = regtest.transactions;
const negatives: VectorTx[] = regtest.negative;
const byName = (name: string): VectorTx => [...transactions, ...negatives].find((t) => t.name === name)!;
const jsonOf = (t: VectorTx) => JSON.parse(t.daemon_get_transactions.txs[0]!.as_json);
const parse = (t: VectorTx, change: (json: any) => void = () => {}): ScanTx => {
  const json = jsonOf(t);
  change(json);
  return parseScanTx(t.tx_hash, json);
};

const viewKey = parsePrivateViewKey(merchant.private_view_key)!;
const keys = { privateViewKey: viewKey, publicSpendKey: parsePublicSpendKey(merchant.public_spend_key)! };
const indices: [number, number][] = [[0, 0], ...merchant.subaddresses.map((s: any): [number, number] => [s.major, s.minor])];
const spendKeyOf = (major: number, minor: number) => bytesToHex(deriveSubaddress(keys, major, minor, "mainnet").spendKey);
/** The merchant's primary address and every subaddress in the vectors, owner = "major/minor". */
const watched = new Map(indices.map(([major, minor]) => [spendKeyOf(major, minor), `${major}/${minor}`]));

const scan = (tx: ScanTx, spendKeys: ReadonlyMap<string, string> = watched, key = viewKey) =>
  scanTransaction(tx, key, spendKeys).map((o) => ({ index: o.outputIndex, key: o.outputKey, amount: o.amount, owner: o.owner }));

/** What the view-only wallet reported, per subaddress, as sorted amount lists. */
const receivedByOwner = (t: VectorTx) =>
  Object.fromEntries(t.merchant_received.map((r: any) => [`${r.major}/${r.minor}`, [...r.amounts].map(BigInt).sort()]));
const foundByOwner = (found: { owner: string; amount: bigint }[]) => {
  const out: Record<string, bigint[]> = {};
  for (const f of found) (out[f.owner] ??= []).push(f.amount);
  for (const amounts of Object.values(out)) amounts.sort();
  return out;
};

describe("scanTransaction on Monero's regtest transactions", () => {
  const paying = transactions.filter((t) => (t.merchant_outputs ?? []).length > 0);

  it.each(paying.map((t) => [t.description, t] as const))("finds %s: the outputs, keys and amounts Monero's wallet saw", (_, t) => {
    expect(scan(parse(t))).toEqual(
      t.merchant_outputs!.map((o) => ({ index: o.vout_index, key: o.output_key, amount: BigInt(o.amount), owner: `${o.major}/${o.minor}` })),
    );
  });

  it.each(transactions.map((t) => [t.name, t] as const))("credits each subaddress in %s with the amounts the wallet received", (_, t) => {
    expect(foundByOwner(scan(parse(t)))).toEqual(receivedByOwner(t));
  });

  it("finds the payment to (0,1) still in the pool, with the amount the wallet saw as pending", () => {
    const t = byName("pool_unconfirmed");
    expect(t.in_pool).toBe(true);
    expect(scan(parse(t))).toMatchObject([{ owner: "0/1", amount: 420000000000n }]);
  });

  it("finds the same payment in the get_transaction_pool snapshot (tx_json)", () => {
    const pool = regtest.pool_snapshot.get_transaction_pool.transactions[0];
    const found = scan(parseScanTx(pool.id_hash, JSON.parse(pool.tx_json)));
    expect(foundByOwner(found)).toEqual(receivedByOwner(transactions.find((t) => t.tx_hash === pool.id_hash)!));
  });

  it("credits the coinbase mined to the primary address with its cleartext reward, despite the maturity lock", () => {
    const cb = regtest.coinbase;
    const tx = parseScanTx(cb.tx_hash, JSON.parse(cb.daemon_get_transactions.txs[0].as_json));
    expect(tx.unlockTime).toBe(184n);
    expect(scan(tx)).toEqual([{ index: 0, key: cb.summary.outputs[0].key, amount: BigInt(cb.merchant_received_total), owner: "0/0" }]);
  });

  it.each(negatives.map((t) => [t.description, t] as const))("finds nothing in %s", (_, t) => {
    expect(scan(parse(t))).toEqual([]);
  });

  it("finds nothing in the miner txs of blocks 121-123, which paid the payer", () => {
    for (const block of Object.values<any>(regtest.blocks)) {
      expect(scan(parseScanTx(block.result.miner_tx_hash, JSON.parse(block.result.json).miner_tx))).toEqual([]);
    }
  });
});

describe("scanTransaction rules", () => {
  it("rejects every output of a tx with a non-zero unlock_time: the payer chose a time lock", () => {
    for (const name of ["single_subaddress", "two_subaddresses", "primary_address"]) {
      expect(scan(parse(byName(name), (json) => (json.unlock_time = 1)))).toEqual([]);
      expect(scan(parse(byName(name), (json) => (json.unlock_time = 1_800_000_000)))).toEqual([]);
    }
    const locked = parse(byName("single_subaddress"), (json) => (json.unlock_time = 200));
    expect(scan({ ...locked, coinbase: undefined })).toEqual([]);
  });

  it("still finds every payment when the outputs carry no view tag (pre-2022 { key } targets)", () => {
    for (const t of transactions) {
      const untagged = parse(t, (json) => {
        json.vout = json.vout.map((o: any) => ({ amount: o.amount, target: { key: o.target.tagged_key.key } }));
      });
      expect(untagged.outputs.every((o) => o.viewTag === undefined)).toBe(true);
      expect(scan(untagged)).toEqual(scan(parse(t)));
    }
  });

  it("trusts the view tag: an output whose tag does not match is skipped before any curve math", () => {
    const t = byName("single_subaddress");
    const index = t.merchant_outputs![0]!.vout_index;
    const tx = parse(t, (json) => {
      const tagged = json.vout[index].target.tagged_key;
      tagged.view_tag = ((parseInt(tagged.view_tag, 16) + 1) % 256).toString(16).padStart(2, "0");
    });
    expect(scan(tx)).toEqual([]);
  });

  it("tries additional key i as well as R: only the watched subaddress of two is credited", () => {
    const t = byName("two_subaddresses");
    expect(parse(t).additionalPubKeys).toHaveLength(3);
    const onlyAccount1 = new Map([[spendKeyOf(1, 5), "1/5"]]);
    expect(scan(parse(t), onlyAccount1)).toEqual([{ index: 1, key: t.merchant_outputs![0]!.output_key, amount: 750000000000n, owner: "1/5" }]);
  });

  it("finds nothing for subaddresses that are not watched, or with another wallet's view key", () => {
    const t = byName("single_subaddress");
    const withoutTarget = new Map([...watched].filter(([, owner]) => owner !== "0/1"));
    expect(scan(parse(t), withoutTarget)).toEqual([]);
    expect(scan(parse(t), new Map())).toEqual([]);
    expect(scan(parse(t), watched, parsePrivateViewKey(vectors.wallets.mainnet.private_view_key)!)).toEqual([]);
  });

  it("skips tx keys in extra that are not curve points, without throwing", () => {
    const t = byName("single_subaddress");
    const notAPoint = [1, 2, ...Array(31).fill(0)]; // 0x01 tag + y = 2, which has no x
    const garbageFirst = parse(t, (json) => (json.extra = [...notAPoint, ...json.extra]));
    expect(garbageFirst.txPubKeys).toHaveLength(2);
    expect(scan(garbageFirst)).toEqual(scan(parse(t)));
    expect(scan(parse(t, (json) => (json.extra = notAPoint)))).toEqual([]);

    const two = byName("two_subaddresses");
    const badAdditional = parse(two);
    badAdditional.additionalPubKeys[1] = "02".padEnd(64, "0");
    expect(scan(badAdditional).map((o) => o.owner)).toEqual(["0/10"]);
    expect(scan({ ...badAdditional, txPubKeys: ["not hex"] }).map((o) => o.owner)).toEqual(["0/10"]);
  });

  it("credits no amount that its commitment contradicts (a sender lying in ecdhInfo)", () => {
    const t = byName("single_subaddress");
    const index = t.merchant_outputs![0]!.vout_index;
    const inflated = parse(t, (json) => {
      const amount: string = json.rct_signatures.ecdhInfo[index].amount;
      json.rct_signatures.ecdhInfo[index].amount = (parseInt(amount.slice(0, 2), 16) ^ 0x40).toString(16).padStart(2, "0") + amount.slice(2);
    });
    expect(scan(inflated)).toEqual([]);
    const otherCommitment = parse(t, (json) => (json.rct_signatures.outPk[index] = json.rct_signatures.outPk[1 - index]));
    expect(scan(otherCommitment)).toEqual([]);
    expect(scan({ ...parse(t), outputs: parse(t).outputs.map(({ commitment: _, ...o }) => o) })).toEqual([]);
  });

  it("returns an output key that appears twice in one tx only once (burning bug)", () => {
    // Coinbase-style cleartext outputs sharing one key; the watched set also holds the spend key the
    // second index would resolve to, so without the guard both would be credited.
    const r = 987654321n;
    const R = Point.BASE.multiply(r).toBytes();
    const derivation = generateKeyDerivation(R, viewKey)!;
    const D = Point.fromHex(spendKeyOf(0, 1));
    const P = D.add(Point.BASE.multiply(derivationToScalar(derivation, 0))).toHex();
    const ghost = bytesToHex(deriveSubaddressPublicKey(hexToBytes(P), derivationToScalar(derivation, 1))!);
    const tx: ScanTx = {
      hash: "aa".repeat(32),
      unlockTime: 0n,
      rctType: 0,
      coinbase: true,
      txPubKeys: [bytesToHex(R)],
      additionalPubKeys: [],
      outputs: [
        { key: P, amount: 5n },
        { key: P, amount: 7n },
      ],
    };
    const both = new Map([...watched, [ghost, "ghost"]]);
    expect(scan(tx, both)).toEqual([{ index: 0, key: P, amount: 5n, owner: "0/1" }]);
    expect(scan({ ...tx, outputs: [tx.outputs[0]!, { key: Point.BASE.toHex(), amount: 1n }] }, both)).toHaveLength(1);
  });

  it("decrypts the 32-byte amounts of RingCT types 1-3 and checks them against the commitment", () => {
    const t = byName("single_subaddress");
    const { vout_index: index, amount } = t.merchant_outputs![0]!;
    const json = jsonOf(t);
    const derivation = generateKeyDerivation(hexToBytes(parse(t).txPubKeys[0]!), viewKey)!;
    const shared = scalarToBytes(derivationToScalar(derivation, index));
    const maskOffset = hashToScalar(shared);
    const amountOffset = hashToScalar(scalarToBytes(maskOffset));
    const mask = 0x1234567890abcdefn;
    json.rct_signatures.type = 3;
    json.rct_signatures.ecdhInfo = json.vout.map(() => ({ mask: "00".repeat(32), amount: "00".repeat(32) }));
    json.rct_signatures.ecdhInfo[index] = {
      mask: bytesToHex(scalarToBytes((mask + maskOffset) % CURVE_ORDER)),
      amount: bytesToHex(scalarToBytes((BigInt(amount) + amountOffset) % CURVE_ORDER)),
    };
    json.rct_signatures.outPk[index] = Point.BASE.multiply(mask).add(AMOUNT_GENERATOR.multiply(BigInt(amount))).toHex();
    const tx = parseScanTx(t.tx_hash, json);
    expect(scan(tx)).toMatchObject([{ index, amount: BigInt(amount), owner: "0/1" }]);
    json.rct_signatures.outPk[index] = Point.BASE.multiply(mask).add(AMOUNT_GENERATOR.multiply(BigInt(amount) + 1n)).toHex();
    expect(scan(parseScanTx(t.tx_hash, json))).toEqual([]);
  });

  it("refuses a view key that is not 32 bytes instead of silently finding nothing", () => {
    expect(() => scanTransaction(parse(byName("single_subaddress")), viewKey.subarray(0, 31), watched)).toThrow(RangeError);
  });

  it("hands back whatever owner value the caller mapped the spend key to", () => {
    const invoice = { id: "inv-1" };
    const found = scanTransaction(parse(byName("tiny_amount")), viewKey, new Map([[spendKeyOf(7, 123), invoice]]));
    expect(found).toEqual([{ outputIndex: 0, outputKey: byName("tiny_amount").merchant_outputs![0]!.output_key, amount: 1n, owner: invoice }]);
  });
});

describe("scanTransactionForKeys (a scan shard's merchants in one pass)", () => {
  const all = [...transactions, ...negatives].map((t) => parse(t));
  const otherKey = (n: number) => scalarToBytes(hashToScalar(new TextEncoder().encode(`another merchant ${n}`)));
  const otherWatched = (n: number) => {
    const other = { privateViewKey: otherKey(n), publicSpendKey: Point.BASE.multiply(BigInt(n + 2)).toBytes() };
    return new Map([1, 2, 3].map((minor) => [bytesToHex(deriveSubaddress(other, 0, minor, "mainnet").spendKey), `other ${n}`]));
  };
  const show = (found: unknown) => JSON.stringify(found, (_, v) => (typeof v === "bigint" ? `${v}` : v));

  it.each([3, 12, 40])("gives each of %i view keys exactly what scanTransaction gives it, the merchant's own wherever it sits", (count) => {
    const scans = Array.from({ length: count }, (_, n) =>
      n % 5 === 0 ? { privateViewKey: viewKey, spendKeys: watched } : { privateViewKey: otherKey(n), spendKeys: otherWatched(n) });
    let paid = 0;
    for (const tx of all) {
      const got = scanTransactionForKeys(tx, scans);
      expect(show(got)).toBe(show(scans.map((s) => scanTransaction(tx, s.privateViewKey, s.spendKeys))));
      paid += got[0]!.length;
    }
    expect(paid).toBeGreaterThan(0);
  });

  it("finds nothing for a key with nothing watched, and nothing for anyone in a time-locked tx", () => {
    const paying = parse(byName(transactions.find((t) => (t.merchant_outputs ?? []).length > 0)!.name));
    const scans = Array.from({ length: 10 }, (_, n) => ({ privateViewKey: viewKey, spendKeys: n === 4 ? new Map<string, string>() : watched }));
    const got = scanTransactionForKeys(paying, scans);
    expect(got[4]).toEqual([]);
    expect(got.filter((found, n) => n !== 4 && found.length > 0)).toHaveLength(9);
    expect(scanTransactionForKeys({ ...paying, unlockTime: 10n }, scans)).toEqual(scans.map(() => []));
  });

  it("refuses a view key of the wrong size, as scanTransaction does", () => {
    expect(() => scanTransactionForKeys(all[0]!, [{ privateViewKey: viewKey, spendKeys: watched }, { privateViewKey: new Uint8Array(31), spendKeys: watched }])).toThrow(RangeError);
  });
});
