// Runs the Worker for end-to-end tests exactly as `npm start` does: `wrangler dev` (workerd, local
// D1 with migrations, Durable Objects with real alarms) on a free loopback port, with its state
// persisted in a temp dir so the worker can be killed and restarted. Plus API clients.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { InvoiceService } from "../../../gen/invoice/v1/invoice_pb";
import { recordStream } from "../../support/stream-recorder";
import { UserService } from "../../../gen/user/v1/user_pb";
import { WebhookService } from "../../../gen/webhook/v1/webhook_pb";
import { freePort } from "./ports";

export const E2E_TOKEN = "e2e-token-0123456789";
const KEYS_ENCRYPTION_KEY = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
const ROOT = resolve(import.meta.dirname, "../../..");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const READY_TIMEOUT_MS = 60_000;

export interface Service {
  url: string;
  users: Client<typeof UserService>;
  invoices: Client<typeof InvoiceService>;
  webhooks: Client<typeof WebhookService>;
  /** Runs SQL against the service's local D1 (values are inlined as quoted literals). */
  sql<T = Record<string, unknown>>(query: string, ...params: (string | number)[]): Promise<T[]>;
  /** Fires the cron trigger, as Cloudflare does every minute. */
  cron(): Promise<void>;
  /** Kills the worker process (SIGKILL: no goodbye), runs `whileDown`, starts it again on the same state. */
  restart(whileDown?: () => Promise<unknown>): Promise<void>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Every chunk the worker prints (stdout and stderr), as it comes: benches read log lines from it. */
  onOutput?: (text: string) => void;
}

export async function startService(settings: Record<string, string>, opts: ServiceOptions = {}): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), "edgepay-e2e-"));
  // A config of its own beside its own .dev.vars: a developer's .dev.vars never leaks in.
  const config = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(ROOT, "src/index.ts"))}`)
    .replace(/^migrations_dir = .*$/m, `migrations_dir = ${JSON.stringify(join(ROOT, "migrations"))}`);
  writeFileSync(join(dir, "wrangler.toml"), config);
  const vars = { API_TOKEN: E2E_TOKEN, KEYS_ENCRYPTION_KEY, ...settings };
  writeFileSync(join(dir, ".dev.vars"), Object.entries(vars).map(([k, v]) => `${k}=${v}`).join("\n") + "\n");
  const common = ["--config", join(dir, "wrangler.toml"), "--persist-to", join(dir, "state")];
  const env = { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" };
  const wrangler = (args: string[]) => {
    const r = spawnSync(WRANGLER, [...args, ...common], { cwd: dir, env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  wrangler(["d1", "migrations", "apply", "edgepay", "--local"]);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let log = "";

  const start = async () => {
    const inspector = await freePort();
    child = spawn(WRANGLER, ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), ...common], {
      cwd: dir,
      env,
      detached: true, // its own process group: killing it takes workerd along
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = (d: Buffer) => {
      const text = d.toString();
      log = (log + text).slice(-20_000);
      opts.onOutput?.(text);
    };
    child.stdout!.on("data", output);
    child.stderr!.on("data", output);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`wrangler dev did not come up:\n${log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async (signal: NodeJS.Signals) => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.pid === undefined) return;
    const exited = new Promise((r) => c.once("exit", r));
    try {
      process.kill(-c.pid, signal);
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-c.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }, 10_000);
    await exited;
    clearTimeout(timer);
  };
  const killOnExit = () => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  };
  process.once("exit", killOnExit);
  await start();

  const auth: Interceptor = (next) => (req) => {
    req.header.set("Authorization", `Bearer ${E2E_TOKEN}`);
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors: [auth] });
  return {
    url,
    users: createClient(UserService, transport),
    invoices: createClient(InvoiceService, transport),
    webhooks: createClient(WebhookService, transport),
    async sql<T>(query: string, ...params: (string | number)[]) {
      let i = 0;
      const inlined = query.replace(/\?/g, () => {
        const p = params[i++];
        return typeof p === "number" ? String(p) : `'${String(p).replace(/'/g, "''")}'`;
      });
      const out = JSON.parse(wrangler(["d1", "execute", "edgepay", "--local", "--json", "--command", inlined])) as { results: T[] }[];
      return out[0]?.results ?? [];
    },
    async cron() {
      await fetch(`${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}`);
    },
    async restart(whileDown) {
      await stop("SIGKILL");
      await whileDown?.();
      await start();
    },
    async close() {
      await stop("SIGTERM");
      process.off("exit", killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A recorded stream of the service (see test/support/stream-recorder.ts). */
export const watchStream = (service: Service, req: { userId?: string; afterEventId?: bigint }) => recordStream(service.invoices, req);
