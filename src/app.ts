// The Hono app: request ids, health, and the Connect / gRPC-Web routes of the services.
// Native gRPC (HTTP/2 with trailers) cannot be served by a Worker; gRPC-Web and Connect can.

import { createConnectRouter, createContextValues } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { InvoiceService } from "../gen/invoice/v1/invoice_pb";
import { UserService } from "../gen/user/v1/user_pb";
import { WebhookService } from "../gen/webhook/v1/webhook_pb";
import { configuredCoins } from "./chains/registry";
import { checkout } from "./checkout/routes";
import { monitoringMs } from "./config";
import { readAllChainStates } from "./db/chain-state";
import { database } from "./db/client";
import { anyWatchedInvoice } from "./db/invoices";
import { heldAccountsByCoin } from "./db/scan-holds";
import { chainHealth } from "./domain/chain-health";
import { tickerOf, type Coin } from "./domain/coins";
import { chainWatcherOf } from "./durable/chain-watcher";
import type { Env } from "./env";
import { kInvocation } from "./rpc/context";
import { invoiceService } from "./rpc/invoice-service";
import { edgeOptions, serveRpc } from "./rpc/serve";
import { userService } from "./rpc/user-service";
import { webhookService } from "./rpc/webhook-service";

export const VERSION = "0.1.0";

const router = createConnectRouter({ grpc: false, ...edgeOptions })
  .service(UserService, userService)
  .service(InvoiceService, invoiceService)
  .service(WebhookService, webhookService);
const handlers = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));

export const app = new Hono<{ Bindings: Env }>();

app.use(requestId());

app.get("/healthz", async (c) => {
  const db = database(c.env.DB);
  let ready = true;
  let states: Awaited<ReturnType<typeof readAllChainStates>> = [];
  let held = new Map<Coin, { accounts: number; since: number }>();
  try {
    [states, held] = await Promise.all([readAllChainStates(db), heldAccountsByCoin(db)]);
  } catch {
    ready = false;
  }
  const now = Date.now();
  const coins = Object.fromEntries(
    await Promise.all(
      configuredCoins(c.env).map(async ({ coin, runtime }) => {
        // Unknown counts as watched: a stale scan then shows rather than hides.
        const watching = ready ? await anyWatchedInvoice(db, coin, now - monitoringMs(c.env)).catch(() => true) : true;
        const live = await chainWatcherOf(c.env, coin).status().catch(() => null);
        const context = { now, pollMs: runtime.pollMs, scanLagMs: runtime.scanLagMs ?? 0, watching, waitingSince: live?.waitingSince ?? null, held: held.get(coin) ?? null };
        return [tickerOf(coin), chainHealth(coin, states.find((s) => s.coin === coin), context)] as const;
      }),
    ),
  );
  const auth = Boolean(c.env.API_TOKEN);
  const coinsReady = Object.values(coins).every((h) => h.ready);
  // A coin that is not ready leaves the service up (200, so probes can read why); only a D1 failure is 503.
  return c.json(
    { status: ready && auth && coinsReady ? "ok" : "degraded", version: VERSION, ready: ready && coinsReady, db: ready, auth, coins },
    ready ? 200 : 503,
  );
});

app.route("/", checkout);

app.post("*", (c) => {
  const handler = handlers.get(new URL(c.req.url).pathname);
  if (!handler) return c.notFound();
  const values = createContextValues().set(kInvocation, {
    env: c.env,
    origin: new URL(c.req.url).origin,
    waitUntil: (p) => c.executionCtx.waitUntil(p),
  });
  return serveRpc(handler, c.req.raw, values);
});

