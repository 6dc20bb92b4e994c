// Starts a private Litecoin regtest node (litecoind 0.21, a Bitcoin Core 0.21 fork) for tests of the UTXO
// chain family, with a payer wallet holding mature coins; stop() ends exactly the process it started.
import { randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports";
import { launch, removeTempDir, stopProcess, trackTempDir, waitUntilAnswering, type Launched } from "./processes";

// Coinbase maturity is 100: 120 blocks leave 20 spendable coinbases (1000 LTC), see shared/notes/utxo-regtest.md.
const PREMINE_BLOCKS = 120;
const READY_TIMEOUT_MS = 30_000;
// `stop` takes ~0.15 s here once no idle HTTP connection holds it up; well past the grace, the process is stuck.
const STOP_GRACE_MS = 15_000;
const RPC_TIMEOUT_MS = 30_000;
const SATOSHIS_PER_COIN = 100_000_000n;

export interface LitecoinRegtestOptions {
  /** Parent of the run's temp datadir (default: the OS temp dir); the datadir is removed on stop. */
  dir?: string;
  /** Keep a full tx index (default false: what a watcher must cope with on a pruned or plain node). */
  txindex?: boolean;
}

export interface LitecoinRegtest {
  /** RPC base URL without credentials. */
  url: string;
  user: string;
  pass: string;
  /** `http://user:pass@127.0.0.1:port`: the form a node setting takes. */
  urlWithCredentials: string;
  /** Temp datadir (litecoin.conf, regtest/debug.log). */
  dir: string;
  /** A node-level RPC (no wallet). */
  rpc(method: string, ...params: unknown[]): Promise<unknown>;
  /** An RPC to the payer wallet. */
  payer(method: string, ...params: unknown[]): Promise<unknown>;
  /** Pays `satoshis` to `address` from the payer wallet; returns the txid (in the mempool on return). */
  send(address: string, satoshis: bigint, opts?: { replaceable?: boolean }): Promise<string>;
  /** Mines n blocks to a fresh payer address (never the same one twice: see the notes' reorg trap); returns their hashes. */
  mine(n: number): Promise<string[]>;
  invalidateBlock(hash: string): Promise<void>;
  reconsiderBlock(hash: string): Promise<void>;
  /** Replaces a BIP125-signalling payer tx with a higher-fee one; returns the new txid. */
  bumpFee(txid: string): Promise<string>;
  stop(): Promise<void>;
}

export class RegtestRpcError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
    this.name = "RegtestRpcError";
  }
}

/** "0.00012345" for 12345n: amounts go to the node as decimal strings, never through a double. */
export function satoshisToCoins(satoshis: bigint): string {
  if (satoshis < 0n) throw new RangeError(`negative amount ${satoshis}`);
  return `${satoshis / SATOSHIS_PER_COIN}.${(satoshis % SATOSHIS_PER_COIN).toString().padStart(8, "0")}`;
}

export async function startLitecoinRegtest(opts: LitecoinRegtestOptions = {}): Promise<LitecoinRegtest> {
  const port = await freePort();
  const user = "edgepay";
  const pass = randomBytes(16).toString("hex");
  const url = `http://127.0.0.1:${port}/`;
  const dir = await mkdtemp(join(opts.dir ?? tmpdir(), "litecoin-regtest-"));
  trackTempDir(dir);
  const authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  const rpcAt = (path: string, method: string, params: unknown[], timeoutMs = RPC_TIMEOUT_MS) =>
    jsonRpc(`http://127.0.0.1:${port}${path}`, authorization, method, params, timeoutMs);
  const rpc = (method: string, ...params: unknown[]) => rpcAt("/", method, params);
  const payer = (method: string, ...params: unknown[]) => rpcAt("/wallet/payer", method, params);

  let node: Launched | null = null;
  try {
    // The settings regtest needs (shared/notes/utxo-regtest.md): MWEB never activates (block 432 would need a
    // peg-in), opt-in RBF on (Litecoin 0.21 defaults to rejecting every replacement), a fallback fee.
    await writeFile(
      join(dir, "litecoin.conf"),
      [
        "regtest=1", "server=1", `txindex=${opts.txindex ? 1 : 0}`, "fallbackfee=0.0002", "mempoolreplacement=1",
        "listen=0", "dnsseed=0", "discover=0", "upnp=0", "listenonion=0", "keypool=20", "printtoconsole=0",
        `rpcuser=${user}`, `rpcpassword=${pass}`,
        "[regtest]", "rpcbind=127.0.0.1", "rpcallowip=127.0.0.1", `rpcport=${port}`, "vbparams=mweb:-2:0", "",
      ].join("\n"),
    );
    // Not -daemon: then the child PID is litecoind's own (the Debian wrapper execs it), and stop() can wait on it.
    node = launch("litecoind", [`-datadir=${dir}`], join(dir, "stdout.log"), join(dir, "regtest", "debug.log"));
    await waitUntilAnswering(node, () => rpcAt("/", "getblockcount", [], 1_000), READY_TIMEOUT_MS);
    await rpc("createwallet", "payer");
  } catch (error) {
    if (node) await stopProcess(node, STOP_GRACE_MS, () => rpc("stop"));
    await removeTempDir(dir);
    throw error;
  }

  async function mine(n: number): Promise<string[]> {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`mine: bad block count ${n}`);
    const address = await payer("getnewaddress", "", "bech32");
    return asStrings(await rpc("generatetoaddress", n, address), "generatetoaddress");
  }

  const launched = node;
  let stopped: Promise<void> | null = null;
  const chain: LitecoinRegtest = {
    url,
    user,
    pass,
    urlWithCredentials: `http://${user}:${pass}@127.0.0.1:${port}/`,
    dir,
    rpc,
    payer,
    mine,
    async send(address, satoshis, sendOpts = {}) {
      const txid = await payer("sendtoaddress", address, satoshisToCoins(satoshis), "", "", false, sendOpts.replaceable ?? false);
      return asString(txid, "sendtoaddress");
    },
    async invalidateBlock(hash) {
      await rpc("invalidateblock", hash);
    },
    async reconsiderBlock(hash) {
      await rpc("reconsiderblock", hash);
    },
    async bumpFee(txid) {
      const result = (await payer("bumpfee", txid)) as { txid?: unknown; errors?: unknown };
      if (Array.isArray(result.errors) && result.errors.length > 0) throw new Error(`bumpfee ${txid}: ${result.errors.join("; ")}`);
      return asString(result.txid, "bumpfee txid");
    },
    stop() {
      // The `stop` RPC, then wait for this very process to exit (SIGKILL after the grace period).
      stopped ??= (async () => {
        await stopProcess(launched, STOP_GRACE_MS, () => rpc("stop"));
        await removeTempDir(dir);
      })();
      return stopped;
    },
  };

  try {
    await mine(PREMINE_BLOCKS);
  } catch (error) {
    await chain.stop();
    throw error;
  }
  return chain;
}

async function jsonRpc(url: string, authorization: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    // litecoind's shutdown waits for idle keep-alive connections to close (Node's fetch pool keeps them 4 s):
    // stop() takes ~4 s with them, ~0.15 s without.
    headers: { "content-type": "application/json", authorization, connection: "close" },
    body: JSON.stringify({ jsonrpc: "1.0", id: method, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let body: { result?: unknown; error?: { code?: number; message?: string } | null };
  try {
    body = JSON.parse(text);
  } catch {
    throw new RegtestRpcError(`${method}: HTTP ${response.status}, ${JSON.stringify(text.slice(0, 200))}`, undefined);
  }
  if (body.error) throw new RegtestRpcError(`${method}: ${body.error.message ?? "error"} (code ${body.error.code ?? "?"})`, body.error.code);
  return body.result;
}

function asString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new Error(`${what}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

function asStrings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw new Error(`${what}: expected strings, got ${JSON.stringify(value)}`);
  return value;
}
