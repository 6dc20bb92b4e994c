// Starts a private Monero regtest chain for end-to-end tests: monerod (full + restricted RPC port) and
// monero-wallet-rpc with a funded payer wallet; stop() ends exactly the processes it started.
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDigestSession, type DigestSession } from "../../../src/chains/xmr/digest-auth";
import { freePort } from "./ports";
import { delay, launch, removeTempDir, stopProcess, trackTempDir, waitUntilAnswering, type Launched } from "./processes";

/**
 * Throw-away payer wallet, generated offline once with monero-wallet-rpc 0.18.0.0 (`create_wallet`,
 * `query_key`, `get_address`). Regtest uses mainnet address prefixes. Test keys only: never fund on mainnet.
 * Fixed keys let mining to the payer start before the wallet exists, overlapping with the slow restore.
 */
export const PAYER_WALLET = {
  address: "41yNCiWcq6UfKRKovSRdawcH7NVCQoR2iJNEjFHBBLrNWwvufz7ECq1NKLRACAtQubVjZ9V8Vsm4t153JgEeVKWmAU5KPKU",
  privateSpendKey: "9cbbdb38aa3866c6f7c6fe1557d8c7e0e0e566431a39f9a987d828971e8e250d",
  privateViewKey: "b04a275de7a7d2bc57cbb1da580ea33c09108495a09f683c99c0968d0191a604",
} as const;

/** 60-block coinbase lock + 16-member rings: 120 blocks leave ~60 spendable outputs (about 30 transfers). */
const PREMINE_BLOCKS = 120;
const MINE_CHUNK = 30;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 30_000;
const RPC_TIMEOUT_MS = 60_000;
const TRANSFER_ATTEMPTS = 5;
const PUBLIC_TX_TIMEOUT_MS = 10_000;

export interface MoneroRegtestOptions {
  /** Parent directory of the run's temp dir (default: the OS temp dir); the temp dir is removed on stop. */
  dir?: string;
  /** "user:pass": monerod requires HTTP digest auth on both its ports (wallet-rpc is given the login too). */
  rpcLogin?: string;
  /** false: monerod only (no wallet-rpc, no premine); walletUrl is "" and transfer() throws. Default true. */
  wallet?: boolean;
}

export interface MoneroRegtest {
  /** Unrestricted RPC (mining, pop_blocks, flush_txpool). */
  fullUrl: string;
  /** Restricted RPC (public remote node rules): what the service under test uses. */
  restrictedUrl: string;
  /** monero-wallet-rpc with the payer wallet open. */
  walletUrl: string;
  payerAddress: string;
  /** Temp dir holding the data dirs and logs. */
  dir: string;
  /** Mines to the payer unless told otherwise; returns the new block count. */
  mine(blocks: number, toAddress?: string): Promise<number>;
  /** Sends from the payer wallet; resolves once the tx is in the pool as the restricted port shows it. */
  transfer(destinations: { address: string; amount: bigint }[]): Promise<{ txHash: string; fee: bigint }>;
  popBlocks(n: number): Promise<void>;
  flushTxpool(txids?: string[]): Promise<void>;
  /** Block count (top height + 1). */
  height(): Promise<number>;
  stop(): Promise<void>;
}

export class RpcError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

export async function startMoneroRegtest(opts: MoneroRegtestOptions = {}): Promise<MoneroRegtest> {
  const withWallet = opts.wallet ?? true;
  const credentials = opts.rpcLogin ? splitLogin(opts.rpcLogin) : null;
  const [p2pPort, fullPort, restrictedPort, walletPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const fullUrl = `http://127.0.0.1:${fullPort}`;
  const restrictedUrl = `http://127.0.0.1:${restrictedPort}`;
  const walletUrl = withWallet ? `http://127.0.0.1:${walletPort}` : "";
  const fullAuth = credentials ? createDigestSession(credentials) : null;
  const restrictedAuth = credentials ? createDigestSession(credentials) : null;
  const dir = await mkdtemp(join(opts.dir ?? tmpdir(), "monero-regtest-"));
  const processes = new ProcessGroup(dir);

  const daemonRpc = (method: string, params: unknown = {}) => jsonRpc(fullUrl, method, params, fullAuth);
  const walletRpc = (method: string, params: unknown = {}) => jsonRpc(walletUrl, method, params, null);

  async function mine(blocks: number, toAddress: string = PAYER_WALLET.address): Promise<number> {
    if (!Number.isSafeInteger(blocks) || blocks < 1) throw new RangeError(`mine: bad block count ${blocks}`);
    let count = 0;
    for (let left = blocks; left > 0; left -= MINE_CHUNK) {
      const amount = Math.min(left, MINE_CHUNK);
      const result = await daemonRpc("generateblocks", { amount_of_blocks: amount, wallet_address: toAddress });
      // `height` is the height of the last new block.
      count = asInt(result.height, "generateblocks height") + 1;
    }
    return count;
  }

  // A tx sent through the full port is "local" and hidden from the restricted port until monerod fluffs it,
  // a few ms later; waiting here means the service under test can see every tx transfer() returns.
  async function waitUntilPublic(txHash: string): Promise<void> {
    const deadline = Date.now() + PUBLIC_TX_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const pool = await postJson(restrictedUrl, "/get_transaction_pool_hashes", {}, restrictedAuth);
      if (Array.isArray(pool.tx_hashes) && pool.tx_hashes.includes(txHash)) return;
      await delay(20);
    }
    throw new Error(`transfer: ${txHash} did not show up on the restricted port within ${PUBLIC_TX_TIMEOUT_MS} ms`);
  }

  try {
    const daemonLog = join(dir, "monerod.log");
    const daemon = processes.launch("monerod", [
      "--regtest", "--offline", "--fixed-difficulty", "1", "--non-interactive",
      "--data-dir", join(dir, "monerod"),
      "--log-file", daemonLog, "--log-level", "0", "--max-log-files", "2",
      "--p2p-bind-ip", "127.0.0.1", "--p2p-bind-port", String(p2pPort), "--no-igd", "--hide-my-port",
      "--rpc-bind-ip", "127.0.0.1", "--rpc-bind-port", String(fullPort),
      "--rpc-restricted-bind-ip", "127.0.0.1", "--rpc-restricted-bind-port", String(restrictedPort),
      // Without this monerod spends ~10 s generating RSA certificates at start.
      "--rpc-ssl", "disabled",
      "--no-zmq", "--disable-dns-checkpoints", "--check-updates", "disabled",
      ...(opts.rpcLogin ? ["--rpc-login", opts.rpcLogin] : []),
    ], join(dir, "monerod.stdout.log"), daemonLog);

    let wallet: Launched | null = null;
    if (withWallet) {
      await mkdir(join(dir, "wallets"));
      const walletLog = join(dir, "wallet-rpc.log");
      // Started together with monerod: it waits for the daemon by itself, and its own start takes ~1 s.
      wallet = processes.launch("monero-wallet-rpc", [
        "--daemon-address", `127.0.0.1:${fullPort}`, "--trusted-daemon", "--daemon-ssl", "disabled",
        ...(opts.rpcLogin ? ["--daemon-login", opts.rpcLogin] : []),
        "--rpc-bind-ip", "127.0.0.1", "--rpc-bind-port", String(walletPort), "--disable-rpc-login", "--rpc-ssl", "disabled",
        "--wallet-dir", join(dir, "wallets"), "--shared-ringdb-dir", join(dir, "ringdb"), "--non-interactive",
        "--log-file", walletLog, "--log-level", "0", "--max-log-files", "2",
      ], join(dir, "wallet-rpc.stdout.log"), walletLog);
    }

    await Promise.all([
      waitUntilAnswering(daemon, () => jsonRpc(fullUrl, "get_block_count", {}, fullAuth, 1_000), READY_TIMEOUT_MS),
      waitUntilAnswering(daemon, () => jsonRpc(restrictedUrl, "get_block_count", {}, restrictedAuth, 1_000), READY_TIMEOUT_MS),
    ]);

    if (wallet) {
      const payerWallet = wallet;
      // Restoring costs 0.5-11 s (an RSA certificate per wallet open), so it runs while the premine runs.
      await Promise.all([
        mine(PREMINE_BLOCKS),
        (async () => {
          await waitUntilAnswering(payerWallet, () => jsonRpc(walletUrl, "get_version", {}, null, 1_000), READY_TIMEOUT_MS);
          await walletRpc("generate_from_keys", {
            filename: "payer",
            address: PAYER_WALLET.address,
            spendkey: PAYER_WALLET.privateSpendKey,
            viewkey: PAYER_WALLET.privateViewKey,
            password: "",
            restore_height: 0,
          });
        })(),
      ]);
      await walletRpc("refresh");
    }
  } catch (error) {
    await processes.stopAll();
    throw error;
  }

  let stopped: Promise<void> | null = null;
  return {
    fullUrl,
    restrictedUrl,
    walletUrl,
    payerAddress: PAYER_WALLET.address,
    dir,
    mine,

    async transfer(destinations) {
      if (!withWallet) throw new Error("transfer: this regtest was started with wallet: false");
      let result: Record<string, unknown>;
      for (let attempt = 1; ; attempt++) {
        try {
          await walletRpc("refresh");
          result = await walletRpc("transfer", { destinations, priority: 0, get_tx_key: true });
          break;
        } catch (error) {
          // Right after mining, the wallet may not have seen the unlock yet; a short wait and a refresh fix that.
          const transient = error instanceof RpcError && /not enough|busy|no connection|daemon/i.test(error.message);
          if (!transient || attempt >= TRANSFER_ATTEMPTS) throw error;
          await delay(300 * attempt);
        }
      }
      const txHash = asHash(result.tx_hash, "transfer tx_hash");
      await waitUntilPublic(txHash);
      return { txHash, fee: BigInt(asInt(result.fee, "transfer fee")) };
    },

    async popBlocks(n) {
      if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`popBlocks: bad count ${n}`);
      await postJson(fullUrl, "/pop_blocks", { nblocks: n }, fullAuth);
    },

    async flushTxpool(txids) {
      await daemonRpc("flush_txpool", txids ? { txids } : {});
    },

    async height() {
      return asInt((await daemonRpc("get_block_count")).count, "get_block_count count");
    },

    stop() {
      stopped ??= processes.stopAll();
      return stopped;
    },
  };
}

/** The processes one harness spawned, and its temp dir (see processes.ts for the reaper behind both). */
class ProcessGroup {
  private readonly launched: Launched[] = [];

  constructor(private readonly dir: string) {
    trackTempDir(dir);
  }

  launch(command: string, args: string[], stdoutPath: string, logPath: string): Launched {
    const p = launch(command, args, stdoutPath, logPath);
    this.launched.push(p);
    return p;
  }

  /** Stops its processes (SIGTERM, then SIGKILL after the grace period) and removes the temp dir. */
  async stopAll(): Promise<void> {
    await Promise.all(this.launched.map((p) => stopProcess(p, STOP_GRACE_MS)));
    await removeTempDir(this.dir);
  }
}

async function jsonRpc(
  url: string,
  method: string,
  params: unknown,
  auth: DigestSession | null,
  timeoutMs = RPC_TIMEOUT_MS,
): Promise<Record<string, unknown>> {
  const body = await postJson(url, "/json_rpc", { jsonrpc: "2.0", id: "0", method, params }, auth, timeoutMs);
  if (body.error !== undefined) {
    const error = asObject(body.error, `${method} error`);
    const code = typeof error.code === "number" ? error.code : undefined;
    throw new RpcError(`${method}: ${String(error.message)} (code ${code ?? "?"})`, code);
  }
  return asObject(body.result, `${method} result`);
}

const authQueues = new WeakMap<DigestSession, Promise<unknown>>();

// monerod keeps the digest nonce and count per connection: one request at a time per session, with a
// macrotask between them so fetch reuses the same keep-alive connection (as src/chains/xmr/daemon.ts does).
function postJson(
  url: string,
  path: string,
  payload: unknown,
  auth: DigestSession | null,
  timeoutMs = RPC_TIMEOUT_MS,
): Promise<Record<string, unknown>> {
  if (!auth) return postJsonNow(url, path, payload, null, timeoutMs);
  const run = (authQueues.get(auth) ?? Promise.resolve()).then(() => postJsonNow(url, path, payload, auth, timeoutMs));
  authQueues.set(auth, run.catch(() => undefined).then(() => delay(0)));
  return run;
}

async function postJsonNow(
  url: string,
  path: string,
  payload: unknown,
  auth: DigestSession | null,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const body = toJson(payload);
  for (let round = 0; round < 3; round++) {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const authorization = auth?.authorize("POST", path);
    if (authorization) headers.authorization = authorization;
    const response = await fetch(url + path, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    if (response.status === 401 && auth?.challenge(response.headers.get("www-authenticate"))) {
      await delay(0);
      continue;
    }
    if (!response.ok) throw new RpcError(`${url}${path}: HTTP ${response.status}`, undefined);
    const parsed = asObject(JSON.parse(text), `${path} response`);
    if (path !== "/json_rpc" && parsed.status !== "OK") {
      throw new RpcError(`${url}${path}: ${String(parsed.status)}`, undefined);
    }
    return parsed;
  }
  throw new RpcError(`${url}${path}: digest authentication failed`, undefined);
}

// Amounts are bigint; JSON.stringify cannot write them, and a float would lose atomic units.
function toJson(value: unknown): string {
  const marker = "\u0000bigint:";
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${marker}${v}` : v)).replace(
    /"\\u0000bigint:(-?\d+)"/g,
    "$1",
  );
}

function splitLogin(login: string): { user: string; pass: string } {
  const colon = login.indexOf(":");
  if (colon < 1) throw new Error(`rpcLogin must be "user:pass"`);
  return { user: login.slice(0, colon), pass: login.slice(colon + 1) };
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${what}: not an object`);
  return value as Record<string, unknown>;
}

function asInt(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new Error(`${what}: not an integer: ${String(value)}`);
  return value;
}

function asHash(value: unknown, what: string): string {
  if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) throw new Error(`${what}: not a hash: ${String(value)}`);
  return value;
}
