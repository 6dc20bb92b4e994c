// Webhook delivery bench: boots the Worker (wrangler's test harness: in-memory D1, Durable Objects
// and the local Queue), creates a burst of 1,000 invoices for one merchant with one endpoint, and
// counts how fast the invoice.created deliveries reach a node:http receiver on loopback. Baseline
// side by side: the same receiver hit by a plain loop of 1,000 POSTs of the same size from Node,
// 6 at a time (the consumer's own parallelism). Figures only.

import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createTestHarness } from "wrangler";
import { connectJson } from "./rpc";

const EVENTS = 1000;
const CREATE_CONCURRENCY = 16;
const BASELINE_PARALLEL = 6;
const BUDGET_MS = 90_000;
const root = path.resolve(import.meta.dirname, "..");

function merchantKeys(): { privViewKey: string; pubSpendKey: string } {
  const file = [path.join(root, "test/vectors/xmr.json"), "/work/shared/vectors/xmr.json"].find((f) => existsSync(f));
  if (!file) throw new Error("bench/webhooks: no xmr.json vectors (test/vectors/xmr.json)");
  const m = JSON.parse(readFileSync(file, "utf8")).regtest.merchant;
  return { privViewKey: m.private_view_key, pubSpendKey: m.public_spend_key };
}

/** Runs `count` calls with at most `parallel` in flight. */
async function lanes(count: number, parallel: number, call: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) await call(next++);
  }));
}

async function main(): Promise<void> {
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  let received = 0;
  let bytes = 0;
  let lastAt = 0;
  const receiver = createServer((req, res) => {
    req.on("data", (d: Buffer) => (bytes += d.length));
    req.on("end", () => {
      received++;
      lastAt = performance.now();
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const token = randomBytes(24).toString("base64url");
  const server = createTestHarness({
    root,
    workers: [
      {
        configPath: "./wrangler.toml",
        secrets: { API_TOKEN: token, KEYS_ENCRYPTION_KEY: randomBytes(32).toString("hex") },
        vars: { XMR_DAEMON_URL: "http://127.0.0.1:9", XMR_POLL_SECONDS: "3600", WEBHOOK_ALLOW_INSECURE_URLS: "true" },
      },
    ],
  });
  try {
    const { url } = await server.listen();
    await server.getWorker().applyD1Migrations("DB");
    const base = url.toString().replace(/\/$/, "");
    const rpc = connectJson(base, token);
    const { userId } = (await rpc("user.v1.UserService/RegisterUser", {})) as { userId: string };
    await rpc("user.v1.UserService/UpdateCryptoKeys", { userId, xmrReq: merchantKeys() });
    await rpc("webhook.v1.WebhookService/CreateWebhook", { userId, url: receiverUrl, events: ["invoice.created"] });
    const invoice = { userId, coin: "XMR", amount: 1.5, timeout: "600", confirmations: 1 };

    console.log(`${EVENTS} invoice.created events for one merchant (CreateInvoice, ${CREATE_CONCURRENCY} at a time), one endpoint on loopback`);
    console.log(`client, receiver and workerd share this machine: ${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}\n`);
    const t0 = performance.now();
    await lanes(EVENTS, CREATE_CONCURRENCY, async () => void (await rpc("invoice.v1.InvoiceService/CreateInvoice", invoice)));
    const created = performance.now();
    while (received < EVENTS && performance.now() - t0 < BUDGET_MS) await new Promise((r) => setTimeout(r, 20));
    const burst = { n: received, createdS: (created - t0) / 1000, lastS: (lastAt - t0) / 1000, bytes };
    if (received < EVENTS) console.log(`note: only ${received} of ${EVENTS} deliveries within ${BUDGET_MS / 1000} s`);

    // Baseline: the same receiver, the same body size, a plain loop of fetches.
    const body = "x".repeat(Math.round(burst.bytes / Math.max(1, burst.n)));
    received = 0;
    const b0 = performance.now();
    await lanes(EVENTS, BASELINE_PARALLEL, async () => {
      const r = await fetch(receiverUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
      await r.text();
    });
    const baselineS = (performance.now() - b0) / 1000;

    const rows = [
      ["edgepay: burst start -> last delivery", burst.n, burst.lastS, burst.n / burst.lastS],
      ["  of which CreateInvoice calls", EVENTS, burst.createdS, EVENTS / burst.createdS],
      [`baseline: Node fetch loop, ${BASELINE_PARALLEL} at a time`, EVENTS, baselineS, EVENTS / baselineS],
    ] as const;
    console.log(`${"phase".padEnd(44)} ${"count".padStart(6)} ${"seconds".padStart(8)} ${"per s".padStart(8)}`);
    for (const [name, n, s, rate] of rows) console.log(`${name.padEnd(44)} ${String(n).padStart(6)} ${s.toFixed(2).padStart(8)} ${rate.toFixed(0).padStart(8)}`);
    console.log(`\nbody ${body.length} bytes on average; deliveries after the last CreateInvoice returned: ${(burst.lastS - burst.createdS).toFixed(2)} s of drain`);
    if (burst.n < EVENTS) process.exitCode = 1;
  } finally {
    await server.close();
    receiver.close();
  }
}

await main();
