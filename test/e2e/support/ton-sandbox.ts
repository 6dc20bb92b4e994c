// A toncenter-shaped HTTP server (v2 envelope + v3 indexer) over a @ton/sandbox Blockchain, the real TON emulator,
// for tests of the TON chain module: funded payer wallets, invented blocks, fault knobs; stop() frees everything.
//
// Served under `{url}` = `http://127.0.0.1:PORT/api` (shapes from shared/notes/ton.md, read from toncenter/ton-indexer
// source, not checked against a live service):
// - `GET  /v2/getConfigParam?config_id=N` → `{ok,result:{"@type":"configInfo",config:{"@type":"tvm.cell",bytes}}}`;
//   param 19 is `global_id:int32` = the `globalId` option (-239 mainnet, -3 testnet), others come from the sandbox config.
// - `GET  /v2/getAddressInformation?address` → `raw.fullAccountState`; a never-touched or destroyed account reads as
//   `uninitialized`, balance 0 (toncenter v2 shows nonexist that way too).
// - `GET|POST /v2/runGetMethod` → `smc.runResult` with integer stack entries `["num","0x…"]` only, no arguments;
//   a non-active account answers exit_code -13 (modelled).
// - `POST /v2/sendBoc {boc}` → `{ok:true,result:{"@type":"ok"}}`, or 500 `LITE_SERVER_UNKNOWN: cannot apply external
//   message to current state : …` when the emulator refuses it (the text is modelled on toncenter).
// - `GET  /v3/masterchainInfo`, `/v3/transactionsByMasterchainBlock?seqno&limit&offset&sort`,
//   `/v3/transactions?account&limit&offset&sort&start_lt&end_lt` → ton-indexer's JSON, errors `{"error":…}`.
//   A seqno the index has not reached is 404 `{"error":"block not found"}`: modelled, not seen on toncenter.
// The sandbox has no blocks, so this server invents them: every state-changing call (pay, sendBoc, mine) seals one
// masterchain block (seqno + 1) that commits one shard block (shard seqno = mc seqno + 1000, so code mixing the two up
// fails) holding every tx of that call's message chain. Block 1 holds the payers' funding. Hashes are fake but unique;
// lt, now, fees, statuses and phases are the emulator's own (each tx is re-read from its BOC).
// Test-only: `POST /_test/pay`, `POST /_test/mine` at the origin (or under /api), never key-checked nor down.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  Address,
  beginCell,
  Cell,
  comment as commentBody,
  Dictionary,
  internal,
  loadMessage,
  loadTransaction,
  SendMode,
  storeStateInit,
  toNano,
  type AccountStatus,
  type Message,
  type Transaction,
  type TransactionComputePhase,
  type TransactionDescriptionGeneric,
  type TupleItem,
} from "@ton/core";
import { keyPairFromSeed, type KeyPair } from "@ton/crypto";
import { Blockchain, type SandboxContract } from "@ton/sandbox";
import { WalletContractV4 } from "@ton/ton";

const DEFAULT_GLOBAL_ID = -239;
const PAYER_COUNT = 4;
const PAYER_FUNDING = toNano(100_000);
/** A V4 wallet sends at most 4 messages per external message. */
const MAX_MESSAGES_PER_TRANSFER = 4;
const SHARD_SEQNO_OFFSET = 1000;
const MAX_V3_LIMIT = 1000;
const MAX_BODY_BYTES = 1 << 20;
const MC_SHARD_V3 = "8000000000000000";
const MC_SHARD_V2 = "-9223372036854775808";
const BASE_WORKCHAIN_SHARD_V3 = "8000000000000000";
const UNINIT_EXIT_CODE = -13;

export interface TonSandboxOptions {
  /** ConfigParam 19 served by getConfigParam: -239 mainnet (default), -3 testnet. */
  globalId?: number;
  /** Require this X-API-Key from the start (as `requireApiKey`). */
  apiKey?: string;
}

export interface Payment {
  /** Any address form; the bounce flag defaults to the friendly form's (UQ/0Q → false, EQ/kQ → true, raw → false). */
  to: string;
  amountNano: string | bigint;
  comment?: string;
  bounce?: boolean;
}

export interface PayRequest {
  /** One destination, or up to 4 paid by one signed external message. */
  to: string | readonly Payment[];
  amountNano?: string | bigint;
  comment?: string;
  bounce?: boolean;
  /** Payer wallet index, 0..3 (default 0). */
  from?: number;
}

export interface TxRef {
  /** `0:UPPERCASE HEX`, as v3 spells it. */
  account: string;
  hash: string;
  lt: string;
}

export interface SealedCall {
  mcSeqno: number;
  txs: TxRef[];
}

export interface TonSandbox {
  /** The toncenter base, `http://127.0.0.1:PORT/api`; v2 and v3 sit below it. */
  url: string;
  /** `http://127.0.0.1:PORT`, where `/_test/*` lives. */
  origin: string;
  globalId: number;
  blockchain: Blockchain;
  /** The payer wallets (V4, default wallet id), each funded with 100,000 TON. */
  payers: readonly { address: Address; keyPair: KeyPair }[];
  /** A real signed transfer from a payer; one block holds the whole message chain (bounces included). */
  pay(request: PayRequest): Promise<SealedCall>;
  /** Broadcasts an external message BOC (base64) as sendBoc does; throws the emulator's refusal. */
  sendBoc(boc: string): Promise<SealedCall>;
  /** Seals `count` empty blocks; returns the new tip. */
  mine(count?: number): Promise<number>;
  /** The real last masterchain seqno (ignores `setLag`). */
  tip(): number;
  /** Answer 503 to every /api request. */
  setDown(down: boolean): void;
  /** 401 for /api requests without this X-API-Key (or `api_key` query); null turns the check off. */
  requireApiKey(key: string | null): void;
  /** The v3 indexer lags `n` blocks: masterchainInfo reports tip − n and later blocks are 404. */
  setLag(n: number): void;
  stop(): Promise<void>;
}

/** The refusal sendBoc reports; `message` is the emulator's. */
export class TonSendBocError extends Error {
  override name = "TonSendBocError";
}

interface BlockRecord {
  seqno: number;
  shardSeqno: number;
  rootHash: string;
  fileHash: string;
  shardRootHash: string;
  genUtime: number;
  startLt: bigint;
  endLt: bigint;
  txs: TxRecord[];
}

interface TxRecord {
  tx: Transaction;
  block: BlockRecord;
  account: string;
  /** The exact message cells of the tx (for message hashes), in_msg then out_msgs by index. */
  inMsgCell: Cell | null;
  outMsgCells: Cell[];
}

export async function startTonSandbox(opts: TonSandboxOptions = {}): Promise<TonSandbox> {
  const globalId = opts.globalId ?? DEFAULT_GLOBAL_ID;
  if (!Number.isSafeInteger(globalId) || globalId < -(2 ** 31) || globalId >= 2 ** 31) {
    throw new RangeError(`startTonSandbox: bad global id ${globalId}`);
  }
  const blockchain = await Blockchain.create();
  const salt = randomBytes(16);
  const blocks: BlockRecord[] = [];
  const byAccount = new Map<string, TxRecord[]>();
  let lastUtime = 0;
  let tail: Promise<unknown> = Promise.resolve();
  let down = false;
  let apiKey: string | null = opts.apiKey ?? null;
  let lag = 0;

  /** All sandbox access goes through one chain: its state is shared and the emulator is not reentrant. */
  function serial<T>(work: () => Promise<T>): Promise<T> {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  }

  /** Runs `work` at the next block's time and seals one block with every tx it produced, even when it throws. */
  async function sealed<T>(work: () => Promise<readonly Transaction[]>, wrap: (call: SealedCall) => T): Promise<T> {
    const genUtime = Math.max(lastUtime, Math.floor(Date.now() / 1000));
    blockchain.now = genUtime;
    const startLt = blockchain.lt;
    let txs: readonly Transaction[] = [];
    let failure: unknown = null;
    try {
      txs = await work();
    } catch (error) {
      failure = error;
    }
    const block = sealBlock(genUtime, startLt, txs);
    if (failure !== null) throw failure;
    return wrap({ mcSeqno: block.seqno, txs: block.txs.map(txRef) });
  }

  function sealBlock(genUtime: number, startLt: bigint, txs: readonly Transaction[]): BlockRecord {
    lastUtime = genUtime;
    const seqno = blocks.length + 1;
    const block: BlockRecord = {
      seqno,
      shardSeqno: seqno + SHARD_SEQNO_OFFSET,
      rootHash: fakeHash("mc root", seqno),
      fileHash: fakeHash("mc file", seqno),
      shardRootHash: fakeHash("shard root", seqno),
      genUtime,
      startLt,
      endLt: blockchain.lt,
      txs: [],
    };
    for (const emulated of txs) {
      // Re-read from the BOC: what a client parsing toncenter's data gets, nothing the sandbox adds.
      const tx = loadTransaction(emulated.raw.beginParse());
      const messages = tx.raw.refs[0]!.beginParse();
      const inMsgCell = messages.loadMaybeRef();
      const outDict = messages.loadDict(Dictionary.Keys.Uint(15), Dictionary.Values.Cell());
      const outMsgCells = [...outDict.keys()].sort((a, b) => a - b).map((k) => outDict.get(k)!);
      const account = rawV3(new Address(0, bigintBytes(tx.address)));
      const record: TxRecord = { tx, block, account, inMsgCell, outMsgCells };
      block.txs.push(record);
      let list = byAccount.get(account);
      if (!list) byAccount.set(account, (list = []));
      list.push(record);
    }
    block.txs.sort((a, b) => (a.tx.lt < b.tx.lt ? -1 : a.tx.lt > b.tx.lt ? 1 : 0));
    blocks.push(block);
    return block;
  }

  const fakeHash = (kind: string, seqno: number) =>
    createHash("sha256").update(salt).update(`${kind} ${seqno}`).digest("base64");

  // Payers: deterministic keys, funded by the sandbox treasury and deployed (a 0-message seqno-0 transfer) in block 1.
  const payers: { address: Address; keyPair: KeyPair; wallet: SandboxContract<WalletContractV4> }[] = [];
  await sealed(async () => {
    const treasury = await blockchain.treasury("ton-sandbox payers");
    const txs: Transaction[] = [];
    for (let i = 0; i < PAYER_COUNT; i++) {
      const keyPair = keyPairFromSeed(createHash("sha256").update(`ton-sandbox payer ${i}`).digest());
      const wallet = blockchain.openContract(WalletContractV4.create({ workchain: 0, publicKey: keyPair.publicKey }));
      txs.push(...(await treasury.send({ to: wallet.address, value: PAYER_FUNDING, bounce: false })).transactions);
      txs.push(...(await wallet.sendTransfer({ seqno: 0, secretKey: keyPair.secretKey, messages: [] })).transactions);
      payers.push({ address: wallet.address, keyPair, wallet });
    }
    return txs;
  }, () => undefined);

  async function pay(request: PayRequest): Promise<SealedCall> {
    const from = request.from ?? 0;
    const payer = payers[from];
    if (!Number.isInteger(from) || !payer) throw new RangeError(`pay: no payer wallet ${from} (0..${PAYER_COUNT - 1})`);
    const payments: readonly Payment[] = typeof request.to === "string"
      ? [{ to: request.to, amountNano: request.amountNano ?? "", comment: request.comment, bounce: request.bounce }]
      : request.to;
    if (payments.length < 1 || payments.length > MAX_MESSAGES_PER_TRANSFER) {
      throw new RangeError(`pay: 1..${MAX_MESSAGES_PER_TRANSFER} destinations per transfer, got ${payments.length}`);
    }
    const messages = payments.map((p) => {
      const amount = parseNano(p.amountNano);
      return internal({
        to: Address.parse(p.to),
        value: amount,
        bounce: p.bounce ?? defaultBounce(p.to),
        body: p.comment === undefined ? undefined : commentBody(p.comment),
      });
    });
    return serial(() =>
      sealed(async () => {
        const seqno = await payer.wallet.getSeqno();
        const sendMode = SendMode.PAY_GAS_SEPARATELY + SendMode.IGNORE_ERRORS;
        return (await payer.wallet.sendTransfer({ seqno, secretKey: payer.keyPair.secretKey, sendMode, messages })).transactions;
      }, (call) => call),
    );
  }

  async function sendBoc(boc: string): Promise<SealedCall> {
    let message: Cell;
    try {
      message = Cell.fromBase64(boc);
      loadMessage(message.beginParse());
    } catch (error) {
      throw new TonSendBocError(`failed to parse the BOC: ${errorText(error)}`);
    }
    return serial(() =>
      sealed(async () => {
        try {
          return (await blockchain.sendMessage(message)).transactions;
        } catch (error) {
          throw new TonSendBocError(errorText(error));
        }
      }, (call) => call),
    );
  }

  async function mine(count = 1): Promise<number> {
    if (!Number.isSafeInteger(count) || count < 1 || count > 10_000) throw new RangeError(`mine: bad count ${count}`);
    return serial(async () => {
      for (let i = 0; i < count; i++) await sealed(async () => [], () => undefined);
      return blocks.length;
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // HTTP

  const indexedTip = () => Math.max(1, blocks.length - lag);

  async function answerApi(method: string, path: string, query: URLSearchParams, body: () => Promise<unknown>): Promise<Reply> {
    if (method === "GET" && path === "/v2/getConfigParam") {
      const id = intParam(query, "config_id");
      if (id === null) return v2Error(422, "config_id: an integer is required");
      const cell = id === 19 ? beginCell().storeInt(globalId, 32).endCell() : configParam(blockchain.config, id);
      if (!cell) return v2Error(500, `LITE_SERVER_UNKNOWN: config param ${id} not found`);
      return v2Ok({ "@type": "configInfo", config: { "@type": "tvm.cell", bytes: cell.toBoc().toString("base64") } });
    }
    if (method === "GET" && path === "/v2/getAddressInformation") {
      const address = parseAddress(query.get("address"));
      if (!address) return v2Error(416, "Incorrect address");
      return serial(() => addressInformation(address));
    }
    if (path === "/v2/runGetMethod" && (method === "GET" || method === "POST")) {
      const params = method === "POST" ? ((await body()) as Record<string, unknown> | null) : Object.fromEntries(query);
      const address = parseAddress(typeof params?.address === "string" ? params.address : null);
      if (!address) return v2Error(416, "Incorrect address");
      const name = params?.method;
      if (typeof name !== "string" && typeof name !== "number") return v2Error(422, "method: required");
      const stack = params?.stack;
      if (stack !== undefined && stack !== "[]" && !(Array.isArray(stack) && stack.length === 0)) {
        return v2Error(422, "stack: this test server takes get-methods without arguments only");
      }
      return serial(() => runGetMethod(address, typeof name === "string" && /^\d+$/.test(name) ? Number(name) : name));
    }
    if (method === "POST" && path === "/v2/sendBoc") {
      const request = (await body()) as { boc?: unknown } | null;
      if (typeof request?.boc !== "string") return v2Error(422, "boc: a base64 string is required");
      try {
        await sendBoc(request.boc);
        return v2Ok({ "@type": "ok" });
      } catch (error) {
        if (!(error instanceof TonSendBocError)) throw error;
        return v2Error(500, `LITE_SERVER_UNKNOWN: cannot apply external message to current state : ${error.message}`);
      }
    }
    if (method === "GET" && path === "/v3/masterchainInfo") {
      return json(200, { first: blockJson(blocks[0]!), last: blockJson(blocks[indexedTip() - 1]!) });
    }
    if (method === "GET" && path === "/v3/transactionsByMasterchainBlock") {
      const seqno = intParam(query, "seqno");
      if (seqno === null) return v3Error(422, "seqno: an integer is required");
      const page = pageParams(query);
      if (typeof page === "string") return v3Error(422, page);
      const block = seqno >= 1 && seqno <= indexedTip() ? blocks[seqno - 1]! : null;
      if (!block) return v3Error(404, "block not found");
      return json(200, { transactions: paged(block.txs, page).map(txJson), address_book: {} });
    }
    if (method === "GET" && path === "/v3/transactions") {
      const address = parseAddress(query.get("account"));
      if (!address) return v3Error(422, "account: a valid address is required");
      const page = pageParams(query);
      if (typeof page === "string") return v3Error(422, page);
      const startLt = query.get("start_lt");
      const endLt = query.get("end_lt");
      const txs = (byAccount.get(rawV3(address)) ?? []).filter(
        (r) =>
          r.block.seqno <= indexedTip() &&
          (startLt === null || r.tx.lt >= BigInt(startLt)) &&
          (endLt === null || r.tx.lt <= BigInt(endLt)),
      );
      return json(200, { transactions: paged(txs, page).map(txJson), address_book: {} });
    }
    return path.startsWith("/v3/") ? v3Error(404, "Not Found") : v2Error(404, "Not Found");
  }

  async function answerTest(method: string, path: string, body: () => Promise<unknown>): Promise<Reply> {
    if (method !== "POST") return json(405, { error: "POST only" });
    try {
      if (path === "/_test/pay") return json(200, await pay((await body()) as PayRequest));
      if (path === "/_test/mine") {
        const request = ((await body()) ?? {}) as { count?: number };
        return json(200, { tip: await mine(request.count ?? 1) });
      }
    } catch (error) {
      return json(400, { error: errorText(error) });
    }
    return json(404, { error: "Not Found" });
  }

  async function addressInformation(address: Address): Promise<Reply> {
    const contract = await blockchain.getContract(address);
    const state = contract.accountState;
    const active = state?.type === "active" ? state.state : null;
    return v2Ok({
      "@type": "raw.fullAccountState",
      balance: contract.balance.toString(),
      extra_currencies: [],
      code: active?.code ? active.code.toBoc().toString("base64") : "",
      data: active?.data ? active.data.toBoc().toString("base64") : "",
      last_transaction_id: {
        "@type": "internal.transactionId",
        lt: contract.lastTransactionLt.toString(),
        hash: bigintBytes(contract.lastTransactionHash).toString("base64"),
      },
      block_id: blockIdV2(blocks.at(-1)!),
      frozen_hash: state?.type === "frozen" ? bigintBytes(state.stateHash).toString("base64") : "",
      sync_utime: lastUtime,
      state: active ? "active" : state?.type === "frozen" ? "frozen" : "uninitialized",
    });
  }

  async function runGetMethod(address: Address, name: string | number): Promise<Reply> {
    const contract = await blockchain.getContract(address);
    const lastTx = {
      "@type": "internal.transactionId",
      lt: contract.lastTransactionLt.toString(),
      hash: bigintBytes(contract.lastTransactionHash).toString("base64"),
    };
    const result = (exitCode: number, gasUsed: bigint, stack: unknown[]) =>
      v2Ok({ "@type": "smc.runResult", gas_used: Number(gasUsed), stack, exit_code: exitCode, block_id: blockIdV2(blocks.at(-1)!), last_transaction_id: lastTx });
    if (contract.accountState?.type !== "active") return result(UNINIT_EXIT_CODE, 0n, []);
    try {
      const run = await blockchain.runGetMethod(address, name);
      return result(run.exitCode, run.gasUsed, run.stack.map(stackEntry));
    } catch (error) {
      const exitCode = (error as { exitCode?: unknown }).exitCode;
      if (typeof exitCode === "number") return result(exitCode, BigInt((error as { gasUsed?: bigint }).gasUsed ?? 0n), []);
      throw error;
    }
  }

  function blockJson(block: BlockRecord) {
    return {
      workchain: -1,
      shard: MC_SHARD_V3,
      seqno: block.seqno,
      root_hash: block.rootHash,
      file_hash: block.fileHash,
      global_id: globalId,
      gen_utime: String(block.genUtime),
      start_lt: block.startLt.toString(),
      end_lt: block.endLt.toString(),
    };
  }

  const blockIdV2 = (block: BlockRecord) => ({
    "@type": "ton.blockIdExt",
    workchain: -1,
    shard: MC_SHARD_V2,
    seqno: block.seqno,
    root_hash: block.rootHash,
    file_hash: block.fileHash,
  });

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://ton-sandbox");
    const method = request.method ?? "GET";
    const body = () => readJson(request);
    const isTest = url.pathname.startsWith("/_test/") || url.pathname.startsWith("/api/_test/");
    let reply: Promise<Reply>;
    if (isTest) {
      reply = answerTest(method, url.pathname.replace(/^\/api/, ""), body);
    } else if (!url.pathname.startsWith("/api/")) {
      reply = Promise.resolve(json(404, { error: "Not Found" }));
    } else {
      const path = url.pathname.slice("/api".length);
      const fail = path.startsWith("/v3/") ? v3Error : v2Error;
      const key = request.headers["x-api-key"] ?? url.searchParams.get("api_key");
      if (down) reply = Promise.resolve(fail(503, "Service Unavailable"));
      else if (apiKey !== null && !safeEqual(typeof key === "string" ? key : "", apiKey)) {
        reply = Promise.resolve(fail(401, "API key does not exist"));
      } else reply = answerApi(method, path, url.searchParams, body);
    }
    reply.then(
      (r) => send(response, r),
      (error) => send(response, json(500, { ok: false, error: `ton-sandbox: ${errorText(error)}`, code: 500 })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/api`,
    origin,
    globalId,
    blockchain,
    payers: payers.map(({ address, keyPair }) => ({ address, keyPair })),
    pay,
    sendBoc,
    mine,
    tip: () => blocks.length,
    setDown(value) {
      down = value;
    },
    requireApiKey(key) {
      if (key !== null && key.length === 0) throw new RangeError("requireApiKey: an empty key");
      apiKey = key;
    },
    setLag(n) {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`setLag: bad lag ${n}`);
      lag = n;
    },
    async stop() {
      await tail;
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// ton-indexer's (v3) transaction and message JSON, from the parsed transaction.

const statusV3: Record<AccountStatus, string> = {
  uninitialized: "uninit",
  frozen: "frozen",
  active: "active",
  "non-existing": "nonexist",
};

const skipReasonV3 = { "no-state": "no_state", "bad-state": "bad_state", "no-gas": "no_gas" } as const;
const bounceTypeV3 = { ok: "ok", "negative-funds": "negfunds", "no-funds": "nofunds" } as const;

function txRef(record: TxRecord): TxRef {
  return { account: record.account, hash: record.tx.hash().toString("base64"), lt: record.tx.lt.toString() };
}

function txJson(record: TxRecord) {
  const { tx, block } = record;
  return {
    account: record.account,
    hash: tx.hash().toString("base64"),
    lt: tx.lt.toString(),
    now: tx.now,
    mc_block_seqno: block.seqno,
    prev_trans_hash: bigintBytes(tx.prevTransactionHash).toString("base64"),
    prev_trans_lt: tx.prevTransactionLt.toString(),
    orig_status: statusV3[tx.oldStatus],
    end_status: statusV3[tx.endStatus],
    total_fees: tx.totalFees.coins.toString(),
    total_fees_extra_currencies: {},
    block_ref: { workchain: 0, shard: BASE_WORKCHAIN_SHARD_V3, seqno: block.shardSeqno },
    description: descriptionJson(tx),
    in_msg: record.inMsgCell ? messageJson(record.inMsgCell) : null,
    out_msgs: record.outMsgCells.map(messageJson),
  };
}

function descriptionJson(tx: Transaction) {
  const d = tx.description;
  if (d.type !== "generic") throw new Error(`ton-sandbox: a ${d.type} transaction, which this server does not serve`);
  const g: TransactionDescriptionGeneric = d;
  return {
    type: "ord",
    aborted: g.aborted,
    destroyed: g.destroyed,
    credit_first: g.creditFirst,
    ...(g.storagePhase
      ? {
          storage_ph: {
            storage_fees_collected: g.storagePhase.storageFeesCollected.toString(),
            ...(g.storagePhase.storageFeesDue == null ? {} : { storage_fees_due: g.storagePhase.storageFeesDue.toString() }),
            status_change: g.storagePhase.statusChange,
          },
        }
      : {}),
    ...(g.creditPhase
      ? {
          credit_ph: {
            ...(g.creditPhase.dueFeesColelcted == null ? {} : { due_fees_collected: g.creditPhase.dueFeesColelcted.toString() }),
            credit: g.creditPhase.credit.coins.toString(),
          },
        }
      : {}),
    compute_ph: computeJson(g.computePhase),
    ...(g.actionPhase
      ? {
          action: {
            success: g.actionPhase.success,
            valid: g.actionPhase.valid,
            no_funds: g.actionPhase.noFunds,
            status_change: g.actionPhase.statusChange,
            ...(g.actionPhase.totalFwdFees == null ? {} : { total_fwd_fees: g.actionPhase.totalFwdFees.toString() }),
            ...(g.actionPhase.totalActionFees == null ? {} : { total_action_fees: g.actionPhase.totalActionFees.toString() }),
            result_code: g.actionPhase.resultCode,
            ...(g.actionPhase.resultArg == null ? {} : { result_arg: g.actionPhase.resultArg }),
            tot_actions: g.actionPhase.totalActions,
            spec_actions: g.actionPhase.specActions,
            skipped_actions: g.actionPhase.skippedActions,
            msgs_created: g.actionPhase.messagesCreated,
            action_list_hash: bigintBytes(g.actionPhase.actionListHash).toString("base64"),
            tot_msg_size: { cells: g.actionPhase.totalMessageSize.cells.toString(), bits: g.actionPhase.totalMessageSize.bits.toString() },
          },
        }
      : {}),
    ...(g.bouncePhase ? { bounce: bounceJson(g.bouncePhase) } : {}),
  };
}

function computeJson(phase: TransactionComputePhase) {
  if (phase.type === "skipped") return { skipped: true, reason: skipReasonV3[phase.reason] };
  return {
    skipped: false,
    success: phase.success,
    msg_state_used: phase.messageStateUsed,
    account_activated: phase.accountActivated,
    gas_fees: phase.gasFees.toString(),
    gas_used: phase.gasUsed.toString(),
    gas_limit: phase.gasLimit.toString(),
    ...(phase.gasCredit == null ? {} : { gas_credit: phase.gasCredit.toString() }),
    mode: phase.mode,
    exit_code: phase.exitCode,
    ...(phase.exitArg == null ? {} : { exit_arg: phase.exitArg }),
    vm_steps: phase.vmSteps,
    vm_init_state_hash: bigintBytes(phase.vmInitStateHash).toString("base64"),
    vm_final_state_hash: bigintBytes(phase.vmFinalStateHash).toString("base64"),
  };
}

function bounceJson(phase: NonNullable<TransactionDescriptionGeneric["bouncePhase"]>) {
  const type = bounceTypeV3[phase.type];
  if (phase.type === "ok") {
    return {
      type,
      msg_size: { cells: phase.messageSize.cells.toString(), bits: phase.messageSize.bits.toString() },
      msg_fees: phase.messageFees.toString(),
      fwd_fees: phase.forwardFees.toString(),
    };
  }
  if (phase.type === "no-funds") {
    return {
      type,
      msg_size: { cells: phase.messageSize.cells.toString(), bits: phase.messageSize.bits.toString() },
      req_fwd_fees: phase.requiredForwardFees.toString(),
    };
  }
  return { type };
}

function messageJson(cell: Cell) {
  const message: Message = loadMessage(cell.beginParse());
  const info = message.info;
  const body = message.body;
  const internalInfo = info.type === "internal" ? info : null;
  return {
    hash: cell.hash().toString("base64"),
    source: info.type === "external-in" ? null : rawV3(info.src),
    destination: info.type === "external-out" ? null : rawV3(info.dest),
    value: internalInfo ? internalInfo.value.coins.toString() : null,
    value_extra_currencies: internalInfo ? {} : null,
    fwd_fee: internalInfo ? internalInfo.forwardFee.toString() : null,
    ihr_fee: internalInfo ? internalInfo.ihrFee.toString() : null,
    created_lt: info.type === "external-in" ? null : info.createdLt.toString(),
    created_at: info.type === "external-in" ? null : String(info.createdAt),
    opcode: body.bits.length >= 32 ? `0x${body.beginParse().loadUint(32).toString(16).padStart(8, "0")}` : null,
    ihr_disabled: internalInfo ? internalInfo.ihrDisabled : null,
    bounce: internalInfo ? internalInfo.bounce : null,
    bounced: internalInfo ? internalInfo.bounced : null,
    import_fee: info.type === "external-in" ? info.importFee.toString() : null,
    message_content: { hash: body.hash().toString("base64"), body: body.toBoc().toString("base64"), decoded: decodeComment(body) },
    init_state: message.init ? initStateJson(message.init) : null,
  };
}

function initStateJson(init: NonNullable<Message["init"]>) {
  const cell = beginCell().store(storeStateInit(init)).endCell();
  return { hash: cell.hash().toString("base64"), body: cell.toBoc().toString("base64") };
}

/** A text comment is op 0 then UTF-8 (continued in refs); anything else stays undecoded. */
function decodeComment(body: Cell): { type: "text_comment"; comment: string } | null {
  if (body.bits.length < 32) return null;
  const slice = body.beginParse();
  if (slice.loadUint(32) !== 0) return null;
  try {
    return { type: "text_comment", comment: slice.loadStringTail() };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Small parsers and encoders.

interface Reply {
  status: number;
  body: string;
}

const json = (status: number, value: unknown): Reply => ({ status, body: JSON.stringify(value) });
const v2Ok = (result: unknown) => json(200, { ok: true, result });
const v2Error = (code: number, error: string) => json(code, { ok: false, error, code });
const v3Error = (code: number, error: string) => json(code, { error });

function send(response: ServerResponse, reply: Reply): void {
  response.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  return text.length === 0 ? null : JSON.parse(text);
}

function intParam(query: URLSearchParams, name: string): number | null {
  const value = query.get(name);
  if (value === null || !/^-?\d+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/** v3's limit (default 10, at most 1000), offset and sort (asc default here; the indexer's default varies by endpoint). */
function pageParams(query: URLSearchParams): { limit: number; offset: number; desc: boolean } | string {
  const limit = query.has("limit") ? intParam(query, "limit") : 10;
  const offset = query.has("offset") ? intParam(query, "offset") : 0;
  const sort = query.get("sort") ?? "asc";
  if (limit === null || limit < 1 || limit > MAX_V3_LIMIT) return `limit: 1..${MAX_V3_LIMIT}`;
  if (offset === null || offset < 0) return "offset: a non-negative integer";
  if (sort !== "asc" && sort !== "desc") return "sort: asc or desc";
  return { limit, offset, desc: sort === "desc" };
}

function paged<T extends { tx: Transaction }>(items: readonly T[], page: { limit: number; offset: number; desc: boolean }): T[] {
  const ordered = page.desc ? [...items].reverse() : items;
  return ordered.slice(page.offset, page.offset + page.limit);
}

function parseAddress(value: string | null): Address | null {
  if (value === null) return null;
  try {
    return Address.parse(value);
  } catch {
    return null;
  }
}

/** TEP-2: a wallet app takes the bounce bit from the friendly form's flag; a raw address carries none (→ false). */
function defaultBounce(address: string): boolean {
  return Address.isFriendly(address) ? Address.parseFriendly(address).isBounceable : false;
}

function parseNano(value: string | bigint): bigint {
  if (typeof value === "bigint") {
    if (value < 0n) throw new RangeError(`pay: a negative amount ${value}`);
    return value;
  }
  if (!/^\d+$/.test(value)) throw new RangeError(`pay: amountNano must be a decimal string of nanotons, got ${JSON.stringify(value)}`);
  return BigInt(value);
}

function configParam(config: Cell, id: number): Cell | null {
  const params = Dictionary.loadDirect(Dictionary.Keys.Int(32), Dictionary.Values.Cell(), config);
  return params.get(id) ?? null;
}

function stackEntry(item: TupleItem): unknown {
  if (item.type === "int") return ["num", item.value < 0n ? `-0x${(-item.value).toString(16)}` : `0x${item.value.toString(16)}`];
  throw new Error(`ton-sandbox: runGetMethod returns only integers here, not ${item.type}`);
}

/** `0:UPPERCASE HEX`, the raw form toncenter v3 prints. */
const rawV3 = (address: Address) => `${address.workChain}:${address.hash.toString("hex").toUpperCase()}`;

function bigintBytes(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(64, "0"), "hex");
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The worker settings that point TON at this sandbox, on mainnet, with its API key. */
export function tonSettings(ton: TonSandbox, apiKey: string, pollSeconds: number): Record<string, string> {
  return { TON_API_URL: ton.url, TON_NETWORK: "mainnet", TON_API_KEY: apiKey, TON_POLL_SECONDS: String(pollSeconds) };
}
