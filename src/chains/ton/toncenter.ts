// A toncenter HTTP API client (v3 for the chain, v2 for the network check): failover between bases,
// the X-API-Key header, shape checks on every answer. Block-level reads only: calls per step do not
// grow with invoices.

import { Cell } from "@ton/core";
import { WrongNetworkError } from "../network-check";
import { NodeError } from "../node-error";
import { describeFetchError } from "../node-http";
import { GLOBAL_IDS, type TonNetwork } from "./settings";

export interface TonTip {
  seqno: number;
  /** base64 root hash of the masterchain block. */
  rootHash: string;
  /** The first masterchain block the indexer holds. */
  first: number;
  /** The last block's gen_utime (unix seconds): the chain's time the indexer has reached. */
  genUtime: number;
}

/** A transaction as toncenter v3 lists it, with only what the watcher reads. */
export interface V3Tx {
  account: string;
  hash: string;
  now: number;
  mc_block_seqno: number;
  in_msg: { source: string | null; destination: string | null; value: string | null; bounced: boolean | null } | null;
  description: { aborted?: boolean; bounce?: { type?: string } | null } | null;
}

export interface Toncenter {
  /** The base in use now (scheme, host and port only: keys may sit in paths). */
  node(): string;
  /** The last masterchain block the indexer holds; the network check runs before the first answer. */
  tip(): Promise<TonTip>;
  /** Every transaction committed by masterchain block `seqno`, all pages. */
  blockTxs(seqno: number): Promise<V3Tx[]>;
  requestsMade(): number;
}

export interface ToncenterOptions {
  urls: string[];
  apiKey?: string;
  network: TonNetwork;
  fetch: typeof fetch;
  timeoutMs?: number;
}

/** toncenter's largest page of transactions. */
const PAGE = 1000;
/** The network check is repeated this often: an API base behind a load balancer may change. */
const RECHECK_MS = 10 * 60_000;

export function createToncenter(opts: ToncenterOptions): Toncenter {
  let current = 0;
  let requests = 0;
  const checkedAt = new Map<number, number>();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const shown = (i: number) => {
    try {
      const u = new URL(opts.urls[i]!);
      return `${u.protocol}//${u.host}`;
    } catch {
      return "(bad URL)";
    }
  };

  async function get(i: number, path: string): Promise<unknown> {
    requests += 1;
    const headers: Record<string, string> = { accept: "application/json" };
    if (opts.apiKey) headers["x-api-key"] = opts.apiKey;
    let response: Response;
    try {
      response = await opts.fetch(`${opts.urls[i]}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new NodeError(`${shown(i)}: ${describeFetchError(error, timeoutMs)}`);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new NodeError(`${shown(i)}: HTTP ${response.status}, not JSON`);
    }
    if (!response.ok) {
      const error = (body as { error?: unknown })?.error;
      throw new NodeError(`${shown(i)}: HTTP ${response.status}${typeof error === "string" ? ` ${error.slice(0, 200)}` : ""}`);
    }
    return body;
  }

  async function globalId(i: number): Promise<number> {
    const body = (await get(i, "/v2/getConfigParam?config_id=19")) as { ok?: boolean; result?: { config?: { bytes?: unknown } } };
    const bytes = body?.result?.config?.bytes;
    if (body?.ok !== true || typeof bytes !== "string") throw new NodeError(`${shown(i)}: getConfigParam answered no config cell`);
    try {
      return Cell.fromBase64(bytes).beginParse().loadInt(32);
    } catch {
      throw new NodeError(`${shown(i)}: ConfigParam 19 is not a global id`);
    }
  }

  /** Runs `call` on the current base, then the others in turn; a base on another network is skipped for good this round. */
  async function onAny<R>(call: (i: number) => Promise<R>): Promise<R> {
    const problems: string[] = [];
    let wrong: WrongNetworkError | null = null;
    for (let k = 0; k < opts.urls.length; k++) {
      const i = (current + k) % opts.urls.length;
      try {
        const last = checkedAt.get(i);
        if (last === undefined || Date.now() - last > RECHECK_MS) {
          const id = await globalId(i);
          if (id !== GLOBAL_IDS[opts.network]) {
            const name = Object.entries(GLOBAL_IDS).find(([, v]) => v === id)?.[0] ?? `global id ${id}`;
            wrong = new WrongNetworkError(name, opts.network, shown(i));
            continue;
          }
          checkedAt.set(i, Date.now());
        }
        const result = await call(i);
        current = i;
        return result;
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
      }
    }
    if (wrong && problems.length === 0) throw wrong;
    throw new NodeError(`no toncenter API answered: ${problems.join("; ")}${wrong ? `; ${wrong.message}` : ""}`);
  }

  return {
    node: () => shown(current),
    requestsMade: () => requests,
    tip: () =>
      onAny(async (i) => {
        const body = (await get(i, "/v3/masterchainInfo")) as { last?: { seqno?: unknown; root_hash?: unknown; gen_utime?: unknown }; first?: { seqno?: unknown } };
        const seqno = body?.last?.seqno;
        // ton-indexer writes gen_utime as a decimal string; a number is taken too.
        const genUtime = Number(typeof body?.last?.gen_utime === "string" && /^[0-9]{1,12}$/.test(body.last.gen_utime) ? body.last.gen_utime : typeof body?.last?.gen_utime === "number" ? body.last.gen_utime : NaN);
        if (typeof seqno !== "number" || !Number.isSafeInteger(seqno) || typeof body.last?.root_hash !== "string" || !Number.isSafeInteger(genUtime)) {
          throw new NodeError(`${shown(i)}: masterchainInfo has no last block`);
        }
        const first = typeof body.first?.seqno === "number" && Number.isSafeInteger(body.first.seqno) ? body.first.seqno : 0;
        return { seqno, rootHash: body.last.root_hash, first, genUtime };
      }),
    // One base per block: a page from one indexer and the next from another could skip or repeat.
    blockTxs: (seqno) =>
      onAny(async (i) => {
        const all: V3Tx[] = [];
        for (let offset = 0; ; offset += PAGE) {
          const body = (await get(i, `/v3/transactionsByMasterchainBlock?seqno=${seqno}&limit=${PAGE}&offset=${offset}&sort=asc`)) as { transactions?: unknown };
          if (!Array.isArray(body?.transactions)) throw new NodeError(`${shown(i)}: no transactions list for masterchain block ${seqno}`);
          for (const t of body.transactions) all.push(checkedTx(t, seqno, shown(i)));
          if (body.transactions.length < PAGE) return all;
        }
      }),
  };
}

function checkedTx(raw: unknown, seqno: number, node: string): V3Tx {
  const t = raw as Partial<V3Tx>;
  if (typeof t?.account !== "string" || typeof t.hash !== "string" || typeof t.now !== "number") throw new NodeError(`${node}: a transaction of block ${seqno} lacks account, hash or time`);
  if (t.in_msg !== null && t.in_msg !== undefined && typeof t.in_msg !== "object") throw new NodeError(`${node}: a transaction of block ${seqno} has a malformed in_msg`);
  return { account: t.account, hash: t.hash, now: t.now, mc_block_seqno: t.mc_block_seqno ?? seqno, in_msg: t.in_msg ?? null, description: t.description ?? null };
}
