// An Esplora-shaped REST server for tests (the API blockstream.info, mempool.space and litecoinspace.org serve),
// answering from a real litecoind regtest node through an index of its own, with knobs for fault tests.
//
// Shapes follow Blockstream's electrs (`src/rest.rs`, read at commit 0231fff8), which is what those sites run:
// - Text endpoints (`/blocks/tip/height`, `/blocks/tip/hash`, `/block-height/:h`) answer `text/plain`, the rest
//   `application/json`; every error is `text/plain` with a short message ("Transaction not found", "Block not found",
//   "Invalid hex string", "Invalid number", "endpoint does not exist \"/x\"").
// - `/tx/:txid/status` of an unknown txid is **200 `{"confirmed":false}`**, not 404 (electrs asks only "which best-chain
//   block confirms it?"). mempool.space's own backend on a bitcoind/electrum node answers 404 "No such mempool or
//   blockchain transaction" instead (and 400/501 "Invalid transaction ID"); `unknownTxStatus: "not-found"` plays that.
// - `/block/:hash/status` of an orphaned **or unknown** block is 200 `{"in_best_chain":false,"height":null,
//   "next_best":null}`: the two cannot be told apart. `/block/:hash` of an orphaned block is 404 "Block not found".
// - A tx seen only in a now-orphaned block is still served by `/tx/:txid` (200, `status.confirmed:false`); one that
//   left the mempool without being mined (replaced) is 404.
// - `status` of an unconfirmed tx is `{"confirmed":false}` with the other keys absent; `witness` is absent (not `[]`)
//   for inputs without one; `scriptpubkey_address` is absent for scripts without an address (op_return, p2pk, bare
//   multisig); `prevout` is null for a coinbase input; `previousblockhash` is null for the genesis block.
// - Paging `/txs/chain/:last_seen_txid` with a txid not in the history answers `[]`; a malformed one is ignored
//   (the first page). Within one block, electrs orders an address's txs by its index keys, not by block position;
//   this server uses block position (newest first), so a client must not rely on the order inside one block.
// - `Cache-Control: public, max-age=10` on volatile answers, 5 years on ones at least 10 blocks deep (as electrs).
// Error texts for bad addresses are rust-bitcoin's and change between versions: a client should key on the status.
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sha256 } from "@noble/hashes/sha2.js";
import { bech32, bech32m, createBase58check, hex } from "@scure/base";
import type { LitecoinRegtest } from "./litecoin-regtest";

const CHAIN_TXS_PER_PAGE = 25;
const MAX_MEMPOOL_TXS = 50;
const TTL_SHORT = 10;
const TTL_LONG = 157_784_630;
const CONF_FINAL = 10;
const NULL_TXID = "0".repeat(64);
const COINBASE_VOUT = 0xffffffff;

export interface EsploraServerOptions {
  /** `/tx/:txid/status` of an unknown txid: electrs's 200 `{"confirmed":false}` (default), or mempool.space's 404. */
  unknownTxStatus?: "unconfirmed" | "not-found";
}

export interface EsploraServer {
  /** Base URL, e.g. `http://127.0.0.1:PORT`, no trailing slash; the API is at the root. */
  url: string;
  /** Requests answered so far (faults included), and their paths in order. */
  readonly requests: { readonly count: number; readonly paths: readonly string[] };
  /** The next `n` requests answer `status` (a text body) without looking at the chain. */
  failNext(n: number, status?: number): void;
  /** Keeps answering from the chain as it is now, whatever the node does: a lagging explorer instance. */
  freeze(): void;
  unfreeze(): void;
  close(): Promise<void>;
}

export async function startEsploraServer(chain: LitecoinRegtest, opts: EsploraServerOptions = {}): Promise<EsploraServer> {
  const index = createChainIndex(chain);
  const paths: string[] = [];
  let faults = { left: 0, status: 503 };
  let frozen = false;

  const server = createServer((request, response) => {
    paths.push(request.url ?? "");
    if (faults.left > 0) {
      faults.left--;
      return send(response, faults.status, "text/plain", STATUS_CODES[faults.status] ?? "error");
    }
    answer(request, index, { frozen, unknownTxStatus: opts.unknownTxStatus ?? "unconfirmed" }).then(
      (reply) => send(response, reply.status, reply.type, reply.body, reply.ttl),
      (error) => send(response, 500, "text/plain", `esplora-regtest: ${String(error)}`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests: {
      get count() {
        return paths.length;
      },
      paths,
    },
    failNext(n, status = 503) {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`failNext: bad count ${n}`);
      if (!Number.isInteger(status) || status < 100 || status > 599) throw new RangeError(`failNext: bad status ${status}`);
      faults = { left: n, status };
    },
    freeze() {
      frozen = true;
    },
    unfreeze() {
      frozen = false;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Routing: electrs matches the path split on "/", so a trailing slash is another (unknown) endpoint.

interface Reply {
  status: number;
  type: "text/plain" | "application/json";
  body: string;
  ttl?: number;
}

const text = (body: string, ttl = TTL_SHORT): Reply => ({ status: 200, type: "text/plain", body, ttl });
const json = (value: unknown, ttl = TTL_SHORT): Reply => ({ status: 200, type: "application/json", body: JSON.stringify(value), ttl });
const notFound = (message: string): Reply => ({ status: 404, type: "text/plain", body: message });
const badRequest = (message: string): Reply => ({ status: 400, type: "text/plain", body: message });

const HASH_HEX = /^[0-9a-fA-F]{64}$/;
const DECIMAL = /^\+?[0-9]+$/;

async function answer(request: IncomingMessage, index: ChainIndex, mode: { frozen: boolean; unknownTxStatus: "unconfirmed" | "not-found" }): Promise<Reply> {
  const path = new URL(request.url ?? "/", "http://esplora").pathname;
  const unknown = notFound(`endpoint does not exist ${JSON.stringify(path)}`);
  if (request.method !== "GET") return unknown;
  const [root, a, b, c, d, extra] = path.split("/").slice(1);
  if (extra !== undefined) return unknown;
  if (!mode.frozen) await index.refresh();
  const state = index.state;

  if (root === "blocks" && a === "tip" && c === undefined) {
    if (b === "height") return text(String(state.tipHeight()));
    if (b === "hash") return text(state.tipHash());
  }
  if (root === "block-height" && a !== undefined && b === undefined) {
    if (!DECIMAL.test(a) || !Number.isSafeInteger(Number(a))) return badRequest("Invalid number");
    const hash = state.hashAt(Number(a));
    return hash ? text(hash, state.ttlAt(Number(a))) : notFound("Block not found");
  }
  if (root === "block" && a !== undefined && c === undefined) {
    if (!HASH_HEX.test(a)) return badRequest("Invalid hex string");
    const hash = a.toLowerCase();
    if (b === undefined) {
      const block = state.bestBlock(hash);
      return block ? json(blockJson(block), TTL_LONG) : notFound("Block not found");
    }
    if (b === "status") {
      const block = state.bestBlock(hash);
      if (!block) return json({ in_best_chain: false, height: null, next_best: null });
      return json({ in_best_chain: true, height: block.height, next_best: state.hashAt(block.height + 1) ?? null }, state.ttlAt(block.height));
    }
  }
  if (root === "tx" && a !== undefined && c === undefined) {
    if (!HASH_HEX.test(a)) return badRequest("Invalid hex string");
    const txid = a.toLowerCase();
    if (b === undefined) {
      const tx = state.tx(txid);
      return tx ? json(state.txJson(tx), state.ttlOf(txid)) : notFound("Transaction not found");
    }
    if (b === "status") {
      if (mode.unknownTxStatus === "not-found" && !state.tx(txid)) return notFound("No such mempool or blockchain transaction");
      return json(state.statusJson(txid), state.ttlOf(txid));
    }
  }
  if (root === "address" && a !== undefined && b === "txs") {
    const script = await index.scriptOfAddress(a);
    if (typeof script !== "string") return badRequest(script.problem);
    if (c === undefined) {
      const confirmed = state.chainHistory(script, null);
      const seen = new Set(confirmed);
      const pending = state.mempoolHistory(script).filter((txid) => !seen.has(txid));
      return json([...pending, ...confirmed].map((txid) => state.txJson(state.tx(txid)!)));
    }
    if (c === "chain") {
      // electrs parses the cursor leniently: a malformed one is no cursor at all.
      const cursor = d !== undefined && HASH_HEX.test(d) ? d.toLowerCase() : null;
      return json(state.chainHistory(script, cursor).map((txid) => state.txJson(state.tx(txid)!)));
    }
    if (c === "mempool" && d === undefined) return json(state.mempoolHistory(script).map((txid) => state.txJson(state.tx(txid)!)));
  }
  return unknown;
}

function send(response: ServerResponse, status: number, type: string, body: string, ttl?: number): void {
  const headers: Record<string, string> = { "content-type": type };
  if (status === 200 && ttl !== undefined) headers["cache-control"] = `public, max-age=${ttl}`;
  response.writeHead(status, headers).end(body);
}

// ---------------------------------------------------------------------------------------------------------------
// The index: every block the node ever showed us (stale ones too, as electrs keeps them), the best chain as a list
// of hashes, the mempool, and which txs touch each output script. Without txindex, getblock and the mempool are all
// the node can give; every prevout of a regtest tx is in a block or the mempool we already read.

interface ParsedInput {
  txid: string;
  vout: number;
  scriptSig: string;
  witness: string[];
  sequence: number;
}

interface ParsedOutput {
  script: string;
  value: bigint;
  /** The node's own encoding, kept only for scripts Esplora gives an address (see hasAddressForm). */
  address: string | undefined;
}

interface ParsedTx {
  txid: string;
  version: number;
  locktime: number;
  size: number;
  weight: number;
  inputs: ParsedInput[];
  outputs: ParsedOutput[];
}

/** The header fields getblock gives and Esplora passes on unchanged. */
interface BlockFields {
  hash: string;
  height: number;
  version: number;
  time: number;
  mediantime: number;
  nonce: number;
  difficulty: number;
  merkleroot: string;
  size: number;
  weight: number;
}

interface BlockRecord extends BlockFields {
  bits: number;
  previousblockhash: string | null;
  txids: string[];
}

interface MempoolEntry {
  tx: ParsedTx;
  /** Seconds, from getrawmempool; ties broken by the order this index first saw them. */
  time: number;
  seen: number;
}

interface ChainState {
  tipHeight(): number;
  tipHash(): string;
  hashAt(height: number): string | undefined;
  ttlAt(height: number): number;
  ttlOf(txid: string): number;
  bestBlock(hash: string): BlockRecord | undefined;
  tx(txid: string): ParsedTx | undefined;
  txJson(tx: ParsedTx): unknown;
  statusJson(txid: string): unknown;
  chainHistory(script: string, lastSeen: string | null): string[];
  mempoolHistory(script: string): string[];
}

interface ChainIndex {
  /** Brings the index up to the node's tip and mempool; concurrent callers share one pass that began after they asked. */
  refresh(): Promise<void>;
  readonly state: ChainState;
  /** The output script an address pays to (decoded by the node), or why it is refused. */
  scriptOfAddress(address: string): Promise<string | { problem: string }>;
}

type Rpc = (method: string, ...params: unknown[]) => Promise<unknown>;

interface NodeBlock extends BlockFields {
  bits: string;
  previousblockhash?: string;
  tx: NodeTx[];
}

interface NodeTx {
  txid: string;
  hex: string;
  vout: { scriptPubKey: { hex: string; address?: string; addresses?: string[] } }[];
}

function createChainIndex(chain: LitecoinRegtest): ChainIndex {
  const rpc: Rpc = chain.rpc;
  const blocks = new Map<string, BlockRecord>();
  const best: string[] = [];
  const chainTxs = new Map<string, { tx: ParsedTx; blocks: Set<string> }>();
  const mempool = new Map<string, MempoolEntry>();
  const touching = new Map<string, Set<string>>();
  const addressScripts = new Map<string, string>();
  let seenCounter = 0;

  const outputOf = (txid: string, vout: number): ParsedOutput | undefined =>
    (mempool.get(txid)?.tx ?? chainTxs.get(txid)?.tx)?.outputs[vout];

  function noteTouching(tx: ParsedTx): void {
    const mark = (script: string) => {
      let txids = touching.get(script);
      if (!txids) touching.set(script, (txids = new Set()));
      txids.add(tx.txid);
    };
    for (const output of tx.outputs) mark(output.script);
    for (const input of tx.inputs) {
      const prevout = isCoinbase(input) ? undefined : outputOf(input.txid, input.vout);
      if (prevout) mark(prevout.script);
    }
  }

  function addBlock(block: NodeBlock): void {
    if (!blocks.has(block.hash)) {
      // Only the fields Esplora shows: getblock's confirmations and nextblockhash would go stale here.
      const { hash, height, version, time, mediantime, nonce, difficulty, merkleroot, size, weight } = block;
      blocks.set(hash, {
        hash, height, version: version >>> 0, time, mediantime, nonce, difficulty, merkleroot, size, weight,
        bits: Number.parseInt(block.bits, 16),
        previousblockhash: block.previousblockhash ?? null,
        txids: block.tx.map((t) => t.txid),
      });
      for (const nodeTx of block.tx) {
        const known = chainTxs.get(nodeTx.txid);
        if (known) {
          known.blocks.add(block.hash);
          continue;
        }
        const tx = parseNodeTx(nodeTx);
        chainTxs.set(tx.txid, { tx, blocks: new Set([block.hash]) });
        noteTouching(tx);
      }
    }
    best[block.height] = block.hash;
  }

  async function syncChain(): Promise<void> {
    for (;;) {
      const tipHash = (await rpc("getbestblockhash")) as string;
      if (tipHash === best.at(-1)) return;
      const { height: tipHeight } = (await rpc("getblockheader", tipHash)) as { height: number };
      // Walk down from our tip to the last height where the node still has our block: the fork point.
      let height = Math.min(tipHeight, best.length - 1);
      while (height >= 0 && (await rpc("getblockhash", height)) !== best[height]) height--;
      best.length = height + 1;
      for (let h = height + 1; h <= tipHeight; h++) {
        const hash = (await rpc("getblockhash", h)) as string;
        const block = blocks.has(hash) ? null : ((await rpc("getblock", hash, 2)) as NodeBlock);
        const previous = block ? (block.previousblockhash ?? null) : blocks.get(hash)!.previousblockhash;
        if (h > 0 && previous !== best[h - 1]) break; // the chain moved under us: walk again
        if (block) addBlock(block);
        else best[h] = hash;
      }
    }
  }

  async function syncMempool(): Promise<void> {
    const entries = (await rpc("getrawmempool", true)) as Record<string, { time: number }>;
    for (const txid of mempool.keys()) if (!Object.hasOwn(entries, txid)) mempool.delete(txid);
    const arrived: ParsedTx[] = [];
    for (const [txid, entry] of Object.entries(entries)) {
      if (mempool.has(txid)) continue;
      const nodeTx = (await rpc("getrawtransaction", txid, true).catch(() => null)) as NodeTx | null;
      if (!nodeTx) continue; // left the mempool since getrawmempool
      const tx = parseNodeTx(nodeTx);
      mempool.set(txid, { tx, time: entry.time, seen: seenCounter++ });
      arrived.push(tx);
    }
    // After all of them are in: a child may come before its parent in getrawmempool.
    for (const tx of arrived) noteTouching(tx);
  }

  async function sync(): Promise<void> {
    // Mempool and chain are read one after the other; a block found in between would hide its txs from both.
    for (let tries = 0; tries < 5; tries++) {
      await syncChain();
      await syncMempool();
      if ((await rpc("getbestblockhash")) === best.at(-1)) return;
    }
  }

  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  function refresh(): Promise<void> {
    queued ??= (running ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => {
        queued = null;
        running = sync().finally(() => {
          running = null;
        });
        return running;
      });
    return queued;
  }

  const confirmingBlock = (txid: string): BlockRecord | undefined => {
    for (const hash of chainTxs.get(txid)?.blocks ?? []) {
      const block = blocks.get(hash)!;
      if (best[block.height] === hash) return block;
    }
    return undefined;
  };
  const tipHeight = () => best.length - 1;
  const ttlAt = (height: number) => (tipHeight() - height >= CONF_FINAL ? TTL_LONG : TTL_SHORT);

  const state: ChainState = {
    tipHeight,
    tipHash: () => best.at(-1)!,
    hashAt: (height) => best[height],
    ttlAt,
    ttlOf(txid) {
      const block = confirmingBlock(txid);
      return block ? ttlAt(block.height) : TTL_SHORT;
    },
    bestBlock(hash) {
      const block = blocks.get(hash);
      return block && best[block.height] === hash ? block : undefined;
    },
    // electrs looks in its tx store first (txs of every block it indexed, stale ones included), then the mempool.
    tx: (txid) => chainTxs.get(txid)?.tx ?? mempool.get(txid)?.tx,
    statusJson(txid) {
      const block = confirmingBlock(txid);
      return block ? { confirmed: true, block_height: block.height, block_hash: block.hash, block_time: block.time } : { confirmed: false };
    },
    txJson(tx) {
      const prevouts = tx.inputs.map((input) => (isCoinbase(input) ? null : (outputOf(input.txid, input.vout) ?? null)));
      const coinbase = tx.inputs.some(isCoinbase);
      const spent = prevouts.reduce((sum, prevout) => sum + (prevout?.value ?? 0n), 0n);
      const paid = tx.outputs.reduce((sum, output) => sum + output.value, 0n);
      const complete = prevouts.every((prevout, i) => prevout || isCoinbase(tx.inputs[i]!));
      return {
        txid: tx.txid,
        version: tx.version,
        locktime: tx.locktime,
        vin: tx.inputs.map((input, i) => inputJson(input, prevouts[i] ?? null)),
        vout: tx.outputs.map(outputJson),
        size: tx.size,
        weight: tx.weight,
        fee: coinbase || !complete ? 0 : satoshiNumber(spent - paid),
        status: state.statusJson(tx.txid),
      };
    },
    chainHistory(script, lastSeen) {
      const placed: { txid: string; height: number; position: number }[] = [];
      for (const txid of touching.get(script) ?? []) {
        const block = confirmingBlock(txid);
        if (block) placed.push({ txid, height: block.height, position: block.txids.indexOf(txid) });
      }
      placed.sort((x, y) => y.height - x.height || y.position - x.position);
      const ordered = placed.map((p) => p.txid);
      const start = lastSeen === null ? 0 : ordered.indexOf(lastSeen) + 1;
      if (lastSeen !== null && start === 0) return [];
      return ordered.slice(start, start + CHAIN_TXS_PER_PAGE);
    },
    mempoolHistory(script) {
      const entries = [...(touching.get(script) ?? [])].flatMap((txid) => mempool.get(txid) ?? []);
      entries.sort((x, y) => y.time - x.time || y.seen - x.seen);
      return entries.slice(0, MAX_MEMPOOL_TXS).map((entry) => entry.tx.txid);
    },
  };

  return {
    refresh,
    state,
    async scriptOfAddress(address) {
      const known = addressScripts.get(address);
      if (known) return known;
      const info = (await rpc("validateaddress", address)) as { isvalid: boolean; scriptPubKey?: string };
      if (!info.isvalid || !info.scriptPubKey) return { problem: addressProblem(address) };
      addressScripts.set(address, info.scriptPubKey);
      return info.scriptPubKey;
    },
  };
}

/** The amounts come from the raw bytes (exact int64), the addresses from the node's decoding of the same outputs. */
function parseNodeTx(nodeTx: NodeTx): ParsedTx {
  const tx = parseRawTx(hex.decode(nodeTx.hex));
  if (tx.txid !== nodeTx.txid) throw new Error(`esplora-regtest: parsed txid ${tx.txid} but the node says ${nodeTx.txid}`);
  tx.outputs.forEach((output, i) => {
    const spk = nodeTx.vout[i]?.scriptPubKey;
    if (spk?.hex !== output.script) throw new Error(`esplora-regtest: output ${i} of ${tx.txid} differs from the node's`);
    if (hasAddressForm(output.script)) output.address = spk.address ?? spk.addresses?.[0];
  });
  return tx;
}

/** Why electrs would refuse an address: decodable but for another network, or not an address at all. */
function addressProblem(address: string): string {
  const decodes = [
    () => bech32.decode(address as `${string}1${string}`),
    () => bech32m.decode(address as `${string}1${string}`),
    () => createBase58check(sha256).decode(address),
  ].some((decode) => {
    try {
      decode();
      return true;
    } catch {
      return false;
    }
  });
  return decodes ? "Address on invalid network" : `invalid address ${JSON.stringify(address)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Esplora's transaction format.

const isCoinbase = (input: ParsedInput) => input.txid === NULL_TXID && input.vout === COINBASE_VOUT;

function satoshiNumber(value: bigint): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`esplora-regtest: amount ${value} out of range`);
  return Number(value);
}

function outputJson(output: ParsedOutput) {
  return {
    scriptpubkey: output.script,
    scriptpubkey_asm: scriptAsm(output.script),
    scriptpubkey_type: scriptType(output.script),
    ...(output.address === undefined ? {} : { scriptpubkey_address: output.address }),
    value: satoshiNumber(output.value),
  };
}

function inputJson(input: ParsedInput, prevout: ParsedOutput | null) {
  const inner = prevout ? innerScripts(input, prevout.script) : {};
  return {
    txid: input.txid,
    vout: input.vout,
    prevout: prevout ? outputJson(prevout) : null,
    scriptsig: input.scriptSig,
    scriptsig_asm: scriptAsm(input.scriptSig),
    ...(input.witness.length > 0 ? { witness: input.witness } : {}),
    is_coinbase: isCoinbase(input),
    sequence: input.sequence,
    ...(inner.redeem === undefined ? {} : { inner_redeemscript_asm: scriptAsm(inner.redeem) }),
    ...(inner.witness === undefined ? {} : { inner_witnessscript_asm: scriptAsm(inner.witness) }),
  };
}

function blockJson(block: BlockRecord) {
  return {
    id: block.hash,
    height: block.height,
    version: block.version,
    timestamp: block.time,
    tx_count: block.txids.length,
    size: block.size,
    weight: block.weight,
    merkle_root: block.merkleroot,
    previousblockhash: block.previousblockhash,
    mediantime: block.mediantime,
    nonce: block.nonce,
    bits: block.bits,
    difficulty: block.difficulty,
  };
}

/** The redeem script of a P2SH spend (last push of the scriptSig) and the witness script of a P2WSH, P2SH-P2WSH or
 * taproot script-path spend, as electrs's get_innerscripts finds them. */
function innerScripts(input: ParsedInput, prevoutScript: string): { redeem?: string; witness?: string } {
  let redeem: string | undefined;
  if (scriptType(prevoutScript) === "p2sh") {
    const last = scriptOps(input.scriptSig).at(-1);
    if (last && last.data !== undefined) redeem = last.data;
  }
  let witness: string | undefined;
  if (scriptType(prevoutScript) === "v0_p2wsh" || (redeem !== undefined && scriptType(redeem) === "v0_p2wsh")) {
    witness = input.witness.at(-1);
  } else if (scriptType(prevoutScript) === "v1_p2tr") {
    const stack = input.witness.length >= 2 && input.witness.at(-1)!.startsWith("50") ? input.witness.slice(0, -1) : input.witness;
    if (stack.length >= 2) witness = stack.at(-2);
  }
  return { redeem, witness };
}

/** electrs's scriptpubkey_type, tested in its order. */
function scriptType(script: string): string {
  const b = hex.decode(script);
  if (b.length === 0) return "empty";
  if (b[0] === 0x6a) return "op_return";
  if ((b.length === 67 && b[0] === 0x41 && b[66] === 0xac) || (b.length === 35 && b[0] === 0x21 && b[34] === 0xac)) return "p2pk";
  if (b.length === 25 && b[0] === 0x76 && b[1] === 0xa9 && b[2] === 0x14 && b[23] === 0x88 && b[24] === 0xac) return "p2pkh";
  if (b.length === 23 && b[0] === 0xa9 && b[1] === 0x14 && b[22] === 0x87) return "p2sh";
  if (b.length === 22 && b[0] === 0x00 && b[1] === 0x14) return "v0_p2wpkh";
  if (b.length === 34 && b[0] === 0x00 && b[1] === 0x20) return "v0_p2wsh";
  if (b.length === 34 && b[0] === 0x51 && b[1] === 0x20) return "v1_p2tr";
  return "unknown";
}

/** Scripts rust-bitcoin's Address::from_script encodes: p2pkh, p2sh and witness programs (BIP141 sizes). */
function hasAddressForm(script: string): boolean {
  const type = scriptType(script);
  if (type === "p2pkh" || type === "p2sh" || type.startsWith("v0_") || type === "v1_p2tr") return true;
  const b = hex.decode(script);
  const version = b[0]!;
  return b.length >= 4 && b.length <= 42 && version >= 0x51 && version <= 0x60 && b[1] === b.length - 2;
}

// ---------------------------------------------------------------------------------------------------------------
// Script asm in rust-bitcoin's words (what electrs prints): "OP_0", "OP_PUSHBYTES_20 <hex>", "OP_PUSHNUM_2", "OP_CSV".

const OPCODE_NAMES: Record<number, string> = {
  0x4c: "OP_PUSHDATA1", 0x4d: "OP_PUSHDATA2", 0x4e: "OP_PUSHDATA4", 0x4f: "OP_PUSHNUM_NEG1", 0x50: "OP_RESERVED",
  0x61: "OP_NOP", 0x62: "OP_VER", 0x63: "OP_IF", 0x64: "OP_NOTIF", 0x65: "OP_VERIF", 0x66: "OP_VERNOTIF", 0x67: "OP_ELSE",
  0x68: "OP_ENDIF", 0x69: "OP_VERIFY", 0x6a: "OP_RETURN", 0x6b: "OP_TOALTSTACK", 0x6c: "OP_FROMALTSTACK", 0x6d: "OP_2DROP",
  0x6e: "OP_2DUP", 0x6f: "OP_3DUP", 0x70: "OP_2OVER", 0x71: "OP_2ROT", 0x72: "OP_2SWAP", 0x73: "OP_IFDUP", 0x74: "OP_DEPTH",
  0x75: "OP_DROP", 0x76: "OP_DUP", 0x77: "OP_NIP", 0x78: "OP_OVER", 0x79: "OP_PICK", 0x7a: "OP_ROLL", 0x7b: "OP_ROT",
  0x7c: "OP_SWAP", 0x7d: "OP_TUCK", 0x7e: "OP_CAT", 0x7f: "OP_SUBSTR", 0x80: "OP_LEFT", 0x81: "OP_RIGHT", 0x82: "OP_SIZE",
  0x83: "OP_INVERT", 0x84: "OP_AND", 0x85: "OP_OR", 0x86: "OP_XOR", 0x87: "OP_EQUAL", 0x88: "OP_EQUALVERIFY",
  0x89: "OP_RESERVED1", 0x8a: "OP_RESERVED2", 0x8b: "OP_1ADD", 0x8c: "OP_1SUB", 0x8d: "OP_2MUL", 0x8e: "OP_2DIV",
  0x8f: "OP_NEGATE", 0x90: "OP_ABS", 0x91: "OP_NOT", 0x92: "OP_0NOTEQUAL", 0x93: "OP_ADD", 0x94: "OP_SUB", 0x95: "OP_MUL",
  0x96: "OP_DIV", 0x97: "OP_MOD", 0x98: "OP_LSHIFT", 0x99: "OP_RSHIFT", 0x9a: "OP_BOOLAND", 0x9b: "OP_BOOLOR",
  0x9c: "OP_NUMEQUAL", 0x9d: "OP_NUMEQUALVERIFY", 0x9e: "OP_NUMNOTEQUAL", 0x9f: "OP_LESSTHAN", 0xa0: "OP_GREATERTHAN",
  0xa1: "OP_LESSTHANOREQUAL", 0xa2: "OP_GREATERTHANOREQUAL", 0xa3: "OP_MIN", 0xa4: "OP_MAX", 0xa5: "OP_WITHIN",
  0xa6: "OP_RIPEMD160", 0xa7: "OP_SHA1", 0xa8: "OP_SHA256", 0xa9: "OP_HASH160", 0xaa: "OP_HASH256",
  0xab: "OP_CODESEPARATOR", 0xac: "OP_CHECKSIG", 0xad: "OP_CHECKSIGVERIFY", 0xae: "OP_CHECKMULTISIG",
  0xaf: "OP_CHECKMULTISIGVERIFY", 0xb0: "OP_NOP1", 0xb1: "OP_CLTV", 0xb2: "OP_CSV", 0xba: "OP_CHECKSIGADD",
  0xff: "OP_INVALIDOPCODE",
};

function opcodeName(op: number): string {
  if (op === 0) return "OP_0";
  if (op <= 0x4b) return `OP_PUSHBYTES_${op}`;
  if (op >= 0x51 && op <= 0x60) return `OP_PUSHNUM_${op - 0x50}`;
  if (op >= 0xb3 && op <= 0xb9) return `OP_NOP${op - 0xb3 + 4}`;
  if (op >= 0xbb && op <= 0xfe) return `OP_RETURN_${op}`;
  return OPCODE_NAMES[op]!;
}

/** The ops of a script; `data` is the pushed hex (undefined for a non-push), `truncated` when it runs past the end. */
function scriptOps(script: string): { op: number; data?: string; truncated?: boolean }[] {
  const b = hex.decode(script);
  const ops: { op: number; data?: string; truncated?: boolean }[] = [];
  for (let i = 0; i < b.length; ) {
    const op = b[i++]!;
    let length = -1;
    if (op <= 0x4b) length = op;
    else if (op <= 0x4e) {
      const width = op === 0x4c ? 1 : op === 0x4d ? 2 : 4;
      if (i + width > b.length) {
        ops.push({ op, truncated: true });
        break;
      }
      length = 0;
      for (let k = width - 1; k >= 0; k--) length = length * 256 + b[i + k]!;
      i += width;
    }
    if (length < 0) {
      ops.push({ op });
      continue;
    }
    if (i + length > b.length) {
      ops.push({ op, truncated: true });
      break;
    }
    ops.push({ op, data: hex.encode(b.subarray(i, i + length)) });
    i += length;
  }
  return ops;
}

function scriptAsm(script: string): string {
  return scriptOps(script)
    .map(({ op, data, truncated }) => {
      if (truncated) return `${opcodeName(op)} <push past end>`;
      return data ? `${opcodeName(op)} ${data}` : opcodeName(op);
    })
    .join(" ");
}

// ---------------------------------------------------------------------------------------------------------------
// Raw transaction bytes (BIP144 when marker 0x00 and flag 0x01). Litecoin's MWEB flag never appears: the regtest
// harness keeps MWEB inactive.

function parseRawTx(raw: Uint8Array): ParsedTx {
  let at = 0;
  const need = (n: number) => {
    if (at + n > raw.length) throw new Error("esplora-regtest: truncated transaction");
  };
  const u32 = () => {
    need(4);
    const v = (raw[at]! | (raw[at + 1]! << 8) | (raw[at + 2]! << 16) | (raw[at + 3]! << 24)) >>> 0;
    at += 4;
    return v;
  };
  const u64 = () => {
    const low = BigInt(u32());
    return (BigInt(u32()) << 32n) | low;
  };
  const varint = () => {
    need(1);
    const first = raw[at++]!;
    if (first < 0xfd) return first;
    if (first === 0xfd) {
      need(2);
      const v = raw[at]! | (raw[at + 1]! << 8);
      at += 2;
      return v;
    }
    if (first === 0xfe) return u32();
    const v = u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error("esplora-regtest: absurd varint");
    return Number(v);
  };
  const bytes = (n: number) => {
    need(n);
    const v = raw.subarray(at, at + n);
    at += n;
    return v;
  };

  const version = u32();
  const segwit = raw[at] === 0x00 && raw[at + 1] === 0x01;
  if (segwit) at += 2;
  const bodyStart = at;
  const inputs: ParsedInput[] = [];
  for (let n = varint(); n > 0; n--) {
    const txid = hex.encode(bytes(32).slice().reverse());
    const vout = u32();
    const scriptSig = hex.encode(bytes(varint()));
    inputs.push({ txid, vout, scriptSig, witness: [], sequence: u32() });
  }
  const outputs: ParsedOutput[] = [];
  for (let n = varint(); n > 0; n--) {
    const value = u64();
    outputs.push({ value, script: hex.encode(bytes(varint())), address: undefined });
  }
  const bodyEnd = at;
  if (segwit) for (const input of inputs) for (let n = varint(); n > 0; n--) input.witness.push(hex.encode(bytes(varint())));
  const locktimeStart = at;
  const locktime = u32();
  if (at !== raw.length) throw new Error("esplora-regtest: trailing bytes after the transaction");

  // txid: double SHA-256 of the serialization without marker, flag and witnesses.
  const stripped = new Uint8Array(4 + (bodyEnd - bodyStart) + 4);
  stripped.set(raw.subarray(0, 4), 0);
  stripped.set(raw.subarray(bodyStart, bodyEnd), 4);
  stripped.set(raw.subarray(locktimeStart, locktimeStart + 4), 4 + (bodyEnd - bodyStart));
  const txid = hex.encode(sha256(sha256(stripped)).reverse());
  return { txid, version, locktime, size: raw.length, weight: stripped.length * 3 + raw.length, inputs, outputs };
}
