// Where an EVM coin's payments are in blocks and in the pool: the native coin by `to` and value (plus
// internal transfers where the node traces), a token by its Transfer logs and its transfer calls.
// Both read the blocks' txs or logs only after the chain was read and the watched addresses listed.

import type { PublicClient } from "viem";
import { NodeError } from "../node-error";
import { internalTransfers, traceMethod, type TraceMethod } from "./trace";
import type { Token } from "./tokens";
import { recipientIndex, type EvmOutput } from "./tx";

/** A block as read from the node (hex fields as the node sent them). */
export interface RpcBlock {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
  /** Full txs when the reader asked for them, else empty. */
  txs: RpcTx[];
}

export interface RpcTx {
  hash: string;
  /** Lowercase 40 hex digits; null for a contract creation. */
  to: string | null;
  value: bigint;
  input: string;
}

/** Payments found per tx hash. */
export type Found = Map<string, EvmOutput[]>;

export interface PaymentReader {
  /** Blocks must be read with their txs (the native coin); a token reads logs. */
  readonly fullBlocks: boolean;
  /** What this reader can see, for /healthz (e.g. whether internal transfers are traced). */
  features(client: PublicClient, probeBlock: number): Promise<Record<string, string | number | boolean>>;
  /** Successful payments to `watched` in `blocks` (consecutive, as read), per tx with the block it is in. */
  inBlocks(client: PublicClient, blocks: readonly RpcBlock[], watched: ReadonlySet<string>): Promise<Map<string, { height: number; outputs: EvmOutput[] }>>;
  /** Payments to `watched` that pool txs would make. */
  inPool(txs: readonly RpcTx[], watched: ReadonlySet<string>): Found;
}

const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
/** transfer(address,uint256) and transferFrom(address,address,uint256). */
const TRANSFER_SELECTOR = "0xa9059cbb";
const TRANSFER_FROM_SELECTOR = "0x23b872dd";
const DECIMALS_SELECTOR = "0x313ce567";
/** Watched addresses per eth_getLogs filter: 1,000 `to` topics is a 66 kB body, and anvil answered 10,000 in 26 ms. */
export const LOG_TOPICS_PER_FILTER = 1000;

const add = (found: Found, hash: string, output: EvmOutput) => {
  const list = found.get(hash) ?? found.set(hash, []).get(hash)!;
  list.push(output);
};

/** The native coin (ETH, BNB): txs paying a watched `to`, whose receipt succeeded, and traced internal transfers. */
export function nativePayments(): PaymentReader {
  let tracing: TraceMethod | null | undefined;
  const tracer = async (client: PublicClient, probeBlock: number) => {
    if (tracing === undefined) tracing = await traceMethod((args) => client.request(args as never), BigInt(probeBlock));
    return tracing;
  };
  return {
    fullBlocks: true,
    async features(client, probeBlock) {
      const method = await tracer(client, probeBlock);
      return { internalTransfers: method ?? false };
    },
    async inBlocks(client, blocks, watched) {
      const out = new Map<string, { height: number; outputs: EvmOutput[] }>();
      if (blocks.length === 0 || watched.size === 0) return out;
      const direct = blocks.flatMap((b) => b.txs.filter((t) => t.to !== null && watched.has(t.to) && t.value > 0n).map((t) => ({ t, height: b.number })));
      const method = await tracer(client, blocks.at(-1)!.number);
      const [receipts, traced] = await Promise.all([
        Promise.all(direct.map(({ t }) => client.request({ method: "eth_getTransactionReceipt", params: [t.hash as `0x${string}`] }))),
        method ? Promise.all(blocks.map((b) => internalTransfers((args) => client.request(args as never), method, BigInt(b.number)))) : Promise.resolve([]),
      ]);
      direct.forEach(({ t, height }, i) => {
        const receipt = receipts[i];
        if (!receipt) throw new NodeError(`no receipt for ${t.hash} in block ${height}`);
        // A reverted tx moves nothing.
        if (receipt.status !== "0x1") return;
        out.set(t.hash, { height, outputs: [{ index: 0, to: t.to!, value: t.value.toString() }] });
      });
      traced.forEach((transfers, i) => {
        for (const x of transfers) {
          const to = x.to.slice(2); // trace.ts writes 0x-addresses; match keys have no 0x
          if (!watched.has(to)) continue;
          const entry = out.get(x.txHash) ?? out.set(x.txHash, { height: blocks[i]!.number, outputs: [] }).get(x.txHash)!;
          entry.outputs.push({ index: x.index, to, value: x.value.toString() });
        }
      });
      return out;
    },
    inPool(txs, watched) {
      const found: Found = new Map();
      for (const t of txs) if (t.to !== null && watched.has(t.to) && t.value > 0n) add(found, t.hash, { index: 0, to: t.to, value: t.value.toString() });
      return found;
    },
  };
}

/** A token: its Transfer logs to watched addresses, summed per tx and recipient; in the pool, its transfer calls. */
export function tokenPayments(token: Token): PaymentReader {
  return {
    fullBlocks: false,
    async features(client) {
      // The table's decimals are what amounts are read in: a contract that says otherwise is not followed.
      const answer = await client.request({ method: "eth_call", params: [{ to: `0x${token.contract}`, data: DECIMALS_SELECTOR }, "latest"] });
      const expected = `a token contract at 0x${token.contract} with ${token.decimals} decimals`;
      if (!/^0x[0-9a-f]{64}$/i.test(answer)) throw new TokenMismatch(`no token contract at 0x${token.contract}: decimals() answered ${answer.slice(0, 20)}`, expected);
      const decimals = Number(BigInt(answer));
      if (decimals !== token.decimals) throw new TokenMismatch(`the contract at 0x${token.contract} has ${decimals} decimals`, expected);
      return { contract: `0x${token.contract}`, decimals };
    },
    async inBlocks(client, blocks, watched) {
      const out = new Map<string, { height: number; outputs: EvmOutput[] }>();
      if (blocks.length === 0 || watched.size === 0) return out;
      const hashes = new Map(blocks.map((b) => [b.number, b.hash]));
      const addresses = [...watched];
      const chunks: string[][] = [];
      for (let i = 0; i < addresses.length; i += LOG_TOPICS_PER_FILTER) chunks.push(addresses.slice(i, i + LOG_TOPICS_PER_FILTER));
      // Never past the blocks read (some nodes refuse a fromBlock beyond their head).
      const range = { fromBlock: hex(blocks[0]!.number), toBlock: hex(blocks.at(-1)!.number) };
      const answers = await Promise.all(
        chunks.map((chunk) =>
          client.request({
            method: "eth_getLogs",
            params: [{ ...range, address: `0x${token.contract}`, topics: [TRANSFER_TOPIC, null, chunk.map((a) => `0x${"0".repeat(24)}${a}`)] } as never],
          }),
        ),
      );
      const sums = new Map<string, { height: number; byTo: Map<string, bigint> }>();
      for (const log of answers.flat() as unknown as RpcLog[]) {
        const height = Number(log.blockNumber);
        if (log.removed) continue;
        // A log of another block at that height: the chain moved under this step; read it again next time.
        if (hashes.get(height) !== String(log.blockHash).toLowerCase()) throw new NodeError(`the chain changed while reading logs at ${height}`);
        if (String(log.address).toLowerCase() !== `0x${token.contract}` || log.topics?.[0] !== TRANSFER_TOPIC || log.topics.length !== 3) continue;
        const to = String(log.topics[2]).slice(26).toLowerCase();
        if (!watched.has(to)) continue;
        const value = BigInt(log.data === "0x" ? 0 : log.data);
        if (value === 0n) continue;
        const hash = String(log.transactionHash).toLowerCase();
        const entry = sums.get(hash) ?? sums.set(hash, { height, byTo: new Map() }).get(hash)!;
        entry.byTo.set(to, (entry.byTo.get(to) ?? 0n) + value);
      }
      for (const [hash, { height, byTo }] of sums) {
        out.set(hash, { height, outputs: [...byTo].map(([to, value]) => ({ index: recipientIndex(to), to, value: value.toString() })) });
      }
      return out;
    },
    inPool(txs, watched) {
      const found: Found = new Map();
      for (const t of txs) {
        if (t.to !== token.contract) continue;
        const call = decodeTransferCall(t.input);
        if (call && call.value > 0n && watched.has(call.to)) add(found, t.hash, { index: recipientIndex(call.to), to: call.to, value: call.value.toString() });
      }
      return found;
    },
  };
}

/** The node's chain has no such token as configured: like a node on another network, it is not followed. */
export class TokenMismatch extends Error {
  override name = "TokenMismatch";
  constructor(
    readonly found: string,
    readonly expected: string,
  ) {
    super(`${found}, expected ${expected}`);
  }
}

interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  removed?: boolean;
}

/** The recipient and amount of a transfer or transferFrom call, or null for any other input. */
export function decodeTransferCall(input: string): { to: string; value: bigint } | null {
  const data = input.toLowerCase();
  const word = (i: number) => data.slice(10 + 64 * i, 10 + 64 * (i + 1));
  const address = (w: string) => (/^0{24}[0-9a-f]{40}$/.test(w) ? w.slice(24) : null);
  if (data.startsWith(TRANSFER_SELECTOR) && data.length === 10 + 128) {
    const to = address(word(0));
    return to ? { to, value: BigInt(`0x${word(1)}`) } : null;
  }
  if (data.startsWith(TRANSFER_FROM_SELECTOR) && data.length === 10 + 192) {
    const to = address(word(1));
    return to ? { to, value: BigInt(`0x${word(2)}`) } : null;
  }
  return null;
}

export const hex = (n: number) => `0x${n.toString(16)}` as const;
