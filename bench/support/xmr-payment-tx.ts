// Fresh Monero payments for benches, made the way a sender's wallet makes them: the regtest vector tx
// `single_subaddress` (test/vectors/xmr.json, recorded from monerod) with its paying output re-keyed to
// any subaddress. Replaying the recorded tx itself would be one payment only: accounts ignore an output key seen before.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { bytesToHex, concatBytes, hexToBytes } from "@noble/hashes/utils.js";
import { decodeAddress } from "../../src/chains/xmr/address";
import { CURVE_ORDER, derivationToScalar, deriveViewTag, hashToScalar, keccak256, Point, scalarToBytes } from "../../src/chains/xmr/keys";
import { scanTransaction } from "../../src/chains/xmr/scan";
import { parseScanTx } from "../../src/chains/xmr/tx";
import type { NodeTx } from "./fake-monerod";

const root = path.resolve(import.meta.dirname, "../..");
const utf8 = (s: string) => new TextEncoder().encode(s);
/** Monero's amount generator H = 8·decode(keccak(G)). */
const H = Point.fromBytes(keccak256(Point.BASE.toBytes())).clearCofactor();

type TxJson = {
  extra: number[];
  vout: { target: { tagged_key: { key: string; view_tag: string } } }[];
  rct_signatures: { ecdhInfo: { amount: string }[]; outPk: string[] };
  rctsig_prunable?: unknown;
};

let template: TxJson | null = null;
function vectorTx(): TxJson {
  if (!template) {
    const vectors = JSON.parse(readFileSync(path.join(root, "test/vectors/xmr.json"), "utf8"));
    const tx = (vectors.regtest.transactions as { name: string; daemon_get_transactions: { txs: { as_json: string }[] } }[]).find((t) => t.name === "single_subaddress")!;
    template = JSON.parse(tx.daemon_get_transactions.txs[0]!.as_json) as TxJson;
    // What /get_transactions returns with prune=true.
    delete template.rctsig_prunable;
  }
  return structuredClone(template);
}

const randomScalar = () => (bytesToNumberLE(randomBytes(64)) % (CURVE_ORDER - 1n)) + 1n;

/** A tx whose output 0 pays `amount` (atomic) to the subaddress `address`, under a fresh random hash. */
export function paymentTx(address: string, amount: bigint): NodeTx {
  const to = decodeAddress(address);
  if (!to || to.kind !== "subaddress") throw new Error(`paymentTx: not a subaddress: ${address}`);
  const D = Point.fromBytes(to.spendKey);
  const C = Point.fromBytes(to.viewKey);
  // To a subaddress the tx public key is r·D and the derivation 8·r·C (Monero's sender side).
  const r = randomScalar();
  const R = D.multiply(r).toBytes();
  const derivation = C.multiply(r).multiply(8n).toBytes();
  const shared = derivationToScalar(derivation, 0);
  const sharedBytes = scalarToBytes(shared);
  const outputKey = Point.BASE.multiply(shared).add(D).toBytes();
  const pad = keccak256(concatBytes(utf8("amount"), sharedBytes));
  const encrypted = numberToBytesLE(amount, 8).map((b, k) => b ^ pad[k]!);
  const mask = hashToScalar(utf8("commitment_mask"), sharedBytes);
  const commitment = Point.BASE.multiply(mask).add(H.multiply(amount)).toBytes();

  const json = vectorTx();
  // extra = 0x01 ‖ R ‖ the rest (the nonce with its payment id).
  json.extra = [1, ...R, ...json.extra.slice(33)];
  json.vout[0]!.target.tagged_key = { key: bytesToHex(outputKey), view_tag: deriveViewTag(derivation, 0).toString(16).padStart(2, "0") };
  json.rct_signatures.ecdhInfo[0]!.amount = bytesToHex(encrypted);
  json.rct_signatures.outPk[0] = bytesToHex(commitment);
  return { hash: randomBytes(32).toString("hex"), json: json as unknown as Record<string, unknown> };
}

/** Whether the project's scanner, with the merchant's view key, finds `amount` paid to `address` in `tx`: checks the fixture, not the code. */
export function paysAsScanned(tx: NodeTx, address: string, privateViewKey: string, amount: bigint): boolean {
  const to = decodeAddress(address)!;
  const found = scanTransaction(parseScanTx(tx.hash, tx.json), hexToBytes(privateViewKey), new Map([[bytesToHex(to.spendKey), true]]));
  return found.length === 1 && found[0]!.amount === amount;
}
