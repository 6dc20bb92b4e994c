// monerod HTTP RPC client for the XMR chain watcher: blocks, transactions and pool hashes over the JSON
// endpoints, with retries, failover across nodes, digest auth, the network check of every node before
// it is used, and shape checks so node garbage never passes as data.
import { WrongNetworkError } from "../network-check";
import { NodeError } from "../node-error";
import { describeFetchError } from "../node-http";
import { isHash, nodeJsonReaders } from "../node-json";
import type { XmrNetwork } from "./address";
import { createDigestSession, type DigestSession } from "./digest-auth";
import { acceptsNettype } from "./network";

export interface DaemonOptions {
  /** Node base URLs, tried round robin; `http://user:pass@host:port` carries per-node credentials. */
  urls: string[];
  user?: string;
  pass?: string;
  /** Per HTTP request, including reading the body. */
  timeoutMs?: number;
  /** Extra rounds over all URLs after the first one fails. */
  retries?: number;
  /**
   * Wall time one call may take, every attempt and backoff included; then it fails. Bounds how long a
   * watcher tick can hang on nodes that do not answer, so the failure shows promptly.
   */
  callBudgetMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /**
   * The network every node must serve (the network check): a node is asked `get_info` before its first
   * use and at every `getInfo`, and one reporting another `nettype` is skipped like a failing node.
   * Unset: no check.
   */
  network?: XmrNetwork;
}

/** A call failed for good: the node answered with an error, or every URL failed on every retry. */
export class DaemonError extends NodeError {
  /** JSON-RPC error code when the node reported one (e.g. -2 height too big, -5 block not found). */
  readonly code: number | undefined;
  constructor(message: string, options?: { code?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DaemonError";
    this.code = options?.code;
  }
}

export interface BlockHeader {
  height: number;
  hash: string;
  prevHash: string;
  timestamp: number;
}

export interface DaemonBlock extends BlockHeader {
  minerTxHash: string;
  txHashes: string[];
  /** `miner_tx` from the block's `json` string. */
  minerTxJson: unknown;
}

export interface DaemonInfo {
  /** Block count: the top block's height + 1. */
  height: number;
  topBlockHash: string;
  restricted: boolean;
  /** "mainnet", "testnet", "stagenet" or "fakechain" (regtest). */
  nettype: string;
  synchronized: boolean;
  busySyncing: boolean;
}

export interface DaemonTx {
  hash: string;
  /** Parsed `as_json` (pruned: `rctsig_prunable` dropped, `ecdhInfo`/`outPk` kept). */
  json: unknown;
  inPool: boolean;
  blockHeight: number | null;
  doubleSpendSeen: boolean;
}

/** Restricted (public) nodes refuse more than this many hashes per /get_transactions. */
export const MAX_TXS_PER_REQUEST = 100;

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_CALL_BUDGET_MS = 12_000;
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 5_000;
// A fresh keep-alive connection gets a new server-side digest session, so a handshake may need a redo.
const MAX_AUTH_ROUNDS = 3;
// monerod's CORE_RPC_ERROR_CODE_CORE_BUSY and CORE_RPC_STATUS_BUSY: the node is syncing, ask again later.
const RPC_CODE_BUSY = -9;
const STATUS_BUSY = "BUSY";

/** The node misbehaved in a way another attempt or another node may not: retried, then reported. */
class TransientError extends Error {}
const { asObject, asArray, asHash, asBoolean, asString } = nodeJsonReaders((message) => new TransientError(message));

/** This node serves another network: skipped, never retried within the call. */
class NodeOnWrongNetwork extends Error {}

/** Which of several nodes' answers to take: the first fit one, else the best ranked (see getInfo). */
interface Preference<T> {
  fit(value: T): boolean;
  rank(value: T): number;
}

interface CallOptions<T> {
  /** The answer says which network the node serves (get_info): the network check is made on it. */
  reportsNetwork?: (value: T) => string;
  prefer?: Preference<T>;
}

export function parseDaemonUrls(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url.length > 0);
}

interface Endpoint {
  /** Base URL without credentials or trailing slash; safe to put in messages. */
  base: string;
  digest: DigestSession | null;
  /** Tail of the request queue; only used with digest auth (see postOnce). */
  queue: Promise<unknown>;
  /** The `nettype` the node reported at its latest `get_info`; null until asked. */
  nettype: string | null;
}

export function createMoneroDaemon(opts: DaemonOptions) {
  const endpoints = opts.urls.map((url) => toEndpoint(url, opts.user, opts.pass));
  if (endpoints.length === 0) throw new TypeError("monerod: at least one daemon URL is required");
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = opts.retries ?? DEFAULT_RETRIES;
  const callBudgetMs = opts.callBudgetMs ?? DEFAULT_CALL_BUDGET_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError("monerod: timeoutMs must be a positive integer");
  if (!Number.isSafeInteger(retries) || retries < 0) throw new TypeError("monerod: retries must be a non-negative integer");
  if (!Number.isSafeInteger(callBudgetMs) || callBudgetMs <= 0) throw new TypeError("monerod: callBudgetMs must be a positive integer");
  // Workers throw "Illegal invocation" when the global fetch is called detached from globalThis.
  const doFetch: typeof fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let preferred = 0;
  /** The endpoint of the latest attempt, for logs. */
  let current = 0;

  // monerod's digest state (nonce, expected nonce count) lives per TCP connection, and a client cannot
  // pick the connection; one request at a time per authenticated node keeps fetch on one warm connection.
  function postOnce(endpoint: Endpoint, path: string, body: string, timeout: number): Promise<unknown> {
    if (!endpoint.digest) return send(endpoint, path, body, timeout);
    const run = endpoint.queue.then(() => send(endpoint, path, body, timeout));
    // The pause lets fetch hand the finished connection back to its pool before the next request picks one.
    endpoint.queue = run.catch(() => undefined).then(nextMacrotask);
    return run;
  }

  async function send(endpoint: Endpoint, path: string, body: string, timeout: number): Promise<unknown> {
    const url = endpoint.base + path;
    const uri = new URL(url).pathname;
    for (let round = 0; ; round++) {
      const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
      const authorization = endpoint.digest?.authorize("POST", uri);
      if (authorization) headers.authorization = authorization;
      let response: Response;
      try {
        response = await doFetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeout) });
      } catch (error) {
        throw new TransientError(`${url}: ${describeFetchError(error, timeout)}`, { cause: error });
      }
      if (response.status === 401) {
        await discardBody(response);
        if (!endpoint.digest) throw new TransientError(`${url}: HTTP 401, the node wants credentials and none are configured`);
        const challenge = endpoint.digest.challenge(response.headers.get("www-authenticate"));
        if (!challenge) throw new TransientError(`${url}: HTTP 401 without a usable Digest challenge`);
        if (authorization && !challenge.stale) throw new TransientError(`${url}: HTTP 401, credentials rejected`);
        if (round + 1 >= MAX_AUTH_ROUNDS) throw new TransientError(`${url}: HTTP 401, digest handshake did not settle`);
        // Let fetch return the connection to its pool first; an immediate resend opens a new connection,
        // whose fresh server-side session rejects the nonce just received.
        await nextMacrotask();
        continue;
      }
      if (!response.ok) {
        await discardBody(response);
        const message = `${url}: HTTP ${response.status}`;
        const transient = response.status >= 500 || response.status === 408 || response.status === 429;
        throw transient ? new TransientError(message) : new DaemonError(message);
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw new TransientError(`${url}: ${describeFetchError(error, timeout)} while reading the body`, { cause: error });
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new TransientError(`${url}: malformed JSON (${JSON.stringify(text.slice(0, 80))})`);
      }
    }
  }

  /** The network check: records what the node says it serves, and skips it when that is another network. */
  function judgeNetwork(endpoint: Endpoint, nettype: string): void {
    endpoint.nettype = nettype;
    if (opts.network && !acceptsNettype(opts.network, nettype)) throw new NodeOnWrongNetwork(endpoint.base);
  }

  /** Before a node's first use: asks it which network it serves (once; `getInfo` asks again every time). */
  async function checkNetwork(endpoint: Endpoint, timeout: number): Promise<void> {
    if (!opts.network) return;
    if (endpoint.nettype === null) {
      const info = readInfo(await postOnce(endpoint, "/json_rpc", GET_INFO_BODY, timeout), `${endpoint.base}/json_rpc`);
      endpoint.nettype = info.nettype;
    }
    judgeNetwork(endpoint, endpoint.nettype);
  }

  /**
   * One logical call: tries every URL in turn, `retries` extra rounds with backoff between rounds, all
   * within `callBudgetMs`. With `prefer`, a node whose answer is not fit is passed over for the next;
   * when no node's answer is fit, the best ranked one is taken.
   */
  async function call<T>(path: string, payload: unknown, read: (json: unknown, where: string) => T, how: CallOptions<T> = {}): Promise<T> {
    const body = JSON.stringify(payload);
    const n = endpoints.length;
    const deadline = Date.now() + callBudgetMs;
    let attempts = 0;
    let lastError: unknown;
    const giveUp = () => {
      const last = lastError instanceof Error ? lastError.message : String(lastError);
      return new DaemonError(`monerod ${path}: gave up after ${callBudgetMs} ms (${attempts} attempt(s) on ${n} node(s)); last: ${last}`, { cause: lastError });
    };
    for (let round = 0; round <= retries; round++) {
      if (round > 0) {
        const pause = Math.min(backoffMs(round - 1), deadline - Date.now());
        if (pause <= 0) throw giveUp();
        await sleep(pause);
      }
      const wrongNetwork: Endpoint[] = [];
      let best: { value: T; index: number } | null = null;
      for (let k = 0; k < n; k++) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw giveUp();
        const index = (preferred + k) % n;
        const endpoint = endpoints[index]!;
        current = index;
        try {
          const timeout = Math.min(timeoutMs, remaining);
          if (!how.reportsNetwork) await checkNetwork(endpoint, timeout);
          attempts++;
          const value = read(await postOnce(endpoint, path, body, timeout), endpoint.base + path);
          if (how.reportsNetwork) judgeNetwork(endpoint, how.reportsNetwork(value));
          if (how.prefer && !how.prefer.fit(value)) {
            if (!best || how.prefer.rank(value) > how.prefer.rank(best.value)) best = { value, index };
            continue;
          }
          preferred = index;
          return value;
        } catch (error) {
          if (error instanceof NodeOnWrongNetwork) {
            wrongNetwork.push(endpoint);
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
      // Every node serves another network: asking again will not change that within this call.
      const first = wrongNetwork[0];
      if (first && wrongNetwork.length === n) throw new WrongNetworkError(first.nettype ?? "?", opts.network ?? "?", first.base);
    }
    const last = lastError instanceof Error ? lastError.message : String(lastError);
    throw new DaemonError(`monerod ${path}: failed ${attempts} attempt(s) on ${n} node(s); last: ${last}`, {
      cause: lastError,
    });
  }

  function jsonRpc<T>(method: string, params: unknown, read: (result: Record<string, unknown>, where: string) => T, how?: CallOptions<T>): Promise<T> {
    return call("/json_rpc", { jsonrpc: "2.0", id: "0", method, params }, jsonRpcReader(method, read), how);
  }

  function otherPath<T>(path: string, payload: unknown, read: (json: Record<string, unknown>, where: string) => T): Promise<T> {
    return call(path, payload, (json, where) => {
      const body = asObject(json, where);
      checkStatus(body.status, where);
      return read(body, where);
    });
  }

  return {
    /** Base URL (no credentials) of the node asked last. */
    node(): string {
      return endpoints[current]!.base;
    },

    /**
     * The node's block count and top, its network, and whether it says it is still syncing. With
     * several nodes, the first (preferred first) that is in sync with a top at or above `atLeast`;
     * when none is, the best of the others (in sync before syncing, then the highest), for the
     * caller to judge.
     */
    async getInfo(opts?: { atLeast?: number }): Promise<DaemonInfo> {
      const atLeast = opts?.atLeast ?? -1;
      const inSync = (info: DaemonInfo) => info.synchronized && !info.busySyncing;
      return jsonRpc("get_info", {}, readInfoResult, {
        reportsNetwork: (info) => info.nettype,
        prefer: { fit: (info) => inSync(info) && info.height - 1 >= atLeast, rank: (info) => (inSync(info) ? 2 ** 40 : 0) + info.height },
      });
    },

    async getBlockHeaderByHeight(height: number): Promise<BlockHeader> {
      assertHeight(height);
      return jsonRpc("get_block_header_by_height", { height }, (r, where) =>
        readHeader(r.block_header, height, `${where} block_header`),
      );
    },

    async getBlock(height: number): Promise<DaemonBlock> {
      assertHeight(height);
      return jsonRpc("get_block", { height }, (r, where) => {
        const header = readHeader(r.block_header, height, `${where} block_header`);
        const minerTxHash = asHash(r.miner_tx_hash, `${where} miner_tx_hash`);
        const txHashes = asHashList(r.tx_hashes, `${where} tx_hashes`);
        const block = asObject(parseJsonString(r.json, `${where} json`), `${where} json`);
        const jsonTxHashes = asHashList(block.tx_hashes, `${where} json.tx_hashes`);
        if (jsonTxHashes.join() !== txHashes.join()) throw new TransientError(`${where}: tx_hashes disagree with json`);
        if (block.prev_id !== header.prevHash) throw new TransientError(`${where}: json.prev_id disagrees with prev_hash`);
        const minerTxJson = asObject(block.miner_tx, `${where} json.miner_tx`);
        return { ...header, minerTxHash, txHashes, minerTxJson };
      });
    },

    async getTransactions(hashes: string[]): Promise<{ txs: DaemonTx[]; missed: string[] }> {
      for (const hash of hashes) {
        if (!isHash(hash)) throw new TypeError(`monerod getTransactions: not a 64-char lowercase hex hash: ${hash}`);
      }
      const unique = [...new Set(hashes)];
      const txs: DaemonTx[] = [];
      const missed: string[] = [];
      // Sequential on purpose: a public node rate-limits, and the watcher bounds its work per tick anyway.
      for (let i = 0; i < unique.length; i += MAX_TXS_PER_REQUEST) {
        const chunk = unique.slice(i, i + MAX_TXS_PER_REQUEST);
        const part = await otherPath(
          "/get_transactions",
          { txs_hashes: chunk, decode_as_json: true, prune: true },
          (r, where) => readTransactions(r, chunk, where),
        );
        txs.push(...part.txs);
        missed.push(...part.missed);
      }
      return { txs, missed };
    },

    async getPoolHashes(): Promise<string[]> {
      return otherPath("/get_transaction_pool_hashes", {}, (r, where) => asHashList(r.tx_hashes, `${where} tx_hashes`));
    },
  };
}

export type MoneroDaemon = ReturnType<typeof createMoneroDaemon>;

function toEndpoint(raw: string, user: string | undefined, pass: string | undefined): Endpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`monerod: not a URL: ${raw}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`monerod: not an http(s) URL: ${raw}`);
  // fetch() refuses URLs with userinfo, so credentials move from the URL into the digest session.
  const urlUser = decodeURIComponent(url.username);
  const urlPass = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  const credentials = urlUser ? { user: urlUser, pass: urlPass } : user !== undefined ? { user, pass: pass ?? "" } : null;
  return {
    base: url.href.replace(/\/+$/, ""),
    digest: credentials ? createDigestSession(credentials) : null,
    queue: Promise.resolve(),
    nettype: null,
  };
}

/** Checks a JSON-RPC envelope (error, result, status) and reads its result. */
function jsonRpcReader<T>(method: string, read: (result: Record<string, unknown>, where: string) => T) {
  return (json: unknown, endpointPath: string): T => {
    const where = `${endpointPath} ${method}`;
    const envelope = asObject(json, where);
    if (envelope.error !== undefined) {
      const error = asObject(envelope.error, `${where} error`);
      const code = typeof error.code === "number" ? error.code : undefined;
      const message = `${where}: ${typeof error.message === "string" ? error.message : "error"} (code ${code ?? "?"})`;
      if (code === RPC_CODE_BUSY) throw new TransientError(message);
      throw new DaemonError(message, code === undefined ? undefined : { code });
    }
    const result = asObject(envelope.result, `${where} result`);
    // Most JSON-RPC methods also carry a status; when present it has the same meaning as on the other paths.
    if (result.status !== undefined) checkStatus(result.status, where);
    return read(result, where);
  };
}

const GET_INFO_BODY = JSON.stringify({ jsonrpc: "2.0", id: "0", method: "get_info", params: {} });

function readInfoResult(r: Record<string, unknown>, where: string): DaemonInfo {
  const height = asHeight(r.height, `${where} height`);
  if (height < 1) throw new TransientError(`${where}: block count ${height} < 1`);
  return {
    height,
    topBlockHash: asHash(r.top_block_hash, `${where} top_block_hash`),
    restricted: optionalBoolean(r.restricted, false, `${where} restricted`),
    nettype: asString(r.nettype, `${where} nettype`),
    // Absent on nodes that do not report it: no claim either way, so not taken as syncing.
    synchronized: optionalBoolean(r.synchronized, true, `${where} synchronized`),
    busySyncing: optionalBoolean(r.busy_syncing, false, `${where} busy_syncing`),
  };
}

const readInfo = jsonRpcReader("get_info", readInfoResult);

function readHeader(value: unknown, height: number, where: string): BlockHeader {
  const h = asObject(value, where);
  const got = asHeight(h.height, `${where}.height`);
  if (got !== height) throw new TransientError(`${where}: asked for height ${height}, got ${got}`);
  return {
    height,
    hash: asHash(h.hash, `${where}.hash`),
    prevHash: asHash(h.prev_hash, `${where}.prev_hash`),
    timestamp: asHeight(h.timestamp, `${where}.timestamp`),
  };
}

function readTransactions(r: Record<string, unknown>, requested: string[], where: string): { txs: DaemonTx[]; missed: string[] } {
  const entries = r.txs === undefined ? [] : asArray(r.txs, `${where} txs`);
  const missed = asHashList(r.missed_tx, `${where} missed_tx`);
  const txs = entries.map((entry, i): DaemonTx => {
    const at = `${where} txs[${i}]`;
    const t = asObject(entry, at);
    const inPool = asBoolean(t.in_pool, `${at}.in_pool`);
    return {
      hash: asHash(t.tx_hash, `${at}.tx_hash`),
      json: asObject(parseJsonString(t.as_json, `${at}.as_json`), `${at}.as_json`),
      inPool,
      blockHeight: inPool ? null : asHeight(t.block_height, `${at}.block_height`),
      doubleSpendSeen: t.double_spend_seen === undefined ? false : asBoolean(t.double_spend_seen, `${at}.double_spend_seen`),
    };
  });
  // Every requested hash must come back exactly once, as a tx or as missed, or the answer is not for this request.
  const answered = [...txs.map((t) => t.hash), ...missed];
  const wanted = new Set(requested);
  if (answered.length !== wanted.size || answered.some((h) => !wanted.delete(h))) {
    throw new TransientError(`${where}: answer does not match the ${requested.length} requested hash(es)`);
  }
  return { txs, missed };
}

function checkStatus(status: unknown, where: string): void {
  if (status === "OK") return;
  if (status === STATUS_BUSY) throw new TransientError(`${where}: node busy`);
  if (typeof status !== "string") throw new TransientError(`${where}: no status`);
  throw new DaemonError(`${where}: ${status}`);
}

function backoffMs(round: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** round);
  // Half fixed, half jitter: keeps retries from several watchers from arriving in lockstep.
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function discardBody(response: Response): Promise<void> {
  // Reading the body (rather than dropping it) hands the keep-alive connection back for the retry.
  try {
    await response.arrayBuffer();
  } catch {
    // The status is what matters here.
  }
}

function assertHeight(height: number): void {
  if (!Number.isSafeInteger(height) || height < 0) throw new TypeError(`monerod: bad block height ${height}`);
}

// monerod omits empty arrays, so absence means [].
function asHashList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  return asArray(value, where).map((h, i) => asHash(h, `${where}[${i}]`));
}

function asHeight(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new TransientError(`${where}: not a non-negative integer`);
  }
  return value;
}

function optionalBoolean(value: unknown, absent: boolean, where: string): boolean {
  return value === undefined ? absent : asBoolean(value, where);
}

function parseJsonString(value: unknown, where: string): unknown {
  if (typeof value !== "string") throw new TransientError(`${where}: not a JSON string`);
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new TransientError(`${where}: malformed JSON`);
  }
}
