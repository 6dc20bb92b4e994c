// Internal native-coin transfers: the two trace parsers on hand-made trees of both shapes, then both tracing methods
// against a real anvil node, where BatchPayout pays by internal CALLs and a reverted payMany moves nothing.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createPublicClient, encodeFunctionData, getAddress, http, type Abi, type Address, type Hash } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fromCallTraces,
  fromParityTraces,
  internalTransfers,
  traceMethod,
  type EvmRequest,
  type InternalTransfer,
  type TraceMethod,
} from "../../src/chains/evm/trace";
import { startAnvil, type Anvil } from "../e2e/support/anvil";
import batchPayout from "../e2e/support/contracts/BatchPayout.json";
import { freePort } from "../e2e/support/ports";

const TX_A = `0x${"aa".repeat(32)}`;
const TX_B = `0x${"bb".repeat(32)}`;
const CONTRACT = `0x${"cc".repeat(20)}`;
const PAYEE_1 = `0x${"11".repeat(20)}`;
const PAYEE_2 = `0x${"22".repeat(20)}`;
const PAYEE_3 = `0x${"33".repeat(20)}`;

/** One execution's call tree, written once and rendered in both node formats. */
interface Tree {
  type: "CALL" | "DELEGATECALL" | "STATICCALL" | "CALLCODE" | "CREATE" | "SELFDESTRUCT";
  to: string;
  value: bigint;
  error?: string;
  calls?: Tree[];
}

function asCallTracer(tree: Tree): Record<string, unknown> {
  const frame: Record<string, unknown> = { type: tree.type, from: CONTRACT, to: tree.to, gas: "0x5208", gasUsed: "0x0", input: "0x" };
  if (tree.type !== "STATICCALL") frame.value = `0x${tree.value.toString(16)}`;
  if (tree.error) frame.error = tree.error;
  if (tree.calls) frame.calls = tree.calls.map(asCallTracer);
  return frame;
}

function asParity(txHash: string, tree: Tree, path: number[] = []): Record<string, unknown>[] {
  const value = `0x${tree.value.toString(16)}`;
  const base = { transactionHash: txHash, traceAddress: path, subtraces: tree.calls?.length ?? 0, blockNumber: 7, transactionPosition: 0 };
  const trace: Record<string, unknown> =
    tree.type === "SELFDESTRUCT"
      ? { ...base, type: "suicide", action: { address: CONTRACT, refundAddress: tree.to, balance: value } }
      : tree.type === "CREATE"
        ? { ...base, type: "create", action: { from: CONTRACT, value, init: "0x", gas: "0x0" } }
        : { ...base, type: "call", action: { from: CONTRACT, to: tree.to, value, callType: tree.type.toLowerCase(), gas: "0x0", input: "0x" } };
  if (tree.error) trace.error = tree.error;
  return [trace, ...(tree.calls ?? []).flatMap((child, i) => asParity(txHash, child, [...path, i]))];
}

/** Both parsers on the same trees, which must agree; returns what they found. */
function parseBoth(txs: [string, Tree][]): InternalTransfer[] {
  const fromParity = fromParityTraces(txs.flatMap(([hash, tree]) => asParity(hash, tree)));
  const fromCalls = fromCallTraces(txs.map(([txHash, tree]) => ({ txHash, result: asCallTracer(tree) })));
  expect(fromParity).toEqual(fromCalls);
  return fromCalls;
}

const call = (to: string, value: bigint, calls?: Tree[], error?: string): Tree => ({ type: "CALL", to, value, calls, error });

describe("fromParityTraces and fromCallTraces", () => {
  it("count a value CALL below a failed sibling but not the children of a reverted frame", () => {
    // [0] reverts after paying PAYEE_1 at [0,0]; its sibling [1] pays PAYEE_2 and succeeds.
    const tree = call(CONTRACT, 0n, [call(CONTRACT, 0n, [call(PAYEE_1, 5n)], "Reverted"), call(PAYEE_2, 7n)]);
    expect(parseBoth([[TX_A, tree]])).toEqual([{ txHash: TX_A, to: PAYEE_2, value: 7n, index: 3 }]);
  });

  it("number frames in pre-order, the tx itself being 0, counting frames that move nothing", () => {
    const tree = call(CONTRACT, 9n, [
      call(CONTRACT, 0n, [call(PAYEE_1, 1n), { type: "STATICCALL", to: CONTRACT, value: 0n }]),
      call(PAYEE_2, 2n, [call(PAYEE_3, 3n)]),
    ]);
    expect(parseBoth([[TX_A, tree]]).map((t) => [t.to, t.index])).toEqual([
      [PAYEE_1, 2],
      [PAYEE_2, 4],
      [PAYEE_3, 5],
    ]);
  });

  it("ignore the top frame's own value, DELEGATECALL, CALLCODE and CREATE with value, and zero-value CALLs", () => {
    const tree = call(PAYEE_1, 100n, [
      { type: "DELEGATECALL", to: PAYEE_1, value: 5n },
      { type: "CALLCODE", to: PAYEE_1, value: 5n },
      { type: "CREATE", to: PAYEE_1, value: 5n },
      call(PAYEE_2, 0n),
    ]);
    expect(parseBoth([[TX_A, tree]])).toEqual([]);
  });

  it("count a SELFDESTRUCT as paying its beneficiary the contract's balance", () => {
    const tree = call(CONTRACT, 0n, [{ type: "SELFDESTRUCT", to: PAYEE_3, value: 42n }]);
    expect(parseBoth([[TX_A, tree]])).toEqual([{ txHash: TX_A, to: PAYEE_3, value: 42n, index: 1 }]);
  });

  it("credit nothing of a reverted tx, even calls that succeeded before the revert", () => {
    const tree = call(CONTRACT, 12n, [call(PAYEE_1, 5n), call(PAYEE_2, 7n)], "execution reverted");
    expect(parseBoth([[TX_A, tree]])).toEqual([]);
  });

  it("keep txs apart, each with its own numbering, in the order the node lists them", () => {
    const found = parseBoth([
      [TX_B, call(CONTRACT, 0n, [call(PAYEE_1, 1n)])],
      [TX_A, call(CONTRACT, 0n, [call(PAYEE_2, 2n)])],
    ]);
    expect(found).toEqual([
      { txHash: TX_B, to: PAYEE_1, value: 1n, index: 1 },
      { txHash: TX_A, to: PAYEE_2, value: 2n, index: 1 },
    ]);
  });

  it("take parity pre-order from traceAddress, not from the order of the list", () => {
    const tree = call(CONTRACT, 0n, [call(CONTRACT, 0n, [call(PAYEE_1, 1n)]), call(PAYEE_2, 2n)]);
    const shuffled = asParity(TX_A, tree).reverse();
    expect(fromParityTraces(shuffled)).toEqual(fromCallTraces([{ txHash: TX_A, result: asCallTracer(tree) }]));
  });

  it("lowercase addresses and hashes, and skip block reward entries", () => {
    const traces = asParity(TX_A.toUpperCase().replace("0X", "0x"), call(CONTRACT, 0n, [call(getAddress(PAYEE_1), 1n)]));
    traces.push({ type: "reward", action: { author: PAYEE_3, value: "0x1", rewardType: "block" }, transactionHash: null, traceAddress: [] });
    expect(fromParityTraces(traces)).toEqual([{ txHash: TX_A, to: PAYEE_1, value: 1n, index: 1 }]);
  });

  it("throw on a malformed trace_block answer", () => {
    const good = () => asParity(TX_A, call(CONTRACT, 0n, [call(PAYEE_1, 1n)]));
    const broken = (edit: (traces: Record<string, unknown>[]) => void) => {
      const traces = good();
      edit(traces);
      return () => fromParityTraces(traces);
    };
    expect(() => fromParityTraces({ result: [] })).toThrow(/list of traces/);
    expect(() => fromParityTraces([null])).toThrow(/trace_block\[0\]: expected an object/);
    expect(broken((t) => ((t[1]!.action as Record<string, unknown>).value = "12"))).toThrow(/\.value: expected a hex quantity/);
    expect(broken((t) => ((t[1]!.action as Record<string, unknown>).value = 12))).toThrow(/hex quantity/);
    expect(broken((t) => ((t[1]!.action as Record<string, unknown>).to = "0x1234"))).toThrow(/\.to: expected a 20-byte hex address/);
    expect(broken((t) => (t[1]!.transactionHash = "0xabc"))).toThrow(/transactionHash: expected a 32-byte hex hash/);
    expect(broken((t) => (t[1]!.traceAddress = [-1]))).toThrow(/traceAddress: expected a list of child indices/);
    expect(broken((t) => (t[1]!.traceAddress = []))).toThrow(/two frames at traceAddress \[\]/);
    expect(broken((t) => (t[1]!.traceAddress = [1]))).toThrow(/no parent or no earlier sibling/);
    expect(broken((t) => t.shift())).toThrow(/no top frame/);
    expect(broken((t) => (t[0]!.error = { reason: "x" }))).toThrow(/\.error: expected a string/);
  });

  it("throw on a malformed callTracer answer", () => {
    const entry = (result: unknown, txHash: unknown = TX_A) => [{ txHash, result }];
    const frame = (edit: Record<string, unknown>) => ({ ...asCallTracer(call(CONTRACT, 0n)), calls: [{ ...asCallTracer(call(PAYEE_1, 1n)), ...edit }] });
    expect(() => fromCallTraces("0x")).toThrow(/list of tx traces/);
    expect(() => fromCallTraces(entry(frame({}), "0x12"))).toThrow(/txHash: expected a 32-byte hex hash/);
    expect(() => fromCallTraces(entry(frame({ value: "0xZZ" })))).toThrow(/calls\[0\]\.value: expected a hex quantity/);
    expect(() => fromCallTraces(entry(frame({ value: `0x1${"0".repeat(64)}` })))).toThrow(/hex quantity/);
    expect(() => fromCallTraces(entry(frame({ to: undefined })))).toThrow(/calls\[0\]\.to: expected a 20-byte hex address/);
    expect(() => fromCallTraces(entry(frame({ type: undefined })))).toThrow(/calls\[0\]\.type: expected a string/);
    expect(() => fromCallTraces(entry(frame({ calls: {} })))).toThrow(/calls\[0\]\.calls: expected a list/);
    expect(() => fromCallTraces(entry({ failed: false, gas: 21000, structLogs: [] }))).toThrow(/result\.type/);
    expect(() => fromCallTraces([{ txHash: TX_A, error: "tracing failed" }])).toThrow(/could not trace tx/);
  });
});

// ---- Against anvil 1.7.1 (mining off: each test mines its own block).

let anvil: Anvil;
let request: EvmRequest;
let payout: Address;
const METHODS: readonly TraceMethod[] = ["trace_block", "debug_traceBlockByNumber"];

beforeAll(async () => {
  anvil = await startAnvil();
  request = (args) => anvil.client.request(args as never);
  payout = await anvil.deployBatchPayout();
}, 60_000);

afterAll(async () => {
  await anvil?.stop();
}, 30_000);

function freshAddress(): Address {
  return getAddress(`0x${randomBytes(20).toString("hex")}`);
}

/** Mines the pending txs into one block and reads its transfers by both methods, which must agree. */
async function mineAndTrace(): Promise<InternalTransfer[]> {
  const block = await anvil.mine(1);
  const [viaTrace, viaDebug] = await Promise.all(METHODS.map((m) => internalTransfers(request, m, block)));
  expect(viaTrace).toEqual(viaDebug);
  return viaTrace!;
}

const lower = (s: string) => s.toLowerCase();

describe("internalTransfers on anvil", () => {
  it("finds both payees of one payMany, with distinct indices, the same by trace_block and debug_traceBlockByNumber", async () => {
    const [a, b] = [freshAddress(), freshAddress()];
    const hash = await anvil.payMany(1, [
      { to: a, wei: 1_500_000_000_000_000_000n },
      { to: b, wei: 7n },
    ]);
    expect(await mineAndTrace()).toEqual([
      { txHash: hash, to: lower(a), value: 1_500_000_000_000_000_000n, index: 1 },
      { txHash: hash, to: lower(b), value: 7n, index: 2 },
    ]);
  });

  it("finds the one payee of a forward", async () => {
    const to = freshAddress();
    const hash = await anvil.forward(2, to, 123n);
    expect(await mineAndTrace()).toEqual([{ txHash: hash, to: lower(to), value: 123n, index: 1 }]);
  });

  it("finds nothing in a plain account-to-account payment, which is the top frame only", async () => {
    await anvil.send(3, freshAddress(), 10n ** 18n);
    expect(await mineAndTrace()).toEqual([]);
  });

  it("finds nothing in a payMany that paid both payees and then reverted on the value check", async () => {
    const [a, b] = [freshAddress(), freshAddress()];
    // One wei more than the sum: both calls succeed, then `require(total == msg.value)` reverts the tx.
    const data = encodeFunctionData({ abi: batchPayout.abi as Abi, functionName: "payMany", args: [[a, b], [5n, 7n]] });
    // anvil signs for its dev accounts; the explicit gas skips the estimate, which would fail on the revert.
    const hash = (await anvil.rpc("eth_sendTransaction", [{ from: anvil.accounts[5]!.address, to: payout, value: "0xd", data, gas: "0x30000" }])) as Hash;
    const found = await mineAndTrace();
    expect((await anvil.client.getTransactionReceipt({ hash })).status).toBe("reverted");
    expect(found.filter((t) => t.txHash === hash)).toEqual([]);
  });

  it("finds the transfers of each tx of a block with several, each under its own tx hash", async () => {
    const [a, b, c] = [freshAddress(), freshAddress(), freshAddress()];
    const many = await anvil.payMany(6, [
      { to: a, wei: 1n },
      { to: b, wei: 2n },
    ]);
    const plain = await anvil.send(7, freshAddress(), 5n);
    const forward = await anvil.forward(8, c, 3n);
    const found = await mineAndTrace();
    const block = await anvil.client.getBlock({ blockTag: "latest" });
    expect(block.transactions).toHaveLength(3);
    expect(block.transactions).toContain(plain);
    expect(sortByTx(found)).toEqual(
      sortByTx([
        { txHash: many, to: lower(a), value: 1n, index: 1 },
        { txHash: many, to: lower(b), value: 2n, index: 2 },
        { txHash: forward, to: lower(c), value: 3n, index: 1 },
      ]),
    );
  });

  it("throws for a block past the head, where anvil's trace_block answers []", async () => {
    const head = await anvil.client.getBlockNumber();
    // The tx count of the block, asked to confirm the empty trace, is anvil's BlockOutOfRangeError.
    await expect(internalTransfers(request, "trace_block", head + 100n)).rejects.toThrow(/block height is/);
    await expect(internalTransfers(request, "debug_traceBlockByNumber", head + 100n)).rejects.toThrow(/Resource not found/);
  });
});

describe("internalTransfers on an empty trace", () => {
  it("believes it only for a block the node holds with no txs", async () => {
    const node = await fakeNode({ trace_block: { result: [] }, eth_getBlockTransactionCountByNumber: { result: "0x0" } });
    try {
      expect(await internalTransfers(node.request, "trace_block", 5n)).toEqual([]);
    } finally {
      await node.close();
    }
  });

  it("throws when the block has txs or the node has no such block", async () => {
    const withTxs = await fakeNode({ trace_block: { result: [] }, eth_getBlockTransactionCountByNumber: { result: "0x2" } });
    const unknown = await fakeNode({ debug_traceBlockByNumber: { result: [] }, eth_getBlockTransactionCountByNumber: { result: null } });
    try {
      await expect(internalTransfers(withTxs.request, "trace_block", 5n)).rejects.toThrow(/block 5: 0x2 txs, but its trace was empty/);
      await expect(internalTransfers(unknown.request, "debug_traceBlockByNumber", 5n)).rejects.toThrow(/no such block/);
    } finally {
      await Promise.all([withTxs.close(), unknown.close()]);
    }
  });
});

function sortByTx(transfers: InternalTransfer[]): InternalTransfer[] {
  return [...transfers].sort((x, y) => (x.txHash < y.txHash ? -1 : x.txHash > y.txHash ? 1 : x.index - y.index));
}

// ---- Probing which method a node offers.

/** A JSON-RPC endpoint answering each method from `answers` (an error object or a result), "method not found" otherwise. */
async function fakeNode(answers: Record<string, { error: { code: number; message: string } } | { result: unknown }> = {}) {
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      const answer = answers[method] ?? { error: { code: -32601, message: "Method not found" } };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id, ...answer }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { request: viemRequest(url), close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function viemRequest(url: string): EvmRequest {
  const client = createPublicClient({ transport: http(url, { retryCount: 0, timeout: 5_000 }) });
  return (args) => client.request(args as never);
}

describe("traceMethod", () => {
  it("finds trace_block on anvil, probing the latest block", async () => {
    expect(await traceMethod(request, await anvil.client.getBlockNumber())).toBe("trace_block");
  });

  it("finds debug_traceBlockByNumber when trace_block is not found", async () => {
    const node = await fakeNode({ debug_traceBlockByNumber: { result: [] } });
    try {
      expect(await traceMethod(node.request, 0n)).toBe("debug_traceBlockByNumber");
    } finally {
      await node.close();
    }
  });

  it("returns null from a node that answers 'method not found' to both", async () => {
    const node = await fakeNode();
    try {
      expect(await traceMethod(node.request, 0n)).toBeNull();
    } finally {
      await node.close();
    }
  });

  it("throws rather than guess when the probe fails with another RPC error", async () => {
    const node = await fakeNode({ trace_block: { error: { code: -32000, message: "genesis is not traceable" } } });
    try {
      await expect(traceMethod(node.request, 0n)).rejects.toThrow(/genesis is not traceable/);
    } finally {
      await node.close();
    }
  });

  it("throws when nothing listens on the port", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(traceMethod(viemRequest(closed), 0n)).rejects.toThrow();
  });
});
