// The regtest transactions of test/vectors/xmr.json (recorded from monerod, paying the vector
// merchant's subaddresses), as the watcher hands them to accounts.
import { parseScanTx, type ScanTx } from "../../src/chains/xmr/tx";
import vectors from "../vectors/xmr.json";

type VectorTx = { name: string; tx_hash: string; daemon_get_transactions: { txs: { as_json: string }[] } };

const parse = (t: VectorTx): ScanTx => parseScanTx(t.tx_hash, JSON.parse(t.daemon_get_transactions.txs[0]!.as_json));
const byName = new Map((vectors.regtest.transactions as unknown as VectorTx[]).map((t) => [t.name, t]));

/** A merchant-paying regtest tx by its vector name (`single_subaddress` pays (0,1) 1.5 XMR, …). */
export function regtestTx(name: string): ScanTx {
  const t = byName.get(name);
  if (!t) throw new Error(`no regtest vector tx ${name}`);
  return parse(t);
}

export const regtestTxHash = (name: string): string => regtestTx(name).hash;

/** Regtest txs that pay someone else. */
export const strangersTxs = (): ScanTx[] => (vectors.regtest.negative as unknown as VectorTx[]).map(parse);
