// Native coin a contract pays out in an internal CALL (exchange and smart-wallet withdrawals), found in a block's
// traces: the payee of such a payment is in no transaction's `to`, so only a tracing node shows it.
//
// What anvil 1.7.1 answers (measured; both methods work, neither needs a flag):
// - trace_block ["0x2"]: a flat list, one entry per frame, each tx's frames in pre-order:
//   {type:"call", action:{from, callType:"call", gas, input, to, value:"0x5"}, result:{gasUsed, output},
//    subtraces, traceAddress:[0], transactionHash, transactionPosition, blockHash, blockNumber:2}.
//   A deployment is {type:"create", action:{from, gas, init, value, creationMethod:"create"}, result:{address, code, gasUsed}}.
//   A reverted frame has error:"Reverted" (and a result with the revert output), while its children that ran before the
//   revert carry no error of their own. A block past the head gives [] rather than an error.
// - debug_traceBlockByNumber ["0x2", {tracer:"callTracer"}]: [{txHash, result: frame}], a frame being
//   {type:"CALL", from, to, value, gas, gasUsed, input, output?, error?, revertReason?, calls?: frame[]}; a reverted
//   frame has error:"execution reverted" and revertReason, its children again none. A block past the head is
//   -32001 "Resource not found". Without {tracer} the answer is struct logs, not frames.
// - An unknown method is -32601 "Method not found".

/** A JSON-RPC call, as viem's client.request takes it. */
export type EvmRequest = (args: { method: string; params: unknown[] }) => Promise<unknown>;

export type TraceMethod = "trace_block" | "debug_traceBlockByNumber";

export interface InternalTransfer {
  /** Lowercase 0x-hex. */
  txHash: string;
  /** Lowercase 0x + 40 hex. */
  to: string;
  /** Wei, > 0. */
  value: bigint;
  /** The frame's position in its tx's call tree, depth-first pre-order, the top frame (the tx itself) being 0: unique
   * per tx and stable across nodes for the same execution. */
  index: number;
}

/**
 * Which tracing method the node offers: trace_block first, then debug_traceBlockByNumber with the callTracer; null
 * when the node answers "method not found/unsupported" to both. Any other failure (network, timeout, another RPC error)
 * throws, so an unreachable node is never mistaken for one without tracing. Probe a block the node holds, such as
 * the latest: geth refuses to trace genesis ("genesis is not traceable") and that throws here.
 */
export async function traceMethod(request: EvmRequest, probeBlock: bigint): Promise<TraceMethod | null> {
  for (const method of ["trace_block", "debug_traceBlockByNumber"] as const) {
    try {
      await request({ method, params: traceParams(method, probeBlock) });
      return method;
    } catch (error) {
      if (!isMethodUnsupported(error)) throw error;
    }
  }
  return null;
}

/**
 * The block's internal transfers: frames below the top one (depth >= 1) of type CALL, or a SELFDESTRUCT paying its
 * beneficiary, with a value above zero, where that frame and every ancestor up to the tx itself succeeded. Ordered by
 * tx as the node lists them, then by index.
 */
export async function internalTransfers(request: EvmRequest, method: TraceMethod, block: bigint): Promise<InternalTransfer[]> {
  const answer = await request({ method, params: traceParams(method, block) });
  // anvil's trace_block answers [] for a block it does not have: an empty answer is only believed for a block the
  // node holds with no txs in it.
  if (Array.isArray(answer) && answer.length === 0) await assertEmptyBlock(request, block);
  return method === "trace_block" ? fromParityTraces(answer) : fromCallTraces(answer);
}

function traceParams(method: TraceMethod, block: bigint): unknown[] {
  if (typeof block !== "bigint" || block < 0n) throw new RangeError(`${method}: bad block number ${String(block)}`);
  const tag = `0x${block.toString(16)}`;
  return method === "trace_block" ? [tag] : [tag, { tracer: "callTracer" }];
}

async function assertEmptyBlock(request: EvmRequest, block: bigint): Promise<void> {
  const count = await request({ method: "eth_getBlockTransactionCountByNumber", params: [`0x${block.toString(16)}`] });
  if (count === null || count === undefined) throw new Error(`block ${block}: the node has no such block, but its trace was empty`);
  if (quantity(count, `block ${block} tx count`) !== 0n) throw new Error(`block ${block}: ${String(count)} txs, but its trace was empty`);
}

// JSON-RPC / EIP-1474 codes for "no such method" and "method not supported".
const UNSUPPORTED_CODES = new Set([-32601, -32004]);
// Providers that gate a namespace say so in the message of some other code (Besu: "Method not enabled").
const UNSUPPORTED_MESSAGE = /method (?:not found|not supported|not enabled|not allowed|not available)|unsupported method|does not exist|not whitelisted/i;

/** Only a JSON-RPC answer (an error with a numeric code, here or in its causes) can say a method is unsupported. */
function isMethodUnsupported(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code !== "number") continue;
    if (UNSUPPORTED_CODES.has(code)) return true;
    if (typeof message === "string" && UNSUPPORTED_MESSAGE.test(message)) return true;
  }
  return false;
}

// ---- Parsing: the node's answer is untrusted; each field used is checked here, once.

/** A frame reduced to what decides a transfer, in the tree shape both formats share. */
interface Frame {
  /** The payee and amount when this frame is a CALL or SELFDESTRUCT moving value; null for any other frame. */
  payment: { to: string; value: bigint } | null;
  failed: boolean;
  children: Frame[];
}

/** Transfers of one tx's call tree, walked in pre-order without recursion (a call tree may be 1024 deep). */
function transfersOfTree(txHash: string, top: Frame): InternalTransfer[] {
  const out: InternalTransfer[] = [];
  const stack: { frame: Frame; depth: number; ancestorFailed: boolean }[] = [{ frame: top, depth: 0, ancestorFailed: false }];
  for (let index = 0; stack.length > 0; index++) {
    const { frame, depth, ancestorFailed } = stack.pop()!;
    const failed = ancestorFailed || frame.failed;
    if (depth >= 1 && !failed && frame.payment && frame.payment.value > 0n) out.push({ txHash, ...frame.payment, index });
    for (let i = frame.children.length - 1; i >= 0; i--) stack.push({ frame: frame.children[i]!, depth: depth + 1, ancestorFailed: failed });
  }
  return out;
}

/** Transfers from trace_block's flat list, where `traceAddress` (child indices from the top frame) places each frame. */
export function fromParityTraces(traces: unknown): InternalTransfer[] {
  if (!Array.isArray(traces)) throw new Error(`trace_block: expected a list of traces, got ${describe(traces)}`);
  // Per tx in the order the node lists them; a frame by its traceAddress joined with ",".
  const txs = new Map<string, Map<string, { path: number[]; frame: Frame }>>();
  traces.forEach((trace, i) => {
    const where = `trace_block[${i}]`;
    if (!isRecord(trace)) throw new Error(`${where}: expected an object, got ${describe(trace)}`);
    const type = text(trace.type, `${where}.type`);
    // Block and uncle rewards (OpenEthereum, Erigon) belong to no tx and move no contract's coin.
    if (type === "reward") return;
    const txHash = hash32(trace.transactionHash, `${where}.transactionHash`);
    const path = traceAddress(trace.traceAddress, `${where}.traceAddress`);
    if (!isRecord(trace.action)) throw new Error(`${where}.action: expected an object, got ${describe(trace.action)}`);
    if (trace.error !== undefined && trace.error !== null && typeof trace.error !== "string") {
      throw new Error(`${where}.error: expected a string, got ${describe(trace.error)}`);
    }
    const frame: Frame = { payment: parityPayment(type, trace.action, `${where}.action`), failed: typeof trace.error === "string", children: [] };
    let frames = txs.get(txHash);
    if (!frames) txs.set(txHash, (frames = new Map()));
    const key = path.join(",");
    if (frames.has(key)) throw new Error(`${where}: tx ${txHash} has two frames at traceAddress [${key}]`);
    frames.set(key, { path, frame });
  });

  const out: InternalTransfer[] = [];
  for (const [txHash, frames] of txs) {
    const top = frames.get("");
    if (!top) throw new Error(`trace_block: tx ${txHash} has no top frame (traceAddress [])`);
    // Lexicographic order of the paths is pre-order, so each frame's children are attached in their call order.
    const ordered = [...frames.values()].sort((a, b) => comparePaths(a.path, b.path));
    for (const { path, frame } of ordered.slice(1)) {
      const last = path[path.length - 1]!;
      const parent = frames.get(path.slice(0, -1).join(","));
      if (!parent || parent.frame.children.length !== last) {
        throw new Error(`trace_block: tx ${txHash} frame [${path.join(",")}] has no parent or no earlier sibling`);
      }
      parent.frame.children.push(frame);
    }
    out.push(...transfersOfTree(txHash, top.frame));
  }
  return out;
}

function parityPayment(type: string, action: Record<string, unknown>, where: string): Frame["payment"] {
  if (type === "call") {
    if (text(action.callType, `${where}.callType`) !== "call") return null;
    return { to: address(action.to, `${where}.to`), value: quantity(action.value, `${where}.value`) };
  }
  // OpenEthereum named SELFDESTRUCT "suicide"; the contract's whole balance goes to refundAddress.
  if (type === "suicide" || type === "selfdestruct") {
    return { to: address(action.refundAddress, `${where}.refundAddress`), value: quantity(action.balance, `${where}.balance`) };
  }
  return null;
}

/** Transfers from debug_traceBlockByNumber with the callTracer: [{txHash, result: frame}], children nested in `calls`. */
export function fromCallTraces(results: unknown): InternalTransfer[] {
  if (!Array.isArray(results)) throw new Error(`debug_traceBlockByNumber: expected a list of tx traces, got ${describe(results)}`);
  return results.flatMap((entry, i) => {
    const where = `debug_traceBlockByNumber[${i}]`;
    if (!isRecord(entry)) throw new Error(`${where}: expected an object, got ${describe(entry)}`);
    // A tx the node failed to trace comes back as {txHash, error} in place of a result.
    if (entry.error !== undefined && entry.error !== null) throw new Error(`${where}: the node could not trace tx ${String(entry.txHash)}: ${describe(entry.error)}`);
    const txHash = hash32(entry.txHash, `${where}.txHash`);
    return transfersOfTree(txHash, callFrame(entry.result, `${where}.result`));
  });
}

/** One callTracer frame and its subtree, converted without recursion. */
function callFrame(input: unknown, where: string): Frame {
  const convert = (raw: unknown, at: string): { frame: Frame; calls: unknown[] } => {
    if (!isRecord(raw)) throw new Error(`${at}: expected a call frame, got ${describe(raw)}`);
    const type = text(raw.type, `${at}.type`).toUpperCase();
    if (raw.error !== undefined && raw.error !== null && typeof raw.error !== "string") throw new Error(`${at}.error: expected a string, got ${describe(raw.error)}`);
    if (raw.calls !== undefined && !Array.isArray(raw.calls)) throw new Error(`${at}.calls: expected a list, got ${describe(raw.calls)}`);
    // geth leaves `value` out of frames that cannot carry one; a CALL without it moves nothing.
    const payment =
      type === "CALL" || type === "SELFDESTRUCT"
        ? { to: address(raw.to, `${at}.to`), value: raw.value === undefined ? 0n : quantity(raw.value, `${at}.value`) }
        : null;
    return { frame: { payment, failed: typeof raw.error === "string", children: [] }, calls: (raw.calls as unknown[] | undefined) ?? [] };
  };
  const top = convert(input, where);
  const pending = [{ ...top, at: where }];
  while (pending.length > 0) {
    const { frame, calls, at } = pending.pop()!;
    calls.forEach((raw, i) => {
      const child = convert(raw, `${at}.calls[${i}]`);
      frame.children.push(child.frame);
      pending.push({ ...child, at: `${at}.calls[${i}]` });
    });
  }
  return top.frame;
}

function comparePaths(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const HEX_QUANTITY = /^0x[0-9a-fA-F]{1,64}$/;
const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HEX_HASH = /^0x[0-9a-fA-F]{64}$/;

function quantity(value: unknown, where: string): bigint {
  if (typeof value !== "string" || !HEX_QUANTITY.test(value)) throw new Error(`${where}: expected a hex quantity, got ${describe(value)}`);
  return BigInt(value);
}

function address(value: unknown, where: string): string {
  if (typeof value !== "string" || !HEX_ADDRESS.test(value)) throw new Error(`${where}: expected a 20-byte hex address, got ${describe(value)}`);
  return value.toLowerCase();
}

function hash32(value: unknown, where: string): string {
  if (typeof value !== "string" || !HEX_HASH.test(value)) throw new Error(`${where}: expected a 32-byte hex hash, got ${describe(value)}`);
  return value.toLowerCase();
}

function text(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "") throw new Error(`${where}: expected a string, got ${describe(value)}`);
  return value;
}

function traceAddress(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || !value.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new Error(`${where}: expected a list of child indices, got ${describe(value)}`);
  }
  return value as number[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  const json = typeof value === "bigint" ? `${value}n` : JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 80 ? `${json.slice(0, 80)}…` : json;
}
