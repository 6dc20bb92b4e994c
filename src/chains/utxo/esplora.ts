// Esplora REST client (blockstream.info, mempool.space, litecoinspace.org and self-hosted electrs): the
// calls the address-polling follower needs, with failover over several URLs, retries, a network check by
// genesis block hash before a URL is first used, shape checks on every answer and a count of requests
// made, which the follower keeps within its budget per tick.
import { WrongNetworkError } from "../network-check";
import { NodeError } from "../node-error";
import { describeFetchError } from "../node-http";
import { nodeJsonReaders } from "../node-json";
import type { UtxoNetwork } from "./networks";

export interface EsploraOptions {
  /** API base URLs (e.g. `https://blockstream.info/api`), tried in turn. */
  urls: string[];
  network: UtxoNetwork;
  /** Per HTTP request, including reading the body. */
  timeoutMs?: number;
  /** Extra rounds over all URLs after the first round fails. */
  retries?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Wraps every HTTP request (the watcher times them for /healthz). */
  timed?: <R>(call: () => Promise<R>) => Promise<R>;
}

/** Where a tx is, as Esplora says. */
export type EsploraStatus = { confirmed: false } | { confirmed: true; height: number; hash: string; time: number };

export interface EsploraOutput {
  index: number;
  /** scriptPubKey, lowercase hex. */
  script: string;
  satoshis: bigint;
}

export interface EsploraTx {
  txid: string;
  coinbase: boolean;
  /** `txid:vout` of every input. */
  spends: string[];
  outputs: EsploraOutput[];
  status: EsploraStatus;
}

/** Every URL failed on every retry, or answered what no retry can fix. */
export class EsploraError extends NodeError {
  override name = "EsploraError";
}

export interface EsploraClient {
  /** The URL in use now, for logs. */
  node(): string;
  /** HTTP requests made so far, retries included. */
  requestsMade(): number;
  tipHeight(): Promise<number>;
  /** The hash of the best chain's block at `height`; null above the tip. */
  blockHashAt(height: number): Promise<string | null>;
  /** Whether the block is on the best chain (false for an orphaned or unknown one). */
  inBestChain(hash: string): Promise<boolean>;
  /**
   * An address's txs, newest first: up to 50 in the pool, then 25 confirmed (`/address/:a/txs`); with
   * `afterTxid`, the next 25 confirmed ones after it (`/address/:a/txs/chain/:txid`).
   */
  addressTxs(address: string, afterTxid?: string): Promise<EsploraTx[]>;
  /**
   * The tx; null when the explorer does not know it (404: dropped, replaced, never seen). Not
   * `/tx/:txid/status`: electrs answers that with `{"confirmed":false}` for a txid it never saw.
   */
  tx(txid: string): Promise<EsploraTx | null>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 1;
const BACKOFF_MS = 500;

/** Another attempt, or another URL, may succeed. */
class Transient extends Error {}
/** This URL serves another chain: never used. */
class WrongChain extends Error {
  constructor(readonly genesis: string) {
    super(`genesis ${genesis}`);
  }
}
const { asObject, asArray, asHash, asBoolean, asString } = nodeJsonReaders((message) => new Transient(message));

/** What a request may find: the answer, or (for lookups) that there is none. */
type Found<T> = { found: true; value: T } | { found: false };

export function createEsploraClient(opts: EsploraOptions): EsploraClient {
  const urls = opts.urls.map((u) => u.replace(/\/+$/, ""));
  if (urls.length === 0) throw new TypeError("esplora: at least one URL is required");
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = opts.retries ?? DEFAULT_RETRIES;
  // Workers throw "Illegal invocation" when the global fetch is called detached from globalThis.
  const doFetch: typeof fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timed = opts.timed ?? ((call) => call());
  const expected = new Set(opts.network.genesisHashes);
  const expectedName = `${opts.network.coin} ${opts.network.name}`;
  /** Per URL: null until checked, else the genesis hash it serves. */
  const genesisOf: (string | null)[] = urls.map(() => null);
  let current = 0;
  let requests = 0;

  async function get(base: string, path: string): Promise<{ status: number; text: string }> {
    requests += 1;
    return timed(async () => {
      let response: Response;
      try {
        response = await doFetch(`${base}${path}`, { headers: { accept: "application/json, text/plain" }, signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        throw new Transient(`${base}${path}: ${describeFetchError(error, timeoutMs)}`, { cause: error });
      }
      try {
        return { status: response.status, text: await response.text() };
      } catch (error) {
        throw new Transient(`${base}${path}: ${describeFetchError(error, timeoutMs)} while reading the body`, { cause: error });
      }
    });
  }

  /** Asks the URL for its block 0 the first time it is used. */
  async function checkNetwork(i: number): Promise<void> {
    if (genesisOf[i] === null) {
      const { status, text } = await get(urls[i]!, "/block-height/0");
      if (status !== 200) throw new Transient(`${urls[i]}/block-height/0: HTTP ${status}`);
      genesisOf[i] = asHash(text.trim(), `${urls[i]}/block-height/0`);
    }
    if (!expected.has(genesisOf[i]!)) throw new WrongChain(genesisOf[i]!);
  }

  /**
   * GET `path` from the current URL, then the others, for `retries` more rounds. `read` turns a 200 body
   * into the value; a 404 is "not found" when `lookup`, else a failure. Any 5xx, 429, timeout or garbage
   * moves on to the next URL.
   */
  async function request<T>(path: string, read: (text: string, where: string) => T, lookup: boolean): Promise<Found<T>> {
    let last = "no attempt";
    let wrong: { genesis: string; url: string } | null = null;
    for (let round = 0; round <= retries; round++) {
      if (round > 0) await sleep(BACKOFF_MS * round);
      for (let k = 0; k < urls.length; k++) {
        const i = (current + k) % urls.length;
        const where = `${urls[i]}${path}`;
        try {
          await checkNetwork(i);
          const { status, text } = await get(urls[i]!, path);
          if (status === 404 && lookup) {
            current = i;
            return { found: false };
          }
          if (status !== 200) {
            const message = `${where}: HTTP ${status}${text ? ` (${JSON.stringify(text.slice(0, 80))})` : ""}`;
            if (status >= 500 || status === 429 || status === 408) throw new Transient(message);
            // 400 or an unexpected 404: our request is wrong for this explorer, and another may take it.
            last = message;
            continue;
          }
          const value = read(text, where);
          current = i;
          return { found: true, value };
        } catch (error) {
          if (error instanceof WrongChain) {
            wrong = { genesis: error.genesis, url: urls[i]! };
            continue;
          }
          if (!(error instanceof Transient)) throw error;
          last = error.message;
        }
      }
      // Every URL is on another chain: no retry changes that.
      if (wrong && genesisOf.every((g) => g !== null && !expected.has(g))) {
        throw new WrongNetworkError(`the chain with genesis ${wrong.genesis}`, expectedName, wrong.url);
      }
    }
    throw new EsploraError(`esplora ${path}: failed ${retries + 1} round(s) over ${urls.length} URL(s); last: ${last}`);
  }

  const json = (text: string, where: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      throw new Transient(`${where}: not JSON (${JSON.stringify(text.slice(0, 80))})`);
    }
  };
  const must = <T>(found: Found<T>, what: string): T => {
    if (!found.found) throw new EsploraError(`esplora: ${what} not found`);
    return found.value;
  };

  return {
    node: () => urls[current]!,
    requestsMade: () => requests,

    async tipHeight() {
      const found = await request("/blocks/tip/height", (text, where) => asNatural(/^\d+$/.test(text.trim()) ? Number(text.trim()) : null, where), false);
      return must(found, "tip");
    },

    async blockHashAt(height) {
      const found = await request(`/block-height/${height}`, (text, where) => asHash(text.trim(), where), true);
      return found.found ? found.value : null;
    },

    async inBestChain(hash) {
      const found = await request(`/block/${hash}/status`, (text, where) => asBoolean(asObject(json(text, where), where).in_best_chain, `${where} in_best_chain`), true);
      return found.found && found.value;
    },

    async addressTxs(address, afterTxid) {
      if (!/^[0-9A-Za-z]{1,100}$/.test(address)) throw new TypeError(`esplora: not an address: ${address}`);
      const path = afterTxid ? `/address/${address}/txs/chain/${afterTxid}` : `/address/${address}/txs`;
      const found = await request(path, (text, where) => asArray(json(text, where), where).map((tx, i) => readTx(tx, `${where}[${i}]`)), false);
      return must(found, path);
    },

    async tx(txid) {
      const found = await request(`/tx/${txid}`, (text, where) => readTx(json(text, where), where), true);
      return found.found ? found.value : null;
    },
  };
}

/** A height, an index, a time or an amount of satoshis: a whole number JSON carries exactly. */
function asNatural(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw new Transient(`${where}: not a whole number`);
  return value;
}

function readStatus(value: unknown, where: string): EsploraStatus {
  const s = asObject(value, where);
  if (!asBoolean(s.confirmed, `${where}.confirmed`)) return { confirmed: false };
  return {
    confirmed: true,
    height: asNatural(s.block_height, `${where}.block_height`),
    hash: asHash(s.block_hash, `${where}.block_hash`),
    time: asNatural(s.block_time, `${where}.block_time`),
  };
}

/** Esplora's transaction format, to what the follower needs. Outputs without a script (Litecoin's MWEB) are left out. */
export function readTx(value: unknown, where: string): EsploraTx {
  const tx = asObject(value, where);
  const txid = asHash(tx.txid, `${where}.txid`);
  const vin = asArray(tx.vin, `${where}.vin`).map((v, i) => asObject(v, `${where}.vin[${i}]`));
  const coinbase = vin.some((v) => v.is_coinbase === true);
  const spends = coinbase ? [] : vin.map((v, i) => `${asHash(v.txid, `${where}.vin[${i}].txid`)}:${asNatural(v.vout, `${where}.vin[${i}].vout`)}`);
  const outputs: EsploraOutput[] = [];
  asArray(tx.vout, `${where}.vout`).forEach((o, index) => {
    const out = asObject(o, `${where}.vout[${index}]`);
    if (out.scriptpubkey === undefined) return;
    const script = asString(out.scriptpubkey, `${where}.vout[${index}].scriptpubkey`);
    if (!/^([0-9a-f]{2})*$/.test(script)) throw new Transient(`${where}.vout[${index}].scriptpubkey: not lowercase hex`);
    outputs.push({ index, script, satoshis: BigInt(asNatural(out.value, `${where}.vout[${index}].value`)) });
  });
  return { txid, coinbase, spends, outputs, status: readStatus(tx.status, `${where}.status`) };
}
