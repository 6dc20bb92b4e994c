// API load bench: boots the Worker on a loopback port (wrangler's test harness, in-memory D1 and
// Durable Objects) and compares CreateInvoice with GET /healthz at a fixed concurrency. Figures only.

import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createTestHarness } from "wrangler";
import { connectJson } from "./rpc";

const CONCURRENCY = 16;
const WARMUP = 50;
const MEASURED = 800;
/** Phases stop early past these, so a slow machine still finishes the whole bench within a minute. */
const WARMUP_BUDGET_MS = 5_000;
const PHASE_BUDGET_MS = 20_000;

const root = path.resolve(import.meta.dirname, "..");

interface Phase {
  name: string;
  latenciesMs: number[];
  errors: number;
  firstError?: string;
  wallMs: number;
}

/** The regtest merchant from Monero's own wallet; the in-repo copy of the vectors wins over the shared one. */
function merchantKeys(): { privViewKey: string; pubSpendKey: string } {
  const file = [path.join(root, "test/vectors/xmr.json"), "/work/shared/vectors/xmr.json"].find((f) => existsSync(f));
  if (!file) throw new Error("bench/api: no xmr.json vectors (test/vectors/xmr.json)");
  const m = JSON.parse(readFileSync(file, "utf8")).regtest.merchant;
  return { privViewKey: m.private_view_key, pubSpendKey: m.public_spend_key };
}

/** Runs `count` calls with at most `concurrency` in flight; stops taking new calls after `budgetMs`. */
async function runPhase(name: string, count: number, call: () => Promise<void>, budgetMs = PHASE_BUDGET_MS): Promise<Phase> {
  const phase: Phase = { name, latenciesMs: [], errors: 0, wallMs: 0 };
  let started = 0;
  const t0 = performance.now();
  const deadline = t0 + budgetMs;
  const lane = async () => {
    while (started < count && performance.now() < deadline) {
      started++;
      const t = performance.now();
      try {
        await call();
        phase.latenciesMs.push(performance.now() - t);
      } catch (e) {
        phase.errors++;
        phase.firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  phase.wallMs = performance.now() - t0;
  return phase;
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function summarize(ph: Phase) {
  const sorted = [...ph.latenciesMs].sort((a, b) => a - b);
  return {
    name: ph.name,
    ok: sorted.length,
    errors: ph.errors,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    rps: sorted.length / (ph.wallMs / 1000),
  };
}

function printTable(rows: ReturnType<typeof summarize>[]): void {
  const header = ["call", "ok", "err", "p50 ms", "p99 ms", "max ms", "req/s"];
  const cells = rows.map((r) => [r.name, String(r.ok), String(r.errors), r.p50.toFixed(2), r.p99.toFixed(2), r.max.toFixed(2), r.rps.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  // Loopback only: skip miniflare's download of Request.cf data (it fails offline and only adds noise).
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  const token = randomBytes(24).toString("base64url");
  const bootStart = performance.now();
  const server = createTestHarness({
    root,
    workers: [
      {
        configPath: "./wrangler.toml",
        secrets: { API_TOKEN: token, KEYS_ENCRYPTION_KEY: randomBytes(32).toString("hex") },
        // A closed loopback port: XMR is enabled, and the watcher's polls fail fast and rarely.
        vars: { XMR_DAEMON_URL: "http://127.0.0.1:9", XMR_POLL_SECONDS: "3600" },
      },
    ],
  });
  try {
    const { url } = await server.listen();
    await server.getWorker().applyD1Migrations("DB");
    const base = url.toString().replace(/\/$/, "");
    console.log(`worker up on ${base} in ${((performance.now() - bootStart) / 1000).toFixed(1)} s (build + workerd start + migrations)`);

    const rpc = connectJson(base, token);
    const healthz = async (): Promise<void> => {
      const res = await fetch(`${base}/healthz`);
      const text = await res.text();
      if (res.status !== 200) throw new Error(`/healthz: HTTP ${res.status} ${text.slice(0, 300)}`);
    };

    const { userId } = (await rpc("user.v1.UserService/RegisterUser", {})) as { userId: string };
    await rpc("user.v1.UserService/UpdateCryptoKeys", { userId, xmrReq: merchantKeys() });
    const invoice = { userId, coin: "XMR", amount: 1.5, timeout: "600", confirmations: 1 };
    const createInvoice = async (): Promise<void> => {
      const r = await rpc("invoice.v1.InvoiceService/CreateInvoice", invoice);
      if (typeof r.address !== "string" || typeof r.paymentId !== "string") throw new Error(`CreateInvoice: unexpected reply ${JSON.stringify(r)}`);
    };

    const load = loadavg().map((l) => l.toFixed(2)).join(" ");
    console.log(`${WARMUP} warm-up then ${MEASURED} measured requests per call, concurrency ${CONCURRENCY}, one merchant`);
    console.log(`client and workerd share this machine: ${availableParallelism()} CPUs, load average ${load}\n`);
    const phases: Phase[] = [];
    for (const [name, call] of [["GET /healthz", healthz], ["CreateInvoice (XMR)", createInvoice]] as const) {
      const warm = await runPhase(`${name} warm-up`, WARMUP, call, WARMUP_BUDGET_MS);
      if (warm.errors > 0) throw new Error(`${name} failed during warm-up: ${warm.firstError}`);
      phases.push(await runPhase(name, MEASURED, call));
    }

    const [health, create] = phases.map(summarize) as [ReturnType<typeof summarize>, ReturnType<typeof summarize>];
    printTable([health, create]);
    console.log(`\nCreateInvoice / healthz: p50 x${(create.p50 / health.p50).toFixed(1)}, throughput x${(create.rps / health.rps).toFixed(3)}`);
    const short = phases.filter((p) => p.latenciesMs.length + p.errors < MEASURED);
    for (const p of short) console.log(`note: ${p.name} hit the ${PHASE_BUDGET_MS / 1000} s budget after ${p.latenciesMs.length + p.errors} requests`);
    const failed = phases.filter((p) => p.errors > 0);
    for (const p of failed) console.error(`${p.name}: ${p.errors} failed requests; first: ${p.firstError}`);
    if (failed.length > 0) process.exitCode = 1;
  } finally {
    await server.close();
  }
}

await main();
