// A fake monerod for benches: an HTTP server on a free loopback port that speaks exactly the RPC subset
// src/chains/xmr/daemon.ts uses, over a synthetic regtest chain built from test/vectors/xmr.json, and
// counts every request it answers. Any other method gets a JSON-RPC error, so a new call shows up at once.
//
// Served: POST /json_rpc get_info, get_block {height}, get_block_header_by_height {height};
// POST /get_transactions {txs_hashes, decode_as_json}; POST /get_transaction_pool_hashes.

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

/** A transaction as the node holds it: its hash and its decoded JSON (what `as_json` carries). */
export interface NodeTx {
  hash: string;
  json: Record<string, unknown>;
}

interface Block {
  height: number;
  hash: string;
  prevHash: string;
  timestamp: number;
  minerTxHash: string;
  minerTx: Record<string, unknown>;
  txHashes: string[];
}

/** One request the node answered: when (ms since the epoch) and what ("get_info", "/get_transactions", …). */
export interface NodeCall {
  at: number;
  method: string;
}

export interface FakeMonerod {
  url: string;
  /** Every request answered so far, in order. */
  calls: NodeCall[];
  /** Puts txs into the pool (they are served from the next request on). */
  addToPool(txs: NodeTx[]): void;
  /** Mines one block with every pool tx; returns its height. */
  mine(): number;
  height(): number;
  close(): Promise<void>;
}

const root = path.resolve(import.meta.dirname, "../..");

/** The vector block's miner tx: every synthetic block's coinbase, with its height put in. */
function minerTxTemplate(): Record<string, unknown> {
  const vectors = JSON.parse(readFileSync(path.join(root, "test/vectors/xmr.json"), "utf8"));
  const block = vectors.regtest.blocks["121"].result;
  return (JSON.parse(block.json) as { miner_tx: Record<string, unknown> }).miner_tx;
}

const hash32 = () => randomBytes(32).toString("hex");

export async function startFakeMonerod(opts: { premine: number }): Promise<FakeMonerod> {
  const template = minerTxTemplate();
  const blocks: Block[] = [];
  const txs = new Map<string, { tx: NodeTx; height: number | null }>();
  let pool: string[] = [];
  const calls: NodeCall[] = [];

  const mine = (): number => {
    const height = blocks.length;
    const minerTx = structuredClone(template);
    (minerTx.vin as [{ gen: { height: number } }])[0].gen.height = height;
    minerTx.unlock_time = height + 60;
    blocks.push({
      height,
      hash: hash32(),
      prevHash: blocks.at(-1)?.hash ?? "0".repeat(64),
      timestamp: Math.floor(Date.now() / 1000),
      minerTxHash: hash32(),
      minerTx,
      txHashes: pool,
    });
    for (const h of pool) txs.get(h)!.height = height;
    pool = [];
    return height;
  };
  for (let i = 0; i < opts.premine; i++) mine();

  const header = (b: Block) => ({
    height: b.height,
    hash: b.hash,
    prev_hash: b.prevHash,
    timestamp: b.timestamp,
    major_version: 16,
    minor_version: 16,
    num_txes: b.txHashes.length,
    miner_tx_hash: b.minerTxHash,
    orphan_status: false,
    depth: blocks.length - 1 - b.height,
  });
  const blockAt = (params: unknown): Block | undefined => blocks[(params as { height?: number } | undefined)?.height ?? -1];

  const jsonRpc: Record<string, (params: unknown) => unknown> = {
    get_info: () => ({
      status: "OK",
      height: blocks.length,
      top_block_hash: blocks.at(-1)!.hash,
      nettype: "fakechain",
      restricted: true,
      synchronized: true,
      busy_syncing: false,
      tx_pool_size: pool.length,
      untrusted: false,
    }),
    get_block_header_by_height: (params) => {
      const b = blockAt(params);
      return b ? { status: "OK", block_header: header(b), untrusted: false } : null;
    },
    get_block: (params) => {
      const b = blockAt(params);
      if (!b) return null;
      const json = { major_version: 16, minor_version: 16, timestamp: b.timestamp, prev_id: b.prevHash, nonce: 0, miner_tx: b.minerTx, tx_hashes: b.txHashes };
      return { status: "OK", block_header: header(b), miner_tx_hash: b.minerTxHash, tx_hashes: b.txHashes, json: JSON.stringify(json), untrusted: false };
    },
  };

  const other: Record<string, (body: Record<string, unknown>) => unknown> = {
    "/get_transactions": (body) => {
      const wanted = Array.isArray(body.txs_hashes) ? (body.txs_hashes as string[]) : [];
      const found = wanted.filter((h) => txs.has(h)).map((h) => {
        const { tx, height } = txs.get(h)!;
        const inPool = height === null;
        return {
          tx_hash: h,
          as_json: JSON.stringify(tx.json),
          in_pool: inPool,
          double_spend_seen: false,
          ...(inPool ? { relayed: true } : { block_height: height, block_timestamp: blocks[height]!.timestamp, confirmations: blocks.length - height }),
        };
      });
      const missed = wanted.filter((h) => !txs.has(h));
      return { status: "OK", untrusted: false, ...(found.length > 0 ? { txs: found } : {}), ...(missed.length > 0 ? { missed_tx: missed } : {}) };
    },
    "/get_transaction_pool_hashes": () => ({ status: "OK", untrusted: false, ...(pool.length > 0 ? { tx_hashes: pool } : {}) }),
  };

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (d: Buffer) => (text += d.toString()));
    req.on("end", () => {
      let body: Record<string, unknown>;
      try {
        body = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        return answer(res, 400, { error: "malformed JSON" });
      }
      const at = Date.now();
      if (req.url === "/json_rpc") {
        const method = String(body.method);
        calls.push({ at, method });
        const handler = jsonRpc[method];
        const result = handler?.(body.params);
        if (result === undefined) return answer(res, 200, { jsonrpc: "2.0", id: body.id, error: { code: -32601, message: `fake monerod: no method ${method}` } });
        if (result === null) return answer(res, 200, { jsonrpc: "2.0", id: body.id, error: { code: -2, message: "height too big" } });
        return answer(res, 200, { jsonrpc: "2.0", id: body.id, result });
      }
      const path = req.url ?? "";
      calls.push({ at, method: path });
      const handler = other[path];
      if (!handler) return answer(res, 404, { status: `fake monerod: no path ${path}` });
      return answer(res, 200, handler(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    addToPool(added) {
      for (const tx of added) {
        txs.set(tx.hash, { tx, height: null });
        pool.push(tx.hash);
      }
    },
    mine,
    height: () => blocks.length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
