// Runs the Worker for end-to-end tests as `wrangler dev` would (createTestHarness: workerd, local
// D1 with migrations, Durable Objects with real alarms) on a loopback port, plus API clients.

import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createTestHarness, type WorkerHandle } from "wrangler";
import { InvoiceService, type InvoiceStatusStreamResponse } from "../../../gen/invoice/v1/invoice_pb";
import { UserService } from "../../../gen/user/v1/user_pb";

export const E2E_TOKEN = "e2e-token-0123456789";
const KEYS_ENCRYPTION_KEY = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

export interface Service {
  url: string;
  users: Client<typeof UserService>;
  invoices: Client<typeof InvoiceService>;
  worker: WorkerHandle;
  /** Runs SQL against the service's D1 database. */
  sql<T = Record<string, unknown>>(query: string, ...params: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function startService(settings: Record<string, string>): Promise<Service> {
  const harness = createTestHarness({
    workers: [
      {
        configPath: "./wrangler.toml",
        secrets: { API_TOKEN: E2E_TOKEN, KEYS_ENCRYPTION_KEY, ...settings },
      },
    ],
  });
  const { url } = await harness.listen();
  const worker = harness.getWorker();
  await worker.applyD1Migrations("DB");
  const auth: Interceptor = (next) => (req) => {
    req.header.set("Authorization", `Bearer ${E2E_TOKEN}`);
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl: url.toString().replace(/\/$/, ""), httpVersion: "1.1", interceptors: [auth] });
  return {
    url: url.toString(),
    users: createClient(UserService, transport),
    invoices: createClient(InvoiceService, transport),
    worker,
    async sql<T>(query: string, ...params: unknown[]) {
      const env = (await worker.getEnv()) as { DB: D1Database };
      return (await env.DB.prepare(query).bind(...params).all<T>()).results;
    },
    close: () => harness.close(),
  };
}

/** A stream that records every message in the background; tests wait for what they expect. */
export function watchStream(service: Service, req: { userId?: string; afterEventId?: bigint }) {
  const abort = new AbortController();
  const messages: InvoiceStatusStreamResponse[] = [];
  let error: unknown = null;
  const done = (async () => {
    try {
      for await (const m of service.invoices.invoiceStatusStream(req, { signal: abort.signal })) messages.push(m);
    } catch (e) {
      error = e;
    }
  })();
  return {
    messages,
    error: () => error,
    done,
    /** Statuses seen for one invoice, in order. */
    statuses(invoiceId: string) {
      return messages.filter((m) => m.invoice?.id === invoiceId).map((m) => m.invoice!.status);
    },
    async until(predicate: () => boolean, timeoutMs: number, what: string): Promise<number> {
      const start = Date.now();
      while (!predicate()) {
        if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; error: ${String(error)}`);
        if (error) throw new Error(`stream ended while waiting for ${what}: ${String(error)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return Date.now() - start;
    },
    async close() {
      abort.abort();
      await done;
    },
  };
}
