// Monero view-key scanning throughput: src/chains/xmr/scan.ts (curve.ts arithmetic) against two
// scanners on stock @noble/curves points, same txs, same 1000 watched subaddresses, same results:
// - "stock noble", the fair baseline: scanTransaction's algorithm step for step (one derivation per
//   distinct tx key, Point.fromHex(R).multiplyUnsafe(a).clearCofactor(); the view tag before any
//   per-output curve work; P - Hs·G, the subaddress lookup and the commitment check on a tag match),
//   so ours/stock is what the hand-written curve arithmetic buys;
// - "naive": noble's constant-time Point.multiply and no view tags, the code one writes first.
// Inputs: the regtest vector txs (many outputs pay the merchant); the same with view tags stripped
// (pre-HF15 shape); the same under a view key that owns none of them (a merchant's view of mainnet:
// a derivation and a tag hash per output, nothing more). Before timing, the three must agree on every
// tx. Runs are interleaved round by round, after a warm-up, so background load hits all alike;
// it prints figures and the 3x-over-stock target, it asserts no timings.
//
// Then a scan shard's case: the same txs for 200 view keys at once (scanTransactionForKeys), against
// scanTransaction and the stock-noble scanner key by key.
//
// Run (Node 22 and tsx from node_modules; about 40 s): `npm run bench` runs it with the others, or
//   PATH=$PWD/node_modules/.bin:$PATH tsx bench/xmr-scan.ts

import { readFileSync } from "node:fs";
import { bytesToNumberLE } from "@noble/curves/utils.js";
import { bytesToHex, derivationToScalar, deriveViewTag, hashToScalar, parsePrivateViewKey, parsePublicSpendKey, Point, scalarToBytes } from "../src/chains/xmr/keys";
import { AMOUNT_GENERATOR } from "../src/chains/xmr/curve";
import { decodeAmount, scanTransaction, scanTransactionForKeys, type KeyScan, type OwnedOutput, type ScanCurve } from "../src/chains/xmr/scan";
import { deriveSubaddress } from "../src/chains/xmr/subaddress";
import { parseScanTx, type ScanTx } from "../src/chains/xmr/tx";

const WATCHED = 1000;
const SECONDS_PER_RUN = 2; // per scanner and input, split into ROUNDS interleaved slices
const ROUNDS = 6;
const WARM_UP_SECONDS = 1;
const TARGET = 3; // the goal: ours at least 3x the stock-noble scanner, view tags on
const SHARD_KEYS = 200; // a scan shard's users (SCAN_SHARD_USERS' default)

type Scanner = <T>(tx: ScanTx, viewKey: Uint8Array, spendKeys: ReadonlyMap<string, T>) => OwnedOutput<T>[];


// scanTransaction itself, with stock noble points where it calls curve.ts: the same checks, early
// exits and results by construction. The derivation is a·R then the cofactor 8, not (8a mod l)·R:
// the two cost the same, and only the first equals Monero's 8·(a·R) when R carries a torsion
// component. Every scalar here is public or the recipient's own (Hs, masks, amounts), so noble's
// variable-time multiplyUnsafe is the right call, as curve.ts is variable time; on G it also uses
// noble's precomputed table without the scalar blinding of Point.BASE.multiply, about twice as fast.
const STOCK_NOBLE: ScanCurve = {
  derivation: (R, viewKey) => orNull(() => Point.fromBytes(R).multiplyUnsafe(bytesToNumberLE(viewKey)).clearCofactor().toBytes()),
  spendKey: (P, shared) => orNull(() => Point.fromBytes(P).subtract(Point.BASE.multiplyUnsafe(shared)).toBytes()),
  commitment: (mask, amount) => Point.BASE.multiplyUnsafe(mask).add(AMOUNT_GENERATOR.multiplyUnsafe(amount)).toBytes(),
};
const stockNobleScan: Scanner = (tx, viewKey, spendKeys) => scanTransaction(tx, viewKey, spendKeys, STOCK_NOBLE);

// The naive way: 8·a·R with the constant-time multiply, then P - Hs·G for every output (tags
// ignored), all through noble's constant-time multiply; the same amount decryption and check.
function naiveScan<T>(tx: ScanTx, viewKey: Uint8Array, spendKeys: ReadonlyMap<string, T>): OwnedOutput<T>[] {
  if (tx.unlockTime !== 0n && tx.coinbase !== true) return [];
  const a = bytesToNumberLE(viewKey);
  const derive = (hex: string) => orNull(() => Point.fromHex(hex).multiply(a).clearCofactor().toBytes());
  const main = tx.txPubKeys.map(derive);
  const found: OwnedOutput<T>[] = [];
  tx.outputs.forEach((output, index) => {
    const extra = tx.additionalPubKeys[index];
    for (const derivation of extra === undefined ? main : [...main, derive(extra)]) {
      if (derivation === null) continue;
      const shared = derivationToScalar(derivation, index);
      const spendKey = Point.fromHex(output.key).subtract(Point.BASE.multiply(shared)).toHex();
      const owner = spendKeys.get(spendKey);
      if (owner === undefined) continue;
      const amount = decodeAmount(tx.rctType, output, scalarToBytes(shared), NAIVE);
      if (amount === null) continue;
      found.push({ outputIndex: index, outputKey: output.key, amount, owner });
      return;
    }
  });
  return found;
}

/** The naive scanner's commitment check: noble's constant-time multiply (the rest of the curve is unused by decodeAmount). */
const NAIVE: ScanCurve = {
  ...STOCK_NOBLE,
  commitment: (mask, amount) => Point.BASE.multiply(mask).add(amount === 0n ? Point.ZERO : AMOUNT_GENERATOR.multiply(amount)).toBytes(),
};

function orNull<R>(f: () => R): R | null {
  try {
    return f();
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------

const vectors = JSON.parse(readFileSync(new URL("../test/vectors/xmr.json", import.meta.url), "utf8"));
const regtest = vectors.regtest;
const merchant = regtest.merchant;
const viewKey = parsePrivateViewKey(merchant.private_view_key)!;
const keys = { privateViewKey: viewKey, publicSpendKey: parsePublicSpendKey(merchant.public_spend_key)! };

const tagged: ScanTx[] = [];
for (const t of [...regtest.transactions, ...regtest.negative, regtest.coinbase]) {
  const entry = t.daemon_get_transactions.txs[0];
  tagged.push(parseScanTx(entry.tx_hash, JSON.parse(entry.as_json)));
}
for (const block of Object.values<any>(regtest.blocks)) {
  tagged.push(parseScanTx(block.result.miner_tx_hash, JSON.parse(block.result.json).miner_tx));
}
const untagged = tagged.map((tx) => ({ ...tx, outputs: tx.outputs.map(({ viewTag: _, ...rest }) => rest) }));

const indices: [number, number][] = [[0, 0], ...merchant.subaddresses.map((s: any): [number, number] => [s.major, s.minor])];
for (let minor = 2000; indices.length < WATCHED; minor++) indices.push([0, minor]);
const watched = new Map(indices.map(([major, minor]) => [bytesToHex(deriveSubaddress(keys, major, minor, "mainnet").spendKey), `${major}/${minor}`]));

// Most txs on chain pay someone else: the same txs under another view key (scalarToBytes of a hash
// below l, so a valid key) make every output fail at its view tag, as they mostly do on mainnet.
const foreignViewKey = scalarToBytes(hashToScalar(new TextEncoder().encode("xmr-scan bench: a view key that owns nothing")));

// Every scanner must find exactly what scanTransaction finds on the tagged txs, with or without
// tags, and nothing under the foreign view key; a disagreement stops the bench before any timing.
const show = (found: OwnedOutput<string>[]) => JSON.stringify(found, (_, v) => (typeof v === "bigint" ? `${v}` : v));
const expected = tagged.map((tx) => show(scanTransaction(tx, viewKey, watched)));
const scanners: [string, Scanner][] = [["scanTransaction", scanTransaction], ["stockNobleScan", stockNobleScan], ["naiveScan", naiveScan]];
for (const [name, scan] of scanners) {
  for (const [input, txs] of [["tagged", tagged], ["untagged", untagged]] as const) {
    txs.forEach((tx, i) => {
      const got = show(scan(tx, viewKey, watched));
      if (got !== expected[i]) throw new Error(`${name} disagrees with scanTransaction on ${input} tx ${tx.hash}:\n  got      ${got}\n  expected ${expected[i]}`);
    });
  }
  for (const tx of tagged) {
    const got = show(scan(tx, foreignViewKey, watched));
    if (got !== "[]") throw new Error(`${name} finds outputs with a view key that owns none, in tx ${tx.hash}: ${got}`);
  }
}

// A scan shard's view: the same txs for SHARD_KEYS view keys, the merchant's first, the others owning
// nothing. One pass for all keys (scanTransactionForKeys, what the shard runs) must find per key
// exactly what scanTransaction finds for it.
const shardScans: KeyScan<string>[] = Array.from({ length: SHARD_KEYS }, (_, n) => ({
  privateViewKey: n === 0 ? viewKey : scalarToBytes(hashToScalar(new TextEncoder().encode(`xmr-scan bench: shard key ${n}`))),
  spendKeys: watched,
}));
for (const tx of tagged) {
  const got = show(scanTransactionForKeys(tx, shardScans).flat());
  const each = show(shardScans.flatMap((k) => scanTransaction(tx, k.privateViewKey, k.spendKeys)));
  if (got !== each) throw new Error(`scanTransactionForKeys disagrees with scanTransaction key by key on tx ${tx.hash}`);
}

// What was measured: the per-output work hangs on how many (output, derivation) pairs pass the tag.
const derivationOf = (hex: string) => Point.fromHex(hex).multiplyUnsafe(bytesToNumberLE(viewKey)).clearCofactor().toBytes();
let outputs = 0, withTags = 0, pairs = 0, tagHits = 0;
for (const tx of tagged) {
  const main = [...new Set(tx.txPubKeys)];
  tx.outputs.forEach((output, index) => {
    outputs++;
    const additional = tx.additionalPubKeys[index];
    for (const key of additional === undefined ? main : [...main, additional]) {
      pairs++;
      if (output.viewTag === undefined) continue;
      if (deriveViewTag(derivationOf(key), index) === parseInt(output.viewTag, 16)) tagHits++;
    }
    if (output.viewTag !== undefined) withTags++;
  });
}
const distinctKeys = tagged.reduce((n, tx) => n + new Set([...tx.txPubKeys, ...tx.additionalPubKeys]).size, 0);
const additionalKeys = tagged.reduce((n, tx) => n + tx.additionalPubKeys.length, 0);
const coinbase = tagged.filter((tx) => tx.coinbase === true).length;
const rctTypes = [...new Set(tagged.map((tx) => tx.rctType))].sort().join(", ");
const owned = expected.reduce((n, found) => n + JSON.parse(found).length, 0);
console.log(`${tagged.length} regtest txs (${coinbase} coinbase; RingCT types ${rctTypes}), ${outputs} outputs (${withTags} with view tags), ${owned} of them owned`);
console.log(`${distinctKeys} distinct tx public keys (${additionalKeys} additional), ${pairs} (output, derivation) pairs, ${tagHits} pass the view tag`);
console.log(`${watched.size} watched subaddresses; all three scanners find the same ${owned} outputs with or without tags, and none under a foreign view key\n`);

interface Run {
  txs: ScanTx[];
  /** View keys each scan covers (1, or a shard's for the shard rows): rates are (tx, key) scans a second. */
  keys?: number;
  scan: (tx: ScanTx) => unknown;
  scanned: number;
  ms: number;
  perRound: number[];
}

/** Scans `run.txs` over and over for at least `seconds`; returns txs scanned and milliseconds. */
function scanFor(run: Run, seconds: number): { scanned: number; ms: number } {
  let scanned = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (const tx of run.txs) run.scan(tx);
    scanned += run.txs.length;
  }
  return { scanned, ms: performance.now() - start };
}

const run = (txs: ScanTx[], key: Uint8Array, scan: Scanner): Run => ({ txs, scan: (tx) => scan(tx, key, watched), scanned: 0, ms: 0, perRound: [] });
const rows = [
  { input: "vector txs, view tags", ours: run(tagged, viewKey, scanTransaction), stock: run(tagged, viewKey, stockNobleScan), naive: run(tagged, viewKey, naiveScan) },
  { input: "vector txs, tags stripped", ours: run(untagged, viewKey, scanTransaction), stock: run(untagged, viewKey, stockNobleScan), naive: undefined },
  { input: "none owned, view tags", ours: run(tagged, foreignViewKey, scanTransaction), stock: run(tagged, foreignViewKey, stockNobleScan), naive: run(tagged, foreignViewKey, naiveScan) },
];
const perKey = (scan: Scanner) => (tx: ScanTx) => shardScans.map((k) => scan(tx, k.privateViewKey, k.spendKeys));
const shard = {
  together: { txs: tagged, keys: SHARD_KEYS, scan: (tx: ScanTx) => scanTransactionForKeys(tx, shardScans), scanned: 0, ms: 0, perRound: [] } as Run,
  oneByOne: { txs: tagged, keys: SHARD_KEYS, scan: perKey(scanTransaction), scanned: 0, ms: 0, perRound: [] } as Run,
  stock: { txs: tagged, keys: SHARD_KEYS, scan: perKey(stockNobleScan), scanned: 0, ms: 0, perRound: [] } as Run,
};
const runs = [...rows.flatMap((row) => [row.ours, row.stock, ...(row.naive === undefined ? [] : [row.naive])]), shard.together, shard.oneByOne, shard.stock];
for (const r of runs) scanFor(r, WARM_UP_SECONDS); // let the JIT settle every scanner first
for (let round = 0; round < ROUNDS; round++) {
  // A different run goes first each round, so none always pays for the garbage of the same other.
  for (let k = 0; k < runs.length; k++) {
    const r = runs[(round + k) % runs.length]!;
    const { scanned, ms } = scanFor(r, SECONDS_PER_RUN / ROUNDS);
    r.scanned += scanned;
    r.ms += ms;
    r.perRound.push((scanned * (r.keys ?? 1)) / (ms / 1000));
  }
}

const rate = (r: Run) => (r.scanned * (r.keys ?? 1)) / (r.ms / 1000);
// tx/s over all rounds, and half the range of the per-round rates as a rough error bar.
const cell = (r: Run | undefined) => {
  if (r === undefined) return "—".padStart(6).padEnd(13);
  const spread = (Math.max(...r.perRound) - Math.min(...r.perRound)) / 2 / rate(r);
  return `${rate(r).toFixed(0).padStart(6)} ±${(100 * spread).toFixed(0).padStart(2)}%`.padEnd(13);
};
const ratio = (a: Run, b: Run | undefined) => (b === undefined ? "—" : `${(rate(a) / rate(b)).toFixed(2)}x`).padStart(10);
console.log(`txs/s (±: half the spread of ${ROUNDS} interleaved rounds of ${(SECONDS_PER_RUN / ROUNDS).toFixed(2)} s)`);
console.log(`${"input".padEnd(27)}${"ours".padEnd(13)}${"stock noble".padEnd(13)}${"naive".padEnd(13)}${"ours/stock".padStart(10)}${"ours/naive".padStart(12)}`);
for (const row of rows) {
  console.log(`${row.input.padEnd(27)}${cell(row.ours)}${cell(row.stock)}${cell(row.naive)}${ratio(row.ours, row.stock)}  ${ratio(row.ours, row.naive)}`);
}
console.log(`\na scan shard's ${SHARD_KEYS} view keys on the vector txs, (tx, key) scans/s:`);
console.log(`${"one pass for all keys".padEnd(27)}${cell(shard.together)}  (scanTransactionForKeys, what a shard runs)`);
console.log(`${"one key at a time".padEnd(27)}${cell(shard.oneByOne)}  (scanTransaction)${ratio(shard.together, shard.oneByOne)}`);
console.log(`${"stock noble, one at a time".padEnd(27)}${cell(shard.stock)}${ratio(shard.together, shard.stock).padStart(30)}`);
const vsStock = rate(rows[0]!.ours) / rate(rows[0]!.stock);
console.log(`\ntarget ${TARGET}x stock noble on the vector txs with view tags: ${vsStock >= TARGET ? "met" : "NOT met"} (${vsStock.toFixed(2)}x)`);
