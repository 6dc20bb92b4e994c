// Monero view-key scanning throughput: src/chains/xmr/scan.ts against a naive scanner built from
// noble's constant-time Point.multiply with no view-tag shortcut, on the regtest vector transactions.
//
// Run (Node 22 and tsx from node_modules; about 12 s): `npm run bench` runs it with the others, or
//   PATH=$PWD/node_modules/.bin:$PATH tsx bench/xmr-scan.ts

import { readFileSync } from "node:fs";
import { bytesToNumberLE } from "@noble/curves/utils.js";
import { concatBytes } from "@noble/hashes/utils.js";
import { bytesToHex, hashToScalar, hexToBytes, keccak256, parsePrivateViewKey, parsePublicSpendKey, Point, scalarToBytes, varint } from "../src/chains/xmr/keys";
import { AMOUNT_GENERATOR } from "../src/chains/xmr/curve";
import { scanTransaction, type OwnedOutput } from "../src/chains/xmr/scan";
import { deriveSubaddress } from "../src/chains/xmr/subaddress";
import { parseScanTx, type ScanTx } from "../src/chains/xmr/tx";

const WATCHED = 1000;
const SECONDS_PER_RUN = 3;

// The naive way: 8·a·R with the constant-time multiply, then P - Hs·G for every output (tags
// ignored), all through noble points; the same amount decryption and commitment check.
function naiveScan<T>(tx: ScanTx, viewKey: Uint8Array, spendKeys: ReadonlyMap<string, T>): OwnedOutput<T>[] {
  if (tx.unlockTime !== 0n && tx.coinbase !== true) return [];
  const a = bytesToNumberLE(viewKey);
  const derive = (hex: string): Uint8Array | null => {
    try {
      return Point.fromHex(hex).multiply(a).clearCofactor().toBytes();
    } catch {
      return null;
    }
  };
  const main = tx.txPubKeys.map(derive);
  const found: OwnedOutput<T>[] = [];
  tx.outputs.forEach((output, index) => {
    const extra = tx.additionalPubKeys[index];
    for (const derivation of extra === undefined ? main : [...main, derive(extra)]) {
      if (derivation === null) continue;
      const shared = hashToScalar(derivation, varint(index));
      const spendKey = Point.fromHex(output.key).subtract(Point.BASE.multiply(shared)).toHex();
      const owner = spendKeys.get(spendKey);
      if (owner === undefined) continue;
      let amount = output.amount;
      if (tx.rctType !== 0) {
        const s = scalarToBytes(shared);
        const pad = keccak256(concatBytes(new TextEncoder().encode("amount"), s));
        const enc = hexToBytes(output.ecdhAmount!);
        amount = 0n;
        for (let k = 7; k >= 0; k--) amount = (amount << 8n) | BigInt(enc[k]! ^ pad[k]!);
        const mask = hashToScalar(new TextEncoder().encode("commitment_mask"), s);
        const c = Point.BASE.multiply(mask).add(amount === 0n ? Point.ZERO : AMOUNT_GENERATOR.multiply(amount));
        if (c.toHex() !== output.commitment) continue;
      }
      found.push({ outputIndex: index, outputKey: output.key, amount, owner });
      return;
    }
  });
  return found;
}

function throughput(name: string, txs: ScanTx[], scan: (tx: ScanTx) => unknown): number {
  for (const tx of txs) scan(tx); // warm up the JIT
  let scanned = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS_PER_RUN * 1000) {
    for (const tx of txs) scan(tx);
    scanned += txs.length;
  }
  const perSecond = scanned / ((performance.now() - start) / 1000);
  console.log(`${name.padEnd(44)} ${perSecond.toFixed(0).padStart(6)} tx/s  (${(1e6 / perSecond).toFixed(0)} µs/tx)`);
  return perSecond;
}

const vectors = JSON.parse(readFileSync(new URL("../test/vectors/xmr.json", import.meta.url), "utf8"));
const regtest = vectors.regtest;
const merchant = regtest.merchant;
const viewKey = parsePrivateViewKey(merchant.private_view_key)!;
const keys = { privateViewKey: viewKey, publicSpendKey: parsePublicSpendKey(merchant.public_spend_key)! };

const txs: ScanTx[] = [];
for (const t of [...regtest.transactions, ...regtest.negative, regtest.coinbase]) {
  const entry = t.daemon_get_transactions.txs[0];
  txs.push(parseScanTx(entry.tx_hash, JSON.parse(entry.as_json)));
}
for (const block of Object.values<any>(regtest.blocks)) {
  txs.push(parseScanTx(block.result.miner_tx_hash, JSON.parse(block.result.json).miner_tx));
}
const untagged = txs.map((tx) => ({ ...tx, outputs: tx.outputs.map(({ viewTag: _, ...rest }) => rest) }));

const indices: [number, number][] = [[0, 0], ...merchant.subaddresses.map((s: any): [number, number] => [s.major, s.minor])];
for (let minor = 2000; indices.length < WATCHED; minor++) indices.push([0, minor]);
const watched = new Map(indices.map(([major, minor]) => [bytesToHex(deriveSubaddress(keys, major, minor, "mainnet").spendKey), `${major}/${minor}`]));

const outputs = txs.reduce((n, tx) => n + tx.outputs.length, 0);
const keysPerTx = txs.reduce((n, tx) => n + new Set([...tx.txPubKeys, ...tx.additionalPubKeys]).size, 0);
console.log(`${txs.length} regtest txs (${outputs} outputs, ${keysPerTx} tx public keys), ${watched.size} watched subaddresses`);

const show = (found: OwnedOutput<string>[][]) => JSON.stringify(found, (_, v) => (typeof v === "bigint" ? `${v}` : v));
const expected = show(txs.map((tx) => scanTransaction(tx, viewKey, watched)));
if (show(untagged.map((tx) => scanTransaction(tx, viewKey, watched))) !== expected || show(txs.map((tx) => naiveScan(tx, viewKey, watched))) !== expected) {
  throw new Error("the scanners disagree");
}

const tagged = throughput("scanTransaction, view tags", txs, (tx) => scanTransaction(tx, viewKey, watched));
const noTags = throughput("scanTransaction, view tags stripped", untagged, (tx) => scanTransaction(tx, viewKey, watched));
const naive = throughput("naive (Point.multiply, tags ignored)", txs, (tx) => naiveScan(tx, viewKey, watched));
console.log(`speed-up: ${(tagged / naive).toFixed(1)}x with view tags, ${(noTags / naive).toFixed(1)}x without`);
