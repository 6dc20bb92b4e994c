// Starts a local EVM node (anvil 1.7.1 from npm) with mining off, for tests of the EVM chain module: dev accounts,
// pending sends, mining, drops and reorgs on request, and the test contracts; stop() ends exactly the process it started.
import { mkdtemp, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeDeployData,
  encodeFunctionData,
  getAddress,
  http,
  type Abi,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  type HttpTransport,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import batchPayoutArtifact from "./contracts/BatchPayout.json";
import testTokenArtifact from "./contracts/TestToken.json";
import { freePort } from "./ports";
import { launch, removeTempDir, stopProcess, trackTempDir, waitUntilAnswering, type Launched } from "./processes";

/** Public test mnemonic (anvil's and hardhat's default): account #0 is 0xf39F…2266. Never for real funds. */
export const TEST_MNEMONIC = "test test test test test test test test test test test junk";
const DEFAULT_CHAIN_ID = 31337;
const ACCOUNT_COUNT = 10;
const BALANCE_ETH = 10_000;
// anvil answers in 85-120 ms here (shared/notes/evm-node.md); a 2-core machine under load gets plenty of slack.
const READY_TIMEOUT_MS = 30_000;
// SIGTERM ends it in ~0.2 s.
const STOP_GRACE_MS = 5_000;
const RPC_TIMEOUT_MS = 30_000;

/** The platform packages the wrapper lists as optional dependencies; spawning one directly needs no install script. */
const PLATFORM_PACKAGES: Record<string, string> = {
  "linux-x64": "@foundry-rs/anvil-linux-amd64",
  "linux-arm64": "@foundry-rs/anvil-linux-arm64",
  "darwin-x64": "@foundry-rs/anvil-darwin-amd64",
  "darwin-arm64": "@foundry-rs/anvil-darwin-arm64",
};

export interface AnvilOptions {
  /** eth_chainId of the node (default 31337). */
  chainId?: number;
}

export interface DevAccount {
  /** EIP-55 checksummed. */
  address: Address;
  privateKey: Hex;
}

/** A tx to place in the new blocks of a reorg: an existing tx by hash (it keeps its hash) or a signed raw tx. */
export type ReorgTx = { hash: Hash; blockOffset: number } | { raw: Hex; blockOffset: number };

export interface Anvil {
  /** HTTP JSON-RPC URL; WebSocket is the same port (`wsUrl`). */
  url: string;
  wsUrl: string;
  chainId: number;
  /** Temp dir with anvil.log and anvil-config.json; removed on stop. */
  dir: string;
  pid: number;
  /** A viem client with `cacheTime: 0`, so a block number is never a stale cached one after mining. */
  client: PublicClient<HttpTransport, Chain>;
  /** The dev accounts from --config-out, each funded with 10,000 ETH. */
  accounts: readonly DevAccount[];
  /** Raw JSON-RPC; an error reply throws AnvilRpcError. */
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  /** Raw eth_call of `data` on `to`; returns the result bytes. */
  call(to: Address, data: Hex, blockTag?: string): Promise<Hex>;
  /** Pays `wei` from dev account `fromIndex`, signed here; the tx stays pending until `mine`. Returns its hash. */
  send(fromIndex: number, to: Address, wei: bigint): Promise<Hash>;
  /** Mines n blocks, taking every pending tx; returns the new head height. */
  mine(n: number): Promise<bigint>;
  /** Removes a pending tx from the pool, and with it the sender's later nonces. */
  dropTx(hash: Hash): Promise<void>;
  /** Replaces the last `depth` blocks with `depth` new ones (head height unchanged); txs of the old blocks vanish
   * unless listed in `txs`. */
  reorg(depth: number, txs?: readonly ReorgTx[]): Promise<void>;
  /** Deploys TestToken (6 decimals, the supply to account `deployerIndex`) and mines one block for it, which also
   * takes every pending tx: deploy before building a scenario. Later token calls go to this token. */
  deployToken(deployerIndex?: number): Promise<Address>;
  /** A pending TestToken.transfer from dev account `fromIndex` (it must hold tokens: the deployer does). */
  transferToken(fromIndex: number, to: Address, amount: bigint): Promise<Hash>;
  /** A pending TestToken.transferTwice: two Transfer logs in one tx. */
  transferTokenTwice(fromIndex: number, to1: Address, amount1: bigint, to2: Address, amount2: bigint): Promise<Hash>;
  /** Deploys BatchPayout and mines one block for it (as deployToken). Later payout calls go to this contract. */
  deployBatchPayout(deployerIndex?: number): Promise<Address>;
  /** A pending BatchPayout.payMany: native coin to each recipient by internal calls in one tx. */
  payMany(fromIndex: number, payments: readonly { to: Address; wei: bigint }[]): Promise<Hash>;
  /** A pending BatchPayout.forward: the tx goes to the contract, which passes `wei` on to `to` in an internal call. */
  forward(fromIndex: number, to: Address, wei: bigint): Promise<Hash>;
  stop(): Promise<void>;
}

export class AnvilRpcError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
    this.name = "AnvilRpcError";
  }
}

/** Path of the anvil binary from the platform package npm installed beside @foundry-rs/anvil. */
export function anvilBinaryPath(): string {
  const platformPackage = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (!platformPackage) throw new Error(`anvil: no @foundry-rs/anvil binary package for ${process.platform}-${process.arch}`);
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve(`${platformPackage}/package.json`)), "bin", "anvil");
}

export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const chainId = opts.chainId ?? DEFAULT_CHAIN_ID;
  if (!Number.isSafeInteger(chainId) || chainId < 1) throw new RangeError(`startAnvil: bad chain id ${chainId}`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), "anvil-"));
  trackTempDir(dir);
  const configPath = join(dir, "anvil-config.json");
  const logPath = join(dir, "anvil.log");
  const rpc = (method: string, params: unknown[] = [], timeoutMs = RPC_TIMEOUT_MS) => jsonRpc(url, method, params, timeoutMs);

  let node: Launched | null = null;
  let accounts: DevAccount[];
  try {
    const args = [
      "--host", "127.0.0.1", "--port", String(port), "--chain-id", String(chainId),
      "--mnemonic", TEST_MNEMONIC, "--accounts", String(ACCOUNT_COUNT), "--balance", String(BALANCE_ETH),
      "--color", "never", "--config-out", configPath, "--no-mining",
    ];
    // stdout and stderr both go to anvil.log, which is all the log anvil writes.
    node = launch(anvilBinaryPath(), args, logPath, logPath);
    await waitUntilAnswering(node, () => rpc("eth_chainId", [], 1_000), READY_TIMEOUT_MS);
    accounts = parseConfigAccounts(JSON.parse(await readFile(configPath, "utf8")));
  } catch (error) {
    if (node) await stopProcess(node, STOP_GRACE_MS);
    await removeTempDir(dir);
    throw error;
  }

  const chain = defineChain({
    id: chainId,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });
  const client = createPublicClient({ chain, transport: http(url), cacheTime: 0, pollingInterval: 100 });
  const wallets = accounts.map((a) =>
    createWalletClient({ account: privateKeyToAccount(a.privateKey), chain, transport: http(url), cacheTime: 0 }),
  );

  function wallet(index: number) {
    const w = wallets[index];
    if (!w) throw new RangeError(`anvil: no dev account #${index} (there are ${wallets.length})`);
    return w;
  }

  /** Signs locally and submits with eth_sendRawTransaction; the nonce counts the sender's pending txs. */
  async function submit(fromIndex: number, tx: { to?: Address; value?: bigint; data?: Hex }): Promise<Hash> {
    const w = wallet(fromIndex);
    const nonce = await client.getTransactionCount({ address: w.account.address, blockTag: "pending" });
    const request = await w.prepareTransactionRequest({ ...tx, nonce, type: "eip1559" });
    const serialized = await w.signTransaction(request);
    return (await rpc("eth_sendRawTransaction", [serialized])) as Hash;
  }

  async function deploy(artifact: { abi: Abi; bytecode: Hex }, deployerIndex: number): Promise<Address> {
    const hash = await submit(deployerIndex, { data: encodeDeployData({ abi: artifact.abi, bytecode: artifact.bytecode }) });
    await mine(1);
    const receipt = await client.getTransactionReceipt({ hash });
    if (receipt.status !== "success" || !receipt.contractAddress) throw new Error(`anvil: deploying failed (tx ${hash})`);
    return getAddress(receipt.contractAddress);
  }

  async function mine(n: number): Promise<bigint> {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`mine: bad block count ${n}`);
    await rpc("anvil_mine", [toQuantity(n)]);
    return client.getBlockNumber();
  }

  let token: Address | null = null;
  let payout: Address | null = null;
  const deployed = (address: Address | null, what: string): Address => {
    if (!address) throw new Error(`anvil: ${what} is not deployed yet`);
    return address;
  };
  const tokenCall = (fromIndex: number, data: Hex) => submit(fromIndex, { to: deployed(token, "TestToken (deployToken)"), data });

  const launched = node;
  let stopped: Promise<void> | null = null;
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    chainId,
    dir,
    pid: launched.child.pid ?? -1,
    client,
    accounts,
    rpc: (method, params = []) => rpc(method, params),
    async call(to, data, blockTag = "latest") {
      return (await rpc("eth_call", [{ to, data }, blockTag])) as Hex;
    },
    send: (fromIndex, to, wei) => submit(fromIndex, { to, value: wei }),
    mine,
    async dropTx(hash) {
      await rpc("anvil_dropTransaction", [hash]);
    },
    async reorg(depth, txs = []) {
      if (!Number.isSafeInteger(depth) || depth < 1) throw new RangeError(`reorg: bad depth ${depth}`);
      // An existing tx is passed as its signed bytes, read before the reorg removes it: then it keeps its hash.
      const pairs = await Promise.all(
        txs.map(async (tx) => {
          if (!Number.isSafeInteger(tx.blockOffset) || tx.blockOffset < 0 || tx.blockOffset >= depth) {
            throw new RangeError(`reorg: block offset ${tx.blockOffset} is outside 0..${depth - 1}`);
          }
          const raw = "raw" in tx ? tx.raw : await rpc("eth_getRawTransactionByHash", [tx.hash]);
          if (typeof raw !== "string") throw new Error(`reorg: no tx ${"hash" in tx ? tx.hash : ""} to place again`);
          return [raw, tx.blockOffset];
        }),
      );
      await rpc("anvil_reorg", [depth, pairs]);
    },
    async deployToken(deployerIndex = 0) {
      token = await deploy(testTokenArtifact as { abi: Abi; bytecode: Hex }, deployerIndex);
      return token;
    },
    transferToken: (fromIndex, to, amount) =>
      tokenCall(fromIndex, encodeFunctionData({ abi: testTokenArtifact.abi as Abi, functionName: "transfer", args: [to, amount] })),
    transferTokenTwice: (fromIndex, to1, amount1, to2, amount2) =>
      tokenCall(
        fromIndex,
        encodeFunctionData({ abi: testTokenArtifact.abi as Abi, functionName: "transferTwice", args: [to1, amount1, to2, amount2] }),
      ),
    async deployBatchPayout(deployerIndex = 0) {
      payout = await deploy(batchPayoutArtifact as { abi: Abi; bytecode: Hex }, deployerIndex);
      return payout;
    },
    payMany(fromIndex, payments) {
      const args = [payments.map((p) => p.to), payments.map((p) => p.wei)];
      const data = encodeFunctionData({ abi: batchPayoutArtifact.abi as Abi, functionName: "payMany", args });
      const value = payments.reduce((sum, p) => sum + p.wei, 0n);
      return submit(fromIndex, { to: deployed(payout, "BatchPayout (deployBatchPayout)"), value, data });
    },
    forward(fromIndex, to, wei) {
      const data = encodeFunctionData({ abi: batchPayoutArtifact.abi as Abi, functionName: "forward", args: [to] });
      return submit(fromIndex, { to: deployed(payout, "BatchPayout (deployBatchPayout)"), value: wei, data });
    },
    stop() {
      // SIGTERM to this very process (SIGKILL after the grace period), then the temp dir goes.
      stopped ??= (async () => {
        await stopProcess(launched, STOP_GRACE_MS);
        await removeTempDir(dir);
      })();
      return stopped;
    },
  };
}

function parseConfigAccounts(config: unknown): DevAccount[] {
  const { available_accounts: addresses, private_keys: keys } = (config ?? {}) as { available_accounts?: unknown; private_keys?: unknown };
  if (!Array.isArray(addresses) || !Array.isArray(keys) || addresses.length !== keys.length || addresses.length === 0) {
    throw new Error("anvil: --config-out has no matching available_accounts and private_keys");
  }
  return addresses.map((address, i) => {
    const privateKey = keys[i] as Hex;
    const checksummed = getAddress(String(address));
    if (privateKeyToAccount(privateKey).address !== checksummed) throw new Error(`anvil: private key #${i} is not ${checksummed}'s`);
    return { address: checksummed, privateKey };
  });
}

function toQuantity(n: number | bigint): Hex {
  return `0x${n.toString(16)}`;
}

let nextId = 1;
async function jsonRpc(url: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let reply: { result?: unknown; error?: { code?: number; message?: string } };
  try {
    reply = JSON.parse(text);
  } catch {
    throw new AnvilRpcError(`${method}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`, undefined);
  }
  if (reply.error) throw new AnvilRpcError(`${method}: ${reply.error.message ?? "error"}`, reply.error.code);
  return reply.result ?? null;
}
