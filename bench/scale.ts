// Scale bench: what one watcher tick costs as merchants grow. The Worker runs under `wrangler dev` (real
// local D1 and Durable Objects, as `npm start` runs it) with BENCH_COUNTERS=true, so the chain watcher
// logs one line per tick with the Durable Object calls, D1 statements and fetches the isolate made
// meanwhile (src/durable/tick-stats.ts). 100, 1,000 and 3,000 merchants, each with one open invoice;
// in rounds of 1-3 payments to randomly picked merchants, each round at its own point of the poll
// interval (the same points at every size), payments go into the node's pool and are
// detected (PENDING_MEMPOOL on the merchant's InvoiceStatusStream); then one block confirms them all.
// Hits go to random merchants, not to one: a watcher calls accounts in some order, and one merchant
// would sit at one place in it. XMR (view keys): a fake monerod (bench/support/fake-monerod.ts) on a
// synthetic chain, paying with re-keyed copies of a regtest vector tx; the first merchant holds the
// vectors' regtest keys, the others random ones. LTC (address matching): a real litecoind in regtest,
// merchants with random tpubs. Figures only.
//
// BENCH_SCALE_SIZES=100,1000 and BENCH_SCALE_COINS=XMR pick less; BENCH_SUBREQUEST_BUDGET sets the
// Worker's SUBREQUEST_BUDGET (default 10000, the Workers Paid default).

import { randomBytes } from "node:crypto";
import { accessSync, constants, readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { HDKey } from "@scure/bip32";
import { CoinType } from "../gen/crypto/v1/crypto_pb";
import { InvoiceStatusType } from "../gen/invoice/v1/invoice_pb";
import type { TickLine } from "../src/durable/tick-stats";
import { startLitecoinRegtest, type LitecoinRegtest } from "../test/e2e/support/litecoin-regtest";
import { startService, type Service } from "../test/e2e/support/service";
import { randomXmrKeys } from "../test/support/xmr-keys";
import { startFakeMonerod, type FakeMonerod } from "./support/fake-monerod";
import { paymentTx, paysAsScanned } from "./support/xmr-payment-tx";

const root = path.resolve(import.meta.dirname, "..");
const SIZES = (process.env.BENCH_SCALE_SIZES ?? "100,1000,3000").split(",").map(Number);
const COINS = (process.env.BENCH_SCALE_COINS ?? "XMR,LTC").split(",").map((c) => c.trim().toUpperCase());
const SUBREQUEST_BUDGET = process.env.BENCH_SUBREQUEST_BUDGET ?? "10000";
/** Payments per round (one tick's hits): 34 payments per size, then one block confirms them all. */
const ROUNDS = [1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3];
/**
 * Where in the poll interval round r pays, after a tick ended: spread evenly, the same for every
 * size, so the wait for the next tick (up to a poll) is sampled alike at every size and the sizes
 * differ by what their ticks cost. Random phases, 3 payments sharing each, gave p50s 400 ms apart
 * between runs at the same size.
 */
const phaseMs = (round: number) => ((round + 0.5) / ROUNDS.length) * POLL_SECONDS * 1000;
const POLL_SECONDS = 1;
const SETUP_CONCURRENCY = 24;
const INVOICE_TIMEOUT_SECONDS = 7200n;
const WAIT_MS = 300_000;
/** Fake node start: blocks before the first tick (the watcher reads the last 20 on a fresh start). */
const PREMINE = 30;

// ---- what the worker says ----

/** The tick lines the watcher prints (BENCH_COUNTERS=true), parsed from wrangler's output. */
class TickLog {
  readonly ticks: TickLine[] = [];
  private partial = "";
  onOutput = (text: string): void => {
    const lines = (this.partial + text).split("\n");
    this.partial = lines.pop() ?? "";
    for (const line of lines) {
      const at = line.indexOf('{"bench":"tick"');
      if (at < 0) continue;
      try {
        this.ticks.push(JSON.parse(line.slice(at)) as TickLine);
      } catch {
        // a line cut by the terminal: skipped
      }
    }
  };
}

/** Intervals in which the bench itself called the API: ticks overlapping them are left out of the figures. */
class ApiActivity {
  readonly spans: [number, number][] = [];
  async during<T>(work: () => Promise<T>): Promise<T> {
    const start = Date.now();
    try {
      return await work();
    } finally {
      this.spans.push([start, Date.now()]);
    }
  }
  overlaps(t: TickLine): boolean {
    return this.spans.some(([a, b]) => a <= t.start + t.ms && t.start <= b);
  }
}

/** One merchant's InvoiceStatusStream, with when each status of each invoice first arrived. */
function watchMerchant(service: Service, userId: string) {
  const abort = new AbortController();
  const reached = new Map<string, Map<InvoiceStatusType, number>>();
  let failed: unknown = null;
  const done = (async () => {
    try {
      for await (const m of service.invoices.invoiceStatusStream({ userId, afterEventId: 0n }, { signal: abort.signal })) {
        const at = Date.now();
        if (!m.invoice) continue;
        const seen = reached.get(m.invoice.id) ?? reached.set(m.invoice.id, new Map()).get(m.invoice.id)!;
        if (!seen.has(m.invoice.status)) seen.set(m.invoice.status, at);
      }
    } catch (e) {
      if (!abort.signal.aborted) failed = e;
    }
  })();
  return {
    /** When `invoiceId` first showed `status`; waits for it. */
    async when(invoiceId: string, status: InvoiceStatusType): Promise<number> {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const at = reached.get(invoiceId)?.get(status);
        if (at !== undefined) return at;
        if (failed) throw new Error(`stream of ${userId} failed: ${String(failed)}`);
        if (Date.now() > deadline) throw new Error(`no ${InvoiceStatusType[status]} for invoice ${invoiceId} within ${WAIT_MS / 1000} s`);
        await sleep(5);
      }
    },
    /** Resolves once the replay reached the merchant's current invoice: the stream is live. */
    async live(invoiceId: string): Promise<void> {
      await this.when(invoiceId, InvoiceStatusType.PENDING);
    },
    async close() {
      abort.abort();
      await done;
    },
  };
}

// ---- the coins ----

interface Merchant {
  userId: string;
  invoice: { id: string; address: string };
  /** XMR: the private view key, to check each payment fixture against the project's scanner. */
  viewKey?: string;
}

interface CoinBench {
  coin: "XMR" | "LTC";
  coinType: CoinType;
  amount: number;
  settings: Record<string, string>;
  /** The keys of the `index`th merchant (UpdateCryptoKeys fields). */
  keys(index: number): { req: Record<string, unknown>; viewKey?: string };
  /** Puts payments to these merchants' open invoices into the node's pool; returns when each got there. */
  pay(merchants: Merchant[]): Promise<number[]>;
  mine(): Promise<void>;
  /** Node requests inside [from, to], when counted at the node; null when only the worker counts them. */
  nodeCallsIn(from: number, to: number): number | null;
  /** What node calls are, for the notes. */
  nodeCallsNote: string;
  close(): Promise<void>;
}

function vectorMerchantKeys(): { privViewKey: string; pubSpendKey: string } {
  const m = JSON.parse(readFileSync(path.join(root, "test/vectors/xmr.json"), "utf8")).regtest.merchant;
  return { privViewKey: m.private_view_key, pubSpendKey: m.public_spend_key };
}

async function xmrBench(): Promise<CoinBench> {
  const node: FakeMonerod = await startFakeMonerod({ premine: PREMINE });
  const atomic = 1_500_000_000_000n;
  return {
    coin: "XMR",
    coinType: CoinType.XMR,
    amount: 1.5,
    settings: { XMR_DAEMON_URL: node.url, XMR_POLL_SECONDS: String(POLL_SECONDS) },
    keys(index) {
      // The first merchant is the vectors' regtest merchant; the rest get fresh keys.
      const fresh = randomXmrKeys();
      const req = index === 0 ? vectorMerchantKeys() : { privViewKey: fresh.private_view_key, pubSpendKey: fresh.public_spend_key };
      return { req: { xmrReq: req }, viewKey: req.privViewKey };
    },
    async pay(merchants) {
      const txs = merchants.map((m) => {
        const tx = paymentTx(m.invoice.address, atomic);
        if (!paysAsScanned(tx, m.invoice.address, m.viewKey!, atomic)) throw new Error("bench/scale: a payment fixture does not scan as paid");
        return tx;
      });
      node.addToPool(txs);
      const at = Date.now();
      return merchants.map(() => at);
    },
    async mine() {
      node.mine();
    },
    nodeCallsIn: (from, to) => node.calls.filter((c) => c.at >= from && c.at <= to).length,
    nodeCallsNote: "requests answered by the fake monerod during the tick",
    close: () => node.close(),
  };
}

const TPUB = { public: 0x043587cf, private: 0x04358394 };

/** A random account-level tpub (depth 3): regtest p2wpkh addresses nobody holds keys for. */
function randomTpub(): string {
  return new HDKey({
    versions: TPUB,
    depth: 3,
    index: 0x80000000,
    parentFingerprint: randomBytes(4).readUInt32BE(0),
    chainCode: randomBytes(32),
    publicKey: secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true),
  }).publicExtendedKey;
}

async function ltcBench(): Promise<CoinBench> {
  const chain: LitecoinRegtest = await startLitecoinRegtest();
  return {
    coin: "LTC",
    coinType: CoinType.LTC,
    amount: 0.01,
    settings: { LTC_NETWORK: "regtest", LTC_DAEMON_URL: chain.urlWithCredentials, LTC_POLL_SECONDS: String(POLL_SECONDS) },
    keys: () => ({ req: { ltcReq: { masterPubKey: randomTpub() } } }),
    async pay(merchants) {
      const at: number[] = [];
      // sendtoaddress returns once the tx is in litecoind's mempool.
      for (const m of merchants) {
        await chain.send(m.invoice.address, 1_000_000n);
        at.push(Date.now());
      }
      return at;
    },
    async mine() {
      await chain.mine(1);
    },
    nodeCallsIn: () => null,
    nodeCallsNote: "HTTP requests the worker sent to litecoind during the tick (a JSON-RPC batch is one)",
    close: () => chain.stop(),
  };
}

// ---- one coin at growing sizes ----

interface SizeResult {
  merchants: number;
  setupS: number;
  ticks: TickLine[];
  /** Node calls per tick, in the order of `ticks`. */
  nodeCalls: number[];
  detectMs: number[];
  /** Each payment's detection split at the start of the first tick after it reached the pool. */
  detectParts: { waitMs: number; inTickMs: number; afterTickEnd: boolean }[];
  wallS: number;
}

async function runCoin(make: () => Promise<CoinBench>): Promise<{ coin: string; results: SizeResult[]; note: string; crossChecks: string[] }> {
  const bench = await make();
  const log = new TickLog();
  const api = new ApiActivity();
  let service: Service | null = null;
  const merchants: Merchant[] = [];
  const results: SizeResult[] = [];
  const crossChecks: string[] = [];
  try {
    const bootAt = Date.now();
    service = await startService({ ...bench.settings, BENCH_COUNTERS: "true", SUBREQUEST_BUDGET: SUBREQUEST_BUDGET }, { onOutput: log.onOutput });
    const svc = service;
    console.log(`${bench.coin}: worker up in ${((Date.now() - bootAt) / 1000).toFixed(1)} s`);

    const newInvoice = async (userId: string) => {
      const r = await svc.invoices.createInvoice({ userId, coin: bench.coinType, amount: bench.amount, timeout: INVOICE_TIMEOUT_SECONDS, confirmations: 1 });
      return { id: r.paymentId, address: r.address };
    };
    const addMerchant = async (index: number): Promise<Merchant> => {
      const { userId } = await svc.users.registerUser({});
      const keys = bench.keys(index);
      await svc.users.updateCryptoKeys({ userId, ...keys.req });
      return { userId, invoice: await newInvoice(userId), viewKey: keys.viewKey };
    };

    /** The first tick that started after `after` and called no object (nothing left to deliver). */
    const quietTick = async (after: number): Promise<TickLine> => {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const later = log.ticks.filter((t) => t.start >= after);
        const quiet = later.find((t) => t.doCalls === 0);
        if (quiet) return quiet;
        // A fan-out that calls objects even when idle: three ticks later is as settled as it gets.
        if (later.length >= 3 && later.every((t) => t.doCalls === later[0]!.doCalls)) return later[2]!;
        if (Date.now() > deadline) throw new Error(`${bench.coin}: no quiet tick within ${WAIT_MS / 1000} s`);
        await sleep(20);
      }
    };

    for (const size of SIZES) {
      // Setup: merchants up to `size`, each with one open invoice.
      const setupAt = Date.now();
      const first = merchants.length;
      await api.during(() =>
        lanes(size - first, SETUP_CONCURRENCY, async (i) => {
          merchants[first + i] = await addMerchant(first + i);
        }),
      );
      const setupS = (Date.now() - setupAt) / 1000;
      console.log(`${bench.coin} ${size} merchants: ${size - first} added in ${setupS.toFixed(1)} s (${((size - first) / setupS).toFixed(0)}/s); warming up`);
      // One block reaches every account that a block reaches (cold objects load), then the watcher is idle.
      const warmAt = Date.now();
      await bench.mine();
      await quietTick(warmAt);

      const measuredFrom = Date.now();
      const detectMs: number[] = [];
      const detectParts: SizeResult["detectParts"] = [];
      const paid: { stream: ReturnType<typeof watchMerchant>; invoiceId: string }[] = [];
      for (const [round, hits] of ROUNDS.entries()) {
        const picked = pick(merchants, hits);
        const streams = await api.during(async () => {
          const s = picked.map((m) => watchMerchant(svc, m.userId));
          await Promise.all(s.map((w, k) => w.live(picked[k]!.invoice.id)));
          return s;
        });
        await quietTick(Date.now());
        await sleep(phaseMs(round));
        const paidAt = await bench.pay(picked);
        const seenAt = await Promise.all(streams.map((w, k) => w.when(picked[k]!.invoice.id, InvoiceStatusType.PENDING_MEMPOOL)));
        seenAt.forEach((at, k) => {
          detectMs.push(at - paidAt[k]!);
          // The tick that found it: the first one to start after the tx reached the pool.
          const tick = log.ticks.find((t) => t.start >= paidAt[k]!);
          if (tick) detectParts.push({ waitMs: tick.start - paidAt[k]!, inTickMs: at - tick.start, afterTickEnd: at > tick.start + tick.ms });
        });
        streams.forEach((stream, k) => paid.push({ stream, invoiceId: picked[k]!.invoice.id }));
        await quietTick(Math.max(...seenAt));
        // Every merchant keeps one open invoice that nobody has paid yet.
        await api.during(async () => {
          for (const m of picked) m.invoice = await newInvoice(m.userId);
        });
      }
      // One block confirms the size's payments: its tick reaches every account a block reaches.
      const minedAt = Date.now();
      await bench.mine();
      const confirmedAt = await Promise.all(paid.map((p) => p.stream.when(p.invoiceId, InvoiceStatusType.CONFIRMED)));
      await quietTick(Math.max(minedAt, ...confirmedAt));
      await api.during(() => Promise.all(paid.map((p) => p.stream.close())));
      const measuredTo = Date.now();
      const ticks = log.ticks.filter((t) => t.start >= measuredFrom && t.start + t.ms <= measuredTo && !api.overlaps(t));
      const nodeCalls = ticks.map((t) => bench.nodeCallsIn(t.start - 5, t.start + t.ms + 5) ?? t.fetches);
      if (bench.nodeCallsIn(0, 0) !== null) {
        const atNode = bench.nodeCallsIn(measuredFrom, measuredTo)!;
        const inWorker = log.ticks.filter((t) => t.start >= measuredFrom && t.start <= measuredTo).reduce((s, t) => s + t.fetches, 0);
        crossChecks.push(`${bench.coin} ${size}: ${atNode} requests reached the fake node while measuring, the worker's ticks counted ${inWorker} fetches`);
        console.log(crossChecks.at(-1));
      }
      results.push({ merchants: size, setupS, ticks, nodeCalls, detectMs, detectParts, wallS: (measuredTo - measuredFrom) / 1000 });
      console.log(`${bench.coin} ${size} merchants: measured ${ticks.length} ticks in ${((measuredTo - measuredFrom) / 1000).toFixed(1)} s; detection p50 ${percentile(detectMs, 50).toFixed(0)} ms`);
    }
    return { coin: bench.coin, results, note: bench.nodeCallsNote, crossChecks };
  } finally {
    await service?.close();
    await bench.close();
  }
}

// ---- figures ----

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const mean = (v: number[]) => (v.length === 0 ? Number.NaN : v.reduce((s, x) => s + x, 0) / v.length);
const max = (v: number[]) => (v.length === 0 ? Number.NaN : Math.max(...v));
const f0 = (n: number) => (Number.isNaN(n) ? "-" : n.toFixed(0));
const f1 = (n: number) => (Number.isNaN(n) ? "-" : n.toFixed(1));

function printCoin(coin: string, results: SizeResult[], note: string): void {
  const header = ["merchants", "setup s", "ticks busy/all", "DO calls/busy tick mean max", "node calls/tick busy idle", "D1 stmts/tick busy max idle", "tick ms p50 busy idle", "detect ms p50 p90 max (n)"];
  const rows = results.map((r) => {
    const busy = r.ticks.map((t, i) => ({ t, node: r.nodeCalls[i]! })).filter((x) => x.t.doCalls > 0);
    const idle = r.ticks.map((t, i) => ({ t, node: r.nodeCalls[i]! })).filter((x) => x.t.doCalls === 0);
    return [
      String(r.merchants),
      f1(r.setupS),
      `${busy.length}/${r.ticks.length}`,
      `${f1(mean(busy.map((x) => x.t.doCalls)))} ${f0(max(busy.map((x) => x.t.doCalls)))}`,
      `${f1(mean(busy.map((x) => x.node)))} ${f1(mean(idle.map((x) => x.node)))}`,
      `${f1(mean(busy.map((x) => x.t.d1Statements)))} ${f0(max(busy.map((x) => x.t.d1Statements)))} ${f1(mean(idle.map((x) => x.t.d1Statements)))}`,
      `${f0(percentile(busy.map((x) => x.t.ms), 50))} ${f0(percentile(idle.map((x) => x.t.ms), 50))}`,
      `${f0(percentile(r.detectMs, 50))} ${f0(percentile(r.detectMs, 90))} ${f0(max(r.detectMs))} (${r.detectMs.length})`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padStart(widths[i]!)).join("  ");
  console.log(`\n${coin}`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  for (const r of results) {
    const methods: Record<string, number> = {};
    const busy = r.ticks.filter((t) => t.doCalls > 0);
    for (const t of busy) for (const [m, n] of Object.entries(t.methods)) methods[m] = (methods[m] ?? 0) + n;
    const per = Object.entries(methods).map(([m, n]) => `${m} ${(n / busy.length).toFixed(1)}`).join(", ");
    console.log(`  ${r.merchants}: DO calls per busy tick by method: ${per || "none"}; D1 round trips per busy tick ${f1(mean(busy.map((t) => t.d1Calls)))}`);
    const parts = r.detectParts;
    console.log(
      `  ${r.merchants}: detection = wait for the next tick p50 ${f0(percentile(parts.map((p) => p.waitMs), 50))} ms + from its start to the event p50 ${f0(percentile(parts.map((p) => p.inTickMs), 50))} ms;` +
        ` ${parts.filter((p) => p.afterTickEnd).length} of ${parts.length} events arrived after that tick had ended`,
    );
  }
  const first = results[0];
  const last = results.at(-1);
  if (first && last && first !== last) {
    console.log(`  detection p50 ${last.merchants} / ${first.merchants} merchants: x${(percentile(last.detectMs, 50) / percentile(first.detectMs, 50)).toFixed(2)}`);
  }
  console.log(`  node calls: ${note}`);
}

// ---- helpers ----

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs `count` calls with at most `parallel` in flight. */
async function lanes(count: number, parallel: number, call: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await call(next++);
    }),
  );
}

/** `n` distinct merchants at random. */
function pick<T>(items: T[], n: number): T[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(n, items.length)) chosen.add(Math.floor(Math.random() * items.length));
  return [...chosen].map((i) => items[i]!);
}

/**
 * The worker's state (local D1, object storage) and litecoind's datadir go to tmpfs when there is one:
 * on this machine's disk, the fsync of every local D1 write made setup 3-4x slower.
 */
function stateOnTmpfs(): string {
  if (process.env.TMPDIR) return process.env.TMPDIR;
  try {
    accessSync("/dev/shm", constants.W_OK);
    process.env.TMPDIR = "/dev/shm";
  } catch {
    // no tmpfs: the OS temp dir
  }
  return process.env.TMPDIR ?? "the OS temp dir";
}

async function main(): Promise<void> {
  // Ctrl-C: exit through the exit handlers, which end wrangler and litecoind.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
  const startedAt = Date.now();
  const stateDir = stateOnTmpfs();
  console.log(`sizes ${SIZES.join(", ")} merchants; rounds of ${ROUNDS.join(",")} payments per size; poll ${POLL_SECONDS} s; SUBREQUEST_BUDGET=${SUBREQUEST_BUDGET}; state in ${stateDir}`);
  console.log(`client, node and workerd share this machine: ${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const runs = [];
  for (const coin of COINS) {
    if (coin === "XMR") runs.push(await runCoin(xmrBench));
    else if (coin === "LTC") runs.push(await runCoin(ltcBench));
    else throw new Error(`bench/scale: unknown coin ${coin}`);
  }
  for (const r of runs) printCoin(r.coin === "XMR" ? "XMR (view keys: fake monerod, synthetic chain of vector txs)" : "LTC (address matching: litecoind regtest)", r.results, r.note);
  for (const r of runs) for (const line of r.crossChecks) console.log(`  ${line}`);
  console.log(
    "\nbusy tick = a tick that called at least one Durable Object; idle = one that called none. Ticks overlapping the bench's own API calls are left out." +
      "\nDO calls, D1 statements and fetches: counted in the worker's isolate during the tick (BENCH_COUNTERS, src/durable/tick-stats.ts)." +
      "\ndetect = payment in the node's pool -> PENDING_MEMPOOL on the merchant's InvoiceStatusStream.",
  );
  console.log(`whole bench ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
}

await main();
