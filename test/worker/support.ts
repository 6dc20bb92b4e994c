// Clients for the worker under test, one per wire protocol the API serves, and shared fixtures.

import { ConnectError, createClient, type Code, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { createExecutionContext, evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { InvoiceService } from "../../gen/invoice/v1/invoice_pb";
import { UserService } from "../../gen/user/v1/user_pb";
import { WebhookService } from "../../gen/webhook/v1/webhook_pb";
import worker from "../../src/index";
import type { Env } from "../../src/env";
import vectors from "../vectors/xmr.json";
import { randomXmrKeys } from "../support/xmr-keys";

export const API_TOKEN = "test-token-0123456789";

// connect-web asks for redirect:"error", which workerd rejects.
const workerFetch: typeof fetch = (input, init) =>
  (exports as unknown as { default: { fetch: typeof fetch } }).default.fetch(input as Request, { ...init, redirect: "manual" });

export type Protocol = "connect-json" | "connect-binary" | "grpc-web";
export const PROTOCOLS: Protocol[] = ["connect-json", "connect-binary", "grpc-web"];

const bearer =
  (token: string | null): Interceptor =>
  (next) =>
  (req) => {
    if (token !== null) req.header.set("Authorization", `Bearer ${token}`);
    return next(req);
  };

function transport(protocol: Protocol, token: string | null, fetcher: typeof fetch = workerFetch) {
  const opts = { baseUrl: "http://svc", fetch: fetcher, interceptors: [bearer(token)] };
  if (protocol === "grpc-web") return createGrpcWebTransport(opts);
  return createConnectTransport({ ...opts, useBinaryFormat: protocol === "connect-binary" });
}

export interface Clients {
  users: Client<typeof UserService>;
  invoices: Client<typeof InvoiceService>;
  webhooks: Client<typeof WebhookService>;
}

function clientsOver(t: ReturnType<typeof transport>): Clients {
  return { users: createClient(UserService, t), invoices: createClient(InvoiceService, t), webhooks: createClient(WebhookService, t) };
}

export function clients(protocol: Protocol, token: string | null = API_TOKEN): Clients {
  return clientsOver(transport(protocol, token));
}

/** Clients of the same Worker code run with other settings, e.g. `{ XMR_DAEMON_URL: undefined }` for a server without a node. */
export function clientsWithSettings(protocol: Protocol, settings: Partial<Env>): Clients {
  const changed = { ...(env as unknown as Env), ...settings };
  const fetcher: typeof fetch = async (input, init) =>
    worker.fetch(new Request(input as Request, { ...init, redirect: "manual" }) as Request<unknown, IncomingRequestCfProperties>, changed, createExecutionContext());
  return clientsOver(transport(protocol, API_TOKEN, fetcher));
}

/** The regtest merchant of the vectors: keys and the subaddresses Monero's wallet derived. */
export const merchant = vectors.regtest.merchant as {
  private_view_key: string;
  public_spend_key: string;
  primary_address: string;
  subaddresses: { major: number; minor: number; address: string }[];
};
export const mainnetWallet = vectors.wallets.mainnet as typeof merchant;

/** A registered user with the merchant's XMR keys. */
export async function merchantUser(c: Clients, keys: { private_view_key: string; public_spend_key: string } = merchant): Promise<string> {
  const { userId } = await c.users.registerUser({});
  await c.users.updateCryptoKeys({ userId, xmrReq: { privViewKey: keys.private_view_key, pubSpendKey: keys.public_spend_key } });
  return userId;
}


/**
 * A new user holding the vector merchant's keys as if nobody had registered them before: an earlier
 * holder in this file's database gives them up (its payments, invoices and key set are deleted), so
 * every test that calls this starts at subaddress (0,1) whatever ran before it.
 */
export async function freshMerchantUser(c: Clients): Promise<string> {
  const { DB, USER_ACCOUNT } = env as unknown as Env;
  const held = `SELECT id FROM key_sets WHERE fingerprint = ?1`;
  const ofHeld = `SELECT id FROM invoices WHERE key_set_id IN (${held})`;
  const holders = await DB.prepare(`SELECT DISTINCT user_id FROM key_sets WHERE fingerprint = ?1`).bind(merchant.public_spend_key).all<{ user_id: string }>();
  await DB.batch([
    DB.prepare(`DELETE FROM payments WHERE invoice_id IN (${ofHeld})`).bind(merchant.public_spend_key),
    DB.prepare(`DELETE FROM invoices WHERE key_set_id IN (${held})`).bind(merchant.public_spend_key),
    DB.prepare(`DELETE FROM key_sets WHERE fingerprint = ?1`).bind(merchant.public_spend_key),
  ]);
  // Their accounts still hold the given-up invoices in memory; reloaded, they hold none.
  for (const { user_id } of holders.results) {
    // An account that is not running holds nothing in memory.
    await evictDurableObject(USER_ACCOUNT.get(USER_ACCOUNT.idFromName(user_id))).catch((e: unknown) => {
      if (!String(e).includes("not currently running")) throw e;
    });
  }
  return merchantUser(c, merchant);
}

export { randomXmrKeys };

/** What GET /healthz answered: the HTTP status and the parsed body. */
export async function health(): Promise<{ http: number; body: { status: string; ready: boolean; coins: Record<string, Record<string, unknown>> } }> {
  const res = await workerFetch("http://svc/healthz");
  return { http: res.status, body: await res.json() };
}

/** The Connect code and wire message a call failed with; throws if it succeeded. */
export async function failure(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = ConnectError.from(e);
    return { code: err.code, message: err.rawMessage };
  }
  throw new Error("expected the call to fail");
}
