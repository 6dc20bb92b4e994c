// Bitcoin Core-compatible JSON-RPC client (bitcoind, litecoind) for the UTXO chain watcher: chain info,
// blocks, mempool and transactions, with batches, retries, failover, the network check of every node
// before it is used, and shape checks on every answer.
import { base64 } from "@scure/base";
import { WrongNetworkError } from "../network-check";
import { NodeError } from "../node-error";
import { describeFetchError } from "../node-http";
import { isHash, nodeJsonReaders } from "../node-json";

export interface CoreRpcOptions {
  /** Node URLs, tried in turn; `http://user:pass@host:port[/wallet/name]` carries per-node credentials. */
  urls: string[];
  /** Credentials for URLs that carry none (rpcuser/rpcpassword or the cookie's `__cookie__:…`). */
  user?: string;
  pass?: string;
  /** Per HTTP request, including reading the body. */
  timeoutMs?: number;
  /** Extra rounds over all URLs after the first round fails. */
  retries?: number;
  /** Most calls in one HTTP batch; larger requests are split. */
  maxBatch?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /**
   * The network check: the `getblockchaininfo.chain` every node must report (`main`, `test`, `signet`,
   * `regtest`). A node is asked before its first use and at every getBlockchainInfo; one on another chain
   * is skipped like a failing node, and when no other is left the call throws WrongNetworkError. Unset: no check.
   */
  chain?: string;
}

/**
 * A call failed for good. `rpc`: the node answered with a JSON-RPC error (`code` says which);
 * `auth`: every node refused the credentials; `http`: a reply no retry can fix (e.g. 404 on a bad path);
 * `unavailable`: every node failed on every retry (down, timing out, warming up or answering garbage).
 */
export class CoreRpcError extends NodeError {
  readonly kind: "rpc" | "auth" | "http" | "unavailable";
  readonly code: number | undefined;
  constructor(message: string, kind: CoreRpcError["kind"], options?: { code?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CoreRpcError";
    this.kind = kind;
    this.code = options?.code;
  }
}

/** Core's RPC error codes the watcher tells apart (src/rpc/protocol.h). */
export const RPC_INVALID_ADDRESS_OR_KEY = -5; // unknown tx, not in the mempool, unknown block
export const RPC_INVALID_PARAMETER = -8; // e.g. "Block height out of range"
export const RPC_IN_WARMUP = -28; // loading the block index: ask again later
export const RPC_METHOD_NOT_FOUND = -32601;

export interface BlockchainInfo {
  /** `main`, `test`, `signet`, `regtest` (UtxoNetwork.coreChain). */
  chain: string;
  blocks: number;
  headers: number;
  bestBlockHash: string;
  initialBlockDownload: boolean;
}

/** Still catching up: in initial block download, or with headers it has not validated the blocks of yet. */
export function isSyncing(info: BlockchainInfo): boolean {
  return info.initialBlockDownload || info.headers > info.blocks;
}

export interface BlockTxids {
  hash: string;
  height: number;
  /** -1 for a block off the active chain. */
  confirmations: number;
  txids: string[];
}

export interface MempoolInfo {
  /** The node replaces any unconfirmed tx, signalling or not (Core 24-29 `fullrbf`); null when it does not say. */
  fullRbf: boolean | null;
}

export interface Outpoint {
  txid: string;
  vout: number;
}

export interface CoreTxOutput {
  /** Position among the tx's transparent outputs (Litecoin's MWEB outputs have none and are left out). */
  n: number;
  satoshis: bigint;
  /** scriptPubKey hex: what invoices match. */
  script: string;
  /** The node's spelling, when the script has one (`address`, or `addresses[0]` before Core 22). */
  address: string | null;
}

export interface CoreTx {
  txid: string;
  /** `hash`: the witness txid. */
  wtxid: string;
  coinbase: boolean;
  /** The outputs this tx spends (empty for a coinbase): how double spends and replacements show. */
  spends: Outpoint[];
  outputs: CoreTxOutput[];
}

export interface CoreBlock {
  hash: string;
  height: number;
  /** null only for the genesis block. */
  previousBlockHash: string | null;
  time: number;
  medianTime: number;
  /** -1 for a block off the active chain. */
  confirmations: number;
  txs: CoreTx[];
}

export interface CoreRawTx extends CoreTx {
  /**
   * The block the node found it in; null for a mempool tx. With txindex a tx evicted by a reorg keeps
   * reporting its orphaned block with 0 confirmations, so a block hash alone never means confirmed.
   */
  blockHash: string | null;
  /** 0 unless the tx is in a block of the active chain. */
  confirmations: number;
  blockTime: number | null;
}

export interface MempoolEntry {
  /** BIP125 signalling (own or inherited); null when the node does not say (newer, full-RBF-only Core). */
  bip125Replaceable: boolean | null;
  /** When the node first saw it, seconds since the epoch. */
  time: number;
  /** Chain height when it entered the mempool. */
  height: number;
  feeSatoshis: bigint | null;
}

export type BatchResult = { ok: true; result: unknown } | { ok: false; error: CoreRpcError };

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_MAX_BATCH = 100;
const BLOCKS_PER_BATCH = 10;
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 5_000;

/** Another attempt, or another node, may succeed: retried, then reported as `unavailable`. */
class TransientError extends Error {}
const { asObject, asArray, asHash, asBoolean, asString } = nodeJsonReaders((message) => new TransientError(message));
/** This node refuses our credentials: skipped for the rest of the call, never retried. */
class CredentialsRefused extends Error {}
/** This node serves another chain: skipped for the rest of the call, never retried within it. */
class NodeOnWrongChain extends Error {}

interface Endpoint {
  /** URL without credentials: safe to put in messages. */
  url: string;
  authorization: string | null;
  /** The `chain` the node reported at its latest getblockchaininfo; null until asked. */
  chain: string | null;
}

/** Which of several nodes' answers to take: the first fit one, else the best ranked (see getBlockchainInfo). */
interface Preference<T> {
  fit(value: T): boolean;
  rank(value: T): number;
}

interface ExchangeOptions<T> {
  /** The answer says which chain the node serves (getblockchaininfo): the network check is made on it. */
  reportsChain?: (value: T) => string;
  prefer?: Preference<T>;
}

/** One call of a batch. */
export interface RpcCall {
  method: string;
  params: unknown[];
}

export function createCoreRpc(opts: CoreRpcOptions) {
  const endpoints = opts.urls.map((url) => toEndpoint(url, opts.user, opts.pass));
  if (endpoints.length === 0) throw new TypeError("core rpc: at least one node URL is required");
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = opts.retries ?? DEFAULT_RETRIES;
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError("core rpc: timeoutMs must be a positive integer");
  if (!Number.isSafeInteger(retries) || retries < 0) throw new TypeError("core rpc: retries must be a non-negative integer");
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new TypeError("core rpc: maxBatch must be a positive integer");
  // Workers throw "Illegal invocation" when the global fetch is called detached from globalThis.
  const doFetch: typeof fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let preferred = 0;
  /** The endpoint of the latest attempt, for logs. */
  let current = 0;
  let nextId = 1;

  async function post(endpoint: Endpoint, body: string): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (endpoint.authorization) headers.authorization = endpoint.authorization;
    let response: Response;
    try {
      response = await doFetch(endpoint.url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new TransientError(`${endpoint.url}: ${describeFetchError(error, timeoutMs)}`, { cause: error });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new TransientError(`${endpoint.url}: ${describeFetchError(error, timeoutMs)} while reading the body`, { cause: error });
    }
    // Core answers a wrong password with 401 and an empty body; 403 is rpcallowip refusing us.
    if (response.status === 401 || response.status === 403) {
      throw new CredentialsRefused(`${endpoint.url}: HTTP ${response.status}, ${response.status === 401 ? "credentials rejected" : "access forbidden (rpcallowip?)"}`);
    }
    return { status: response.status, text };
  }

  /** The network check: records what the node says it serves, and skips it when that is another chain. */
  function judgeChain(endpoint: Endpoint, chain: string): void {
    endpoint.chain = chain;
    if (opts.chain !== undefined && chain !== opts.chain) throw new NodeOnWrongChain(endpoint.url);
  }

  /** Before a node's first use: asks it which chain it serves (once; getBlockchainInfo asks every time). */
  async function checkChain(endpoint: Endpoint): Promise<void> {
    if (opts.chain === undefined) return;
    if (endpoint.chain === null) {
      const where = `${endpoint.url} getblockchaininfo`;
      const { status, text } = await post(endpoint, JSON.stringify({ jsonrpc: "1.0", id: nextId++, method: "getblockchaininfo", params: [] }));
      const outcome = readOutcome(asObject(parseBody(text, status, where, DOUBLE_AMOUNTS).json, where), status, where);
      // A node that cannot say which chain it serves is not used for this call; another may be.
      if (!outcome.ok) throw new TransientError(outcome.error.message);
      endpoint.chain = asString(asObject(outcome.result, where).chain, `${where} chain`);
    }
    judgeChain(endpoint, endpoint.chain);
  }

  /**
   * One logical request (a call or a batch chunk): every URL in turn, then `retries` more rounds with
   * backoff. `read` turns the parsed body into data or throws TransientError for garbage. With `prefer`,
   * a node whose answer is not fit is passed over for the next; when none is, the best ranked is taken.
   */
  async function exchange<T>(payload: unknown, what: string, read: (body: Body, where: string) => T, how: ExchangeOptions<T> = {}): Promise<T> {
    const body = JSON.stringify(payload);
    const n = endpoints.length;
    const refused = new Set<number>();
    let lastError: unknown;
    for (let round = 0; round <= retries; round++) {
      if (round > 0) await sleep(backoffMs(round - 1));
      const wrongChain: Endpoint[] = [];
      let best: { value: T; index: number } | null = null;
      for (let k = 0; k < n; k++) {
        const index = (preferred + k) % n;
        if (refused.has(index)) continue;
        const endpoint = endpoints[index]!;
        const where = `${endpoint.url} ${what}`;
        current = index;
        try {
          if (!how.reportsChain) await checkChain(endpoint);
          const { status, text } = await post(endpoint, body);
          let value: T;
          try {
            value = read(parseBody(text, status, where, DOUBLE_AMOUNTS), where);
          } catch (error) {
            if (!(error instanceof NeedsSourceDigits)) throw error;
            value = read(parseBody(text, status, where, "source"), where);
          }
          if (how.reportsChain) judgeChain(endpoint, how.reportsChain(value));
          if (how.prefer && !how.prefer.fit(value)) {
            if (!best || how.prefer.rank(value) > how.prefer.rank(best.value)) best = { value, index };
            continue;
          }
          preferred = index;
          return value;
        } catch (error) {
          if (error instanceof NodeOnWrongChain) {
            wrongChain.push(endpoint);
            continue;
          }
          if (error instanceof CredentialsRefused) {
            refused.add(index);
            lastError = error;
            if (refused.size === n) throw new CoreRpcError(`core rpc ${what}: ${error.message}`, "auth", { cause: error });
            continue;
          }
          if (!(error instanceof TransientError)) throw error;
          lastError = error;
        }
      }
      if (best) {
        preferred = current = best.index;
        return best.value;
      }
      // Every node left serves another chain: asking again will not change that within this call.
      const first = wrongChain[0];
      if (first && wrongChain.length + refused.size === n) throw new WrongNetworkError(first.chain ?? "?", opts.chain ?? "?", first.url);
    }
    const last = lastError instanceof Error ? lastError.message : String(lastError);
    throw new CoreRpcError(`core rpc ${what}: failed ${retries + 1} round(s) over ${n} node(s); last: ${last}`, "unavailable", {
      cause: lastError,
    });
  }

  // "1.0" on purpose: litecoind 0.21 and Bitcoin Core 28+ then both answer in the legacy style (error: null,
  // HTTP 500 on errors); 2.0-style replies (no error key, errors with HTTP 200) are read as well.
  function request<T>(method: string, params: unknown[], read: (result: unknown, where: string, amounts: Amounts) => T, how?: ExchangeOptions<T>): Promise<T> {
    const id = nextId++;
    return exchange(
      { jsonrpc: "1.0", id, method, params },
      method,
      (body, where) => {
        const envelope = asObject(body.json, where);
        // Some proxies and Core 28+ in JSON-RPC 2.0 mode leave out `id` on errors; a wrong id is someone else's answer.
        if (envelope.id !== undefined && envelope.id !== null && envelope.id !== id) throw new TransientError(`${where}: reply for id ${String(envelope.id)}, asked ${id}`);
        const outcome = readOutcome(envelope, body.status, where);
        if (!outcome.ok) throw outcome.error;
        return read(outcome.result, where, body.amounts);
      },
      how,
    );
  }

  /** Calls in JSON-RPC batches of at most `size` (maxBatch); per-call failures come back as values, in order. */
  async function batchOf<T>(
    requests: RpcCall[],
    what: string,
    read: (result: unknown, where: string, amounts: Amounts) => T,
    size = maxBatch,
  ): Promise<({ ok: true; value: T } | { ok: false; error: CoreRpcError })[]> {
    const out: ({ ok: true; value: T } | { ok: false; error: CoreRpcError })[] = [];
    const step = Math.min(size, maxBatch);
    // Sequential on purpose: one node, bounded work per tick; parallel chunks would only queue in its RPC threads.
    for (let start = 0; start < requests.length; start += step) {
      const chunk = requests.slice(start, start + step).map((r) => ({ jsonrpc: "1.0", id: nextId++, method: r.method, params: r.params }));
      const part = await exchange(chunk, `${what} (batch of ${chunk.length})`, (body, where) => {
        if (!Array.isArray(body.json)) {
          // A batch the node could not take at all comes back as one error object.
          const outcome = readOutcome(asObject(body.json, where), body.status, where);
          throw outcome.ok ? new TransientError(`${where}: not an array`) : outcome.error;
        }
        const byId = new Map<number, Record<string, unknown>>();
        for (const [i, item] of body.json.entries()) {
          const reply = asObject(item, `${where}[${i}]`);
          if (typeof reply.id !== "number" || byId.has(reply.id)) throw new TransientError(`${where}[${i}]: missing or repeated id`);
          byId.set(reply.id, reply);
        }
        if (byId.size !== chunk.length) throw new TransientError(`${where}: ${byId.size} replies for ${chunk.length} calls`);
        return chunk.map((call) => {
          const reply = byId.get(call.id);
          if (!reply) throw new TransientError(`${where}: no reply for id ${call.id}`);
          const at = `${where} ${call.method}`;
          const outcome = readOutcome(reply, 200, at);
          if (outcome.ok) return { ok: true as const, value: read(outcome.result, at, body.amounts) };
          // A node warming up fails every item: the whole batch is retried, not reported item by item.
          if (outcome.error instanceof TransientError) throw outcome.error;
          return { ok: false as const, error: outcome.error };
        });
      });
      out.push(...part);
    }
    return out;
  }

  /** A map from each key to its answer, batched; the `notFound` error code becomes null, other failures throw. */
  async function lookup<K, T>(
    keys: K[],
    method: string,
    params: (key: K) => unknown[],
    read: (result: unknown, where: string, amounts: Amounts) => T,
    how: { notFound: number; size?: number },
  ): Promise<Map<K, T | null>> {
    const unique = [...new Set(keys)];
    const results = await batchOf(unique.map((key) => ({ method, params: params(key) })), method, read, how.size);
    const out = new Map<K, T | null>();
    results.forEach((result, i) => {
      if (result.ok) out.set(unique[i]!, result.value);
      else if (result.error.code === how.notFound) out.set(unique[i]!, null);
      else throw result.error;
    });
    return out;
  }

  function perTx<T>(txids: string[], method: string, params: (txid: string) => unknown[], read: (result: unknown, where: string, amounts: Amounts) => T): Promise<Map<string, T | null>> {
    for (const txid of txids) if (!isHash(txid)) throw new TypeError(`core rpc ${method}: not a 64-char lowercase hex txid: ${txid}`);
    return lookup(txids, method, params, read, { notFound: RPC_INVALID_ADDRESS_OR_KEY });
  }

  return {
    /** The chain every node must report (CoreRpcOptions.chain); null when nodes are not checked. */
    chain: opts.chain ?? null,

    /** URL (no credentials) of the node asked last. */
    node(): string {
      return endpoints[current]!.url;
    },

    /** Any method, result unchecked: for tests and one-off tools; the typed calls below are for the watcher. */
    call(method: string, params: unknown[] = []): Promise<unknown> {
      return request(method, params, (result) => result);
    },

    /** Any methods in batches; each item succeeds or fails on its own, as Core answers them. */
    async batch(requests: RpcCall[]): Promise<BatchResult[]> {
      const results = await batchOf(requests, "batch", (result) => result);
      return results.map((r) => (r.ok ? { ok: true as const, result: r.value } : r));
    },

    /**
     * The node's chain, tip and sync state; also the network check of the node that answers. With several
     * nodes, the first (preferred first) that is in sync with a tip at or above `atLeast`; when none is,
     * the best of the others (in sync before syncing, then the highest), for the caller to judge.
     */
    async getBlockchainInfo(how?: { atLeast?: number }): Promise<BlockchainInfo> {
      const atLeast = how?.atLeast ?? -1;
      return request(
        "getblockchaininfo",
        [],
        (result, where) => {
          const r = asObject(result, where);
          return {
            chain: asString(r.chain, `${where} chain`),
            blocks: asHeight(r.blocks, `${where} blocks`),
            headers: asHeight(r.headers, `${where} headers`),
            bestBlockHash: asHash(r.bestblockhash, `${where} bestblockhash`),
            initialBlockDownload: asBoolean(r.initialblockdownload, `${where} initialblockdownload`),
          };
        },
        {
          reportsChain: (info) => info.chain,
          prefer: { fit: (info) => !isSyncing(info) && info.blocks >= atLeast, rank: (info) => (isSyncing(info) ? 0 : 2 ** 40) + info.blocks },
        },
      );
    },

    /** Active-chain block hashes by height, batched; null for a height above the tip. */
    async getBlockHashes(heights: number[]): Promise<Map<number, string | null>> {
      heights.forEach(assertHeight);
      return lookup(heights, "getblockhash", (height) => [height], (result, where) => asHash(result, where), { notFound: RPC_INVALID_PARAMETER });
    },

    /**
     * Blocks by hash with their txids only (getblock verbosity 1), batched a few at a time: a mainnet
     * block's list is ~200 KB. null for a hash the node does not know.
     */
    async getBlockTxids(hashes: string[]): Promise<Map<string, BlockTxids | null>> {
      for (const hash of hashes) if (!isHash(hash)) throw new TypeError(`core rpc getblock: not a 64-char lowercase hex hash: ${hash}`);
      return lookup(hashes, "getblock", (hash) => [hash, 1], (result, where) => readBlockTxids(result, where), {
        notFound: RPC_INVALID_ADDRESS_OR_KEY,
        size: BLOCKS_PER_BATCH,
      });
    },

    /** Height of the node's top block. */
    async getBlockCount(): Promise<number> {
      return request("getblockcount", [], (result, where) => asHeight(result, where));
    },

    /** Past the tip this fails with kind `rpc`, code RPC_INVALID_PARAMETER (-8). */
    async getBlockHash(height: number): Promise<string> {
      assertHeight(height);
      return request("getblockhash", [height], (result, where) => asHash(result, where));
    },

    /** An unknown hash fails with kind `rpc`, code RPC_INVALID_ADDRESS_OR_KEY (-5). */
    async getBlock(hash: string): Promise<CoreBlock> {
      if (!isHash(hash)) throw new TypeError(`core rpc getblock: not a 64-char lowercase hex hash: ${hash}`);
      return request("getblock", [hash, 2], (result, where, amounts) => readBlock(result, hash, where, amounts));
    },

    async getRawMempool(): Promise<string[]> {
      return request("getrawmempool", [false], (result, where) => asArray(result, where).map((h, i) => asHash(h, `${where}[${i}]`)));
    },

    /**
     * Verbose transactions by txid, batched; null for a txid the node cannot find. Without txindex a node
     * finds only mempool txs, unless `blockHash` names the block holding them (Core 0.16+).
     */
    async getRawTransactions(txids: string[], blockHash?: string): Promise<Map<string, CoreRawTx | null>> {
      if (blockHash !== undefined && !isHash(blockHash)) throw new TypeError(`core rpc getrawtransaction: not a block hash: ${blockHash}`);
      return perTx(txids, "getrawtransaction", (txid) => (blockHash ? [txid, true, blockHash] : [txid, true]), (result, where, amounts) =>
        readRawTx(result, where, amounts),
      );
    },

    /** Mempool entries by txid, batched; null for a txid no longer (or never) in the mempool. */
    async getMempoolEntries(txids: string[]): Promise<Map<string, MempoolEntry | null>> {
      return perTx(txids, "getmempoolentry", (txid) => [txid], (result, where, amounts) => readMempoolEntry(result, where, amounts));
    },

    async getMempoolInfo(): Promise<MempoolInfo> {
      return request("getmempoolinfo", [], (result, where) => {
        const r = asObject(result, where);
        return { fullRbf: r.fullrbf === undefined ? null : asBoolean(r.fullrbf, `${where} fullrbf`) };
      });
    },
  };

  function toEndpoint(raw: string, user: string | undefined, pass: string | undefined): Endpoint {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      // The raw text may hold a password: never echo it.
      throw new TypeError("core rpc: a node URL is not a URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`core rpc: not an http(s) URL: ${url.protocol}//${url.host}`);
    // fetch() refuses URLs with userinfo, so credentials move into the Authorization header.
    const urlUser = decodeURIComponent(url.username);
    const urlPass = decodeURIComponent(url.password);
    url.username = "";
    url.password = "";
    const credentials = urlUser ? `${urlUser}:${urlPass}` : user !== undefined ? `${user}:${pass ?? ""}` : null;
    return {
      url: url.href,
      authorization: credentials === null ? null : `Basic ${base64.encode(new TextEncoder().encode(credentials))}`,
      chain: null,
    };
  }
}

export type CoreRpc = ReturnType<typeof createCoreRpc>;

/** Comma-separated node URLs from a setting. */
export function parseNodeUrls(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url.length > 0);
}

// ---- the reply envelope ----

interface Body {
  json: unknown;
  status: number;
  amounts: Amounts;
}

/** `amounts`: the fast double-based reader, or "source" to parse keeping every number's own digits. */
function parseBody(text: string, status: number, where: string, amounts: Amounts | "source"): Body {
  try {
    if (amounts !== "source") return { json: JSON.parse(text), status, amounts };
    const exact = parseKeepingDigits(text);
    return { json: exact.json, status, amounts: exact.amounts };
  } catch {
    // Non-JSON: a proxy's error page, a 503 "work queue depth exceeded", a truncated body.
    const message = `${where}: HTTP ${status}, ${text.length === 0 ? "empty body" : `not JSON (${JSON.stringify(text.slice(0, 80))})`}`;
    if (status >= 500 || status === 200 || status === 408 || status === 429) throw new TransientError(message);
    throw new CoreRpcError(message, "http");
  }
}

/** Core's legacy replies always carry `error` (null on success); JSON-RPC 2.0 replies carry one of the two. */
function readOutcome(
  reply: Record<string, unknown>,
  status: number,
  where: string,
): { ok: true; result: unknown } | { ok: false; error: TransientError | CoreRpcError } {
  if (reply.error !== undefined && reply.error !== null) {
    const error = asObject(reply.error, `${where} error`);
    const code = typeof error.code === "number" && Number.isSafeInteger(error.code) ? error.code : undefined;
    const message = `${where}: ${typeof error.message === "string" ? error.message : "error"} (code ${code ?? "?"})`;
    if (code === RPC_IN_WARMUP) return { ok: false, error: new TransientError(message) };
    if (code === undefined) return { ok: false, error: new TransientError(message) };
    return { ok: false, error: new CoreRpcError(message, "rpc", { code }) };
  }
  if (status < 200 || status >= 300) {
    const message = `${where}: HTTP ${status} without a JSON-RPC error`;
    return { ok: false, error: status >= 500 || status === 408 || status === 429 ? new TransientError(message) : new CoreRpcError(message, "http") };
  }
  if (!("result" in reply)) return { ok: false, error: new TransientError(`${where}: neither result nor error`) };
  return { ok: true, result: reply.result };
}

// ---- amounts: JSON numbers in coins, to satoshis ----

/** Reads a coin amount field as satoshis. */
interface Amounts {
  satoshis(holder: Record<string, unknown>, key: string, where: string): bigint;
}

/** Thrown by the fast path for a number a double cannot carry to the satoshi; the body is re-read from its digits. */
class NeedsSourceDigits extends Error {}

// Below 2^26 coins a double's spacing is under 1e-8, so each 8-decimal amount has its own double and the
// shortest round-trip string (what String() prints) is exactly the decimal Core wrote. Every Bitcoin
// amount fits; only a Litecoin output above 67,108,864 LTC needs the JSON's own digits.
const EXACT_DOUBLE_LIMIT = 2 ** 26;

const DOUBLE_AMOUNTS: Amounts = {
  satoshis(holder, key, where) {
    const value = holder[key];
    if (typeof value !== "number") throw new TransientError(`${where}: not a number`);
    if (Math.abs(value) >= EXACT_DOUBLE_LIMIT) throw new NeedsSourceDigits();
    return amountOrGarbage(String(value), where);
  },
};

/**
 * JSON.parse that remembers each number's own digits (JSON.parse source text access: V8 11.4+, so Node 22
 * and workerd); where a runtime lacks it, amounts fall back to String() as on the fast path.
 */
function parseKeepingDigits(text: string): { json: unknown; amounts: Amounts } {
  const digits = new WeakMap<object, Map<string, string>>();
  const json: unknown = JSON.parse(text, function (this: object, key: string, value: unknown, context?: { source?: string }) {
    if (typeof value === "number" && context?.source !== undefined) {
      let fields = digits.get(this);
      if (!fields) digits.set(this, (fields = new Map()));
      fields.set(key, context.source);
    }
    return value;
  } as (this: unknown, key: string, value: unknown) => unknown);
  const amounts: Amounts = {
    satoshis(holder, key, where) {
      const value = holder[key];
      if (typeof value !== "number") throw new TransientError(`${where}: not a number`);
      return amountOrGarbage(digits.get(holder)?.get(key) ?? String(value), where);
    },
  };
  return { json, amounts };
}

function amountOrGarbage(text: string, where: string): bigint {
  const satoshis = coinsToSatoshis(text);
  if (satoshis === null) throw new TransientError(`${where}: not an amount in coins with at most 8 decimals: ${text}`);
  return satoshis;
}

const MAX_SATOSHIS = 2n ** 63n - 1n; // CAmount is int64: anything larger is not from a node
const COIN_DIGITS = 8;

/**
 * Coins as Core writes them ("0.00012345", "50.00000000", or a JS number's "1e-8") to satoshis, exactly;
 * null for a negative amount, more than 8 decimals, or anything that is not a plain decimal.
 */
export function coinsToSatoshis(text: string): bigint | null {
  const match = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return null;
  const [, whole = "", fraction = "", exp = "0"] = match;
  const exponent = Number(exp);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 64) return null;
  // value = digits * 10^(exponent - fraction.length); satoshis = value * 10^8
  const digits = BigInt(whole + fraction);
  const shift = exponent - fraction.length + COIN_DIGITS;
  let satoshis: bigint;
  if (shift >= 0) satoshis = digits * 10n ** BigInt(shift);
  else {
    const divisor = 10n ** BigInt(-shift);
    if (digits % divisor !== 0n) return null;
    satoshis = digits / divisor;
  }
  return satoshis <= MAX_SATOSHIS ? satoshis : null;
}

// ---- shapes ----

function readBlock(value: unknown, hash: string, where: string, amounts: Amounts): CoreBlock {
  const b = asObject(value, where);
  const got = asHash(b.hash, `${where} hash`);
  if (got !== hash) throw new TransientError(`${where}: asked for block ${hash}, got ${got}`);
  const height = asHeight(b.height, `${where} height`);
  const previousBlockHash = b.previousblockhash === undefined && height === 0 ? null : asHash(b.previousblockhash, `${where} previousblockhash`);
  const txs = asArray(b.tx, `${where} tx`).map((tx, i) => readTx(tx, `${where} tx[${i}]`, amounts));
  if (b.nTx !== undefined && b.nTx !== txs.length) throw new TransientError(`${where}: nTx ${String(b.nTx)} but ${txs.length} txs`);
  if (txs.length === 0 || !txs[0]!.coinbase) throw new TransientError(`${where}: a block starts with its coinbase`);
  return {
    hash,
    height,
    previousBlockHash,
    time: asHeight(b.time, `${where} time`),
    medianTime: asHeight(b.mediantime, `${where} mediantime`),
    confirmations: asInteger(b.confirmations, `${where} confirmations`),
    txs,
  };
}

function readBlockTxids(value: unknown, where: string): BlockTxids {
  const b = asObject(value, where);
  return {
    hash: asHash(b.hash, `${where} hash`),
    height: asHeight(b.height, `${where} height`),
    confirmations: asInteger(b.confirmations, `${where} confirmations`),
    txids: asArray(b.tx, `${where} tx`).map((t, i) => asHash(t, `${where} tx[${i}]`)),
  };
}

function readTx(value: unknown, where: string, amounts: Amounts): CoreTx {
  const t = asObject(value, where);
  const vin = asArray(t.vin, `${where} vin`).map((v, i) => asObject(v, `${where} vin[${i}]`));
  // Litecoin's MWEB inputs and outputs ({ismweb: true, output_id}) carry no script and no value: not ours to watch.
  const transparentIn = vin.filter((v) => v.ismweb !== true);
  const coinbase = transparentIn.length === 1 && transparentIn[0]!.coinbase !== undefined;
  const spends = coinbase
    ? []
    : transparentIn.map((v, i) => ({ txid: asHash(v.txid, `${where} vin[${i}].txid`), vout: asHeight(v.vout, `${where} vin[${i}].vout`) }));
  const outputs = asArray(t.vout, `${where} vout`).flatMap((v, i): CoreTxOutput[] => {
    const at = `${where} vout[${i}]`;
    const out = asObject(v, at);
    if (out.ismweb === true) return [];
    const scriptPubKey = asObject(out.scriptPubKey, `${at}.scriptPubKey`);
    return [
      {
        n: asHeight(out.n, `${at}.n`),
        satoshis: amounts.satoshis(out, "value", `${at}.value`),
        script: asHex(scriptPubKey.hex, `${at}.scriptPubKey.hex`),
        address: readAddress(scriptPubKey, `${at}.scriptPubKey`),
      },
    ];
  });
  return { txid: asHash(t.txid, `${where} txid`), wtxid: asHash(t.hash, `${where} hash`), coinbase, spends, outputs };
}

// Core 22+ writes `address`; Litecoin 0.21 and older Core write `addresses: [...]` (with reqSigs).
function readAddress(scriptPubKey: Record<string, unknown>, where: string): string | null {
  if (scriptPubKey.address !== undefined) return asString(scriptPubKey.address, `${where}.address`);
  if (scriptPubKey.addresses === undefined) return null;
  const list = asArray(scriptPubKey.addresses, `${where}.addresses`);
  return list.length === 0 ? null : asString(list[0], `${where}.addresses[0]`);
}

function readRawTx(value: unknown, where: string, amounts: Amounts): CoreRawTx {
  const r = asObject(value, where);
  return {
    ...readTx(r, where, amounts),
    // A mempool tx has no blockhash/confirmations/blocktime keys at all.
    blockHash: r.blockhash === undefined ? null : asHash(r.blockhash, `${where} blockhash`),
    confirmations: r.confirmations === undefined ? 0 : Math.max(0, asInteger(r.confirmations, `${where} confirmations`)),
    blockTime: r.blocktime === undefined ? null : asHeight(r.blocktime, `${where} blocktime`),
  };
}

function readMempoolEntry(value: unknown, where: string, amounts: Amounts): MempoolEntry {
  const e = asObject(value, where);
  const replaceable = e["bip125-replaceable"];
  // `fees.base` since Core 0.17; the older top-level `fee` (coins) was removed in Core 23.
  const fees = e.fees === undefined ? undefined : asObject(e.fees, `${where} fees`);
  const feeSatoshis = fees ? amounts.satoshis(fees, "base", `${where} fees.base`) : e.fee !== undefined ? amounts.satoshis(e, "fee", `${where} fee`) : null;
  return {
    bip125Replaceable: replaceable === undefined ? null : asBoolean(replaceable, `${where} bip125-replaceable`),
    time: asHeight(e.time, `${where} time`),
    height: asHeight(e.height, `${where} height`),
    feeSatoshis,
  };
}

function backoffMs(round: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** round);
  // Half fixed, half jitter: keeps retries from several watchers from arriving in lockstep.
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

function assertHeight(height: number): void {
  if (!Number.isSafeInteger(height) || height < 0) throw new TypeError(`core rpc: bad block height ${height}`);
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

function asHex(value: unknown, where: string): string {
  if (typeof value !== "string" || !HEX_RE.test(value)) throw new TransientError(`${where}: not lowercase hex`);
  return value;
}

function asInteger(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new TransientError(`${where}: not an integer`);
  return value;
}

function asHeight(value: unknown, where: string): number {
  const n = asInteger(value, where);
  if (n < 0) throw new TransientError(`${where}: negative`);
  return n;
}
