// Webhooks end to end: the Worker under `wrangler dev` (local D1, Durable Objects, and the local
// Queue it produces to and consumes from) delivering to a node:http receiver on 127.0.0.1, with a
// TON chain from the emulator (support/ton-sandbox.ts) for the payment events. Every body is checked
// by the Standard Webhooks reference verifier.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { InvoiceStatusType as S } from "../../gen/invoice/v1/invoice_pb";
import { COMMIT_MARGIN_MS } from "../../src/chains/ton/follow";
import { MerchantSession } from "./support/merchant-session";
import { startService, type Service } from "./support/service";
import { startTonSandbox, tonSettings, type TonSandbox } from "./support/ton-sandbox";

const API_KEY = "e2e-toncenter-key";
const MERCHANT_KEY = "47a8b32ab912617b8bc138c5509a36fdce98bc3de4334c135a278e3fdf220f02";
const POLL_SECONDS = 1;
const RETRY_SECONDS = [1, 1, 1, 1, 1, 1];

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A receiver whose answer per path is scripted: the next status of the path's list, then 200. */
class Receiver {
  readonly received: Received[] = [];
  readonly script = new Map<string, number[]>();
  private server!: Server;
  url = "";

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        const path = req.url ?? "/";
        this.received.push({ path, headers: req.headers, body, at: Date.now() });
        const status = this.script.get(path)?.shift() ?? 200;
        res.writeHead(status).end(status === 200 ? "ok" : "nope");
      });
    });
    await new Promise<void>((r) => this.server.listen(port, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Parsed payloads at a path, each verified with `secret`. */
  payloads(path: string, secret: string): Record<string, any>[] {
    return this.at(path).map((r) => new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as Record<string, any>);
  }

  async until(check: () => boolean, ms: number, what: string): Promise<void> {
    for (const deadline = Date.now() + ms; !check(); ) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.received.map((r) => [r.path, r.body.slice(0, 80)]))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

let ton: TonSandbox;
let service: Service;
let m: MerchantSession;
let hooks: Service["webhooks"];
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.start();
  ton = await startTonSandbox({ apiKey: API_KEY });
  service = await startService({
    ...tonSettings(ton, API_KEY, POLL_SECONDS),
    WEBHOOK_ALLOW_INSECURE_URLS: "true",
    WEBHOOK_RETRY_SECONDS: RETRY_SECONDS.join(","),
  });
  hooks = service.webhooks;
  m = await MerchantSession.open(service, CoinType.TON, { tonReq: { publicKey: MERCHANT_KEY } }, POLL_SECONDS * 1000);
}, 180_000);

afterAll(async () => {
  await m?.close();
  await service?.close();
  await ton?.stop();
  await receiver.stop();
});

const webhookAt = async (path: string, events: string[] = []) => {
  const { webhookId, secret } = await hooks.createWebhook({ userId: m.userId, url: receiver.url + path, events });
  return { webhookId, secret };
};
const typesOf = (payloads: Record<string, any>[], invoiceId: string) => payloads.filter((p) => p.invoice.id === invoiceId).map((p) => p.type);

describe("webhook delivery through the local Queue", () => {
  it("delivers every event of a paid invoice, signed, with the invoice as the API shows it", async () => {
    const hook = await webhookAt("/paid");
    const inv = await m.invoice(1.5, 2);
    await ton.pay({ to: inv.address, amountNano: 400_000_000n });
    await ton.pay({ to: inv.address, amountNano: 1_100_000_000n });
    await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 15_000, "PENDING_MEMPOOL");
    await ton.mine(3);
    await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 15_000, "CONFIRMED");
    const want = ["invoice.created", "invoice.payment_received", "invoice.payment_received", "invoice.pending_mempool", "invoice.confirmed"];
    await receiver.until(() => typesOf(receiver.payloads("/paid", hook.secret), inv.paymentId).length >= want.length, 20_000, "five events");
    const payloads = receiver.payloads("/paid", hook.secret).sort((a, b) => Number(a.eventId) - Number(b.eventId));
    expect(payloads.map((p) => p.type)).toEqual(want);
    expect(payloads.map((p) => p.invoice.actualAmountExact)).toEqual(["0", "0.4", "1.5", "1.5", "1.5"]);
    expect(payloads[1]!.payment).toMatchObject({ amountExact: "0.4", inTime: true });
    expect(payloads[4]!.invoice).toMatchObject({ status: "CONFIRMED", userId: m.userId, requiredAmountExact: "1.5" });
    const ids = receiver.at("/paid").map((r) => r.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("delivers invoice.created and invoice.expired for an invoice nobody pays, to an endpoint that wants only those", async () => {
    const hook = await webhookAt("/expiry", ["invoice.expired"]);
    const inv = await m.invoice(1, 1, 10n);
    // Expiry waits for the chain to be scanned past expiresAt: a block dated after it (the scan time trails blocks by COMMIT_MARGIN_MS).
    const expiresAt = Number((await service.invoices.getInvoices({ paymentIds: [inv.paymentId] })).invoices[0]!.expiresAt!.seconds) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt + COMMIT_MARGIN_MS + 1500 - Date.now())));
    await ton.mine(1);
    await m.stream.until(m.reached(inv.paymentId, S.EXPIRED), 20_000, "EXPIRED");
    await receiver.until(() => receiver.at("/expiry").length >= 1, 15_000, "invoice.expired");
    expect(receiver.payloads("/expiry", hook.secret).map((p) => [p.type, p.invoice.status])).toEqual([["invoice.expired", "EXPIRED"]]);
  });

  it("retries a receiver that answers 500 twice, with the same webhook-id each time, on the schedule", async () => {
    receiver.script.set("/flaky", [500, 500]);
    const hook = await webhookAt("/flaky", ["invoice.created"]);
    const inv = await m.invoice(1, 1);
    await receiver.until(() => receiver.at("/flaky").length >= 3, 30_000, "three attempts");
    await new Promise((r) => setTimeout(r, 2000));
    const got = receiver.at("/flaky");
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => r.headers["webhook-id"]))).toEqual(new Set([got[0]!.headers["webhook-id"]]));
    expect(receiver.payloads("/flaky", hook.secret).map((p) => p.invoice.id)).toEqual([inv.paymentId, inv.paymentId, inv.paymentId]);
    // What the queue did with retry({ delaySeconds: 1 }): the gaps between attempts.
    console.log(`attempt gaps (ms): ${got.slice(1).map((r, i) => r.at - got[i]!.at).join(", ")}`);
    const rows = await service.sql<{ attempt: number; http_status: number; state: number }>(
      "SELECT a.attempt, a.http_status, a.state FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.webhook_id = ? ORDER BY a.id",
      hook.webhookId,
    );
    expect(rows).toEqual([
      { attempt: 1, http_status: 500, state: 0 },
      { attempt: 2, http_status: 500, state: 0 },
      { attempt: 3, http_status: 200, state: 1 },
    ]);
  });

  it("redelivers an event on RedeliverEvent, and sends a deleted webhook nothing more", async () => {
    const hook = await webhookAt("/again", ["invoice.created"]);
    const inv = await m.invoice(1, 1);
    await receiver.until(() => receiver.at("/again").length >= 1, 15_000, "the first delivery");
    const eventId = BigInt(receiver.payloads("/again", hook.secret)[0]!.eventId);
    await hooks.redeliverEvent({ userId: m.userId, webhookId: hook.webhookId, eventId });
    await receiver.until(() => receiver.at("/again").length >= 2, 15_000, "the redelivery");
    expect(receiver.payloads("/again", hook.secret).map((p) => p.invoice.id)).toEqual([inv.paymentId, inv.paymentId]);
    await hooks.deleteWebhook({ userId: m.userId, webhookId: hook.webhookId });
    await m.invoice(1, 1);
    await new Promise((r) => setTimeout(r, 3000));
    expect(receiver.at("/again")).toHaveLength(2);
  });

  it("delivers what came while the receiver was down, and across a restart of the worker", async () => {
    const hook = await webhookAt("/down", ["invoice.created"]);
    receiver.script.set("/down", Array(RETRY_SECONDS.length + 5).fill(503));
    const first = await m.invoice(1, 1);
    await receiver.until(() => receiver.at("/down").length >= 1, 15_000, "a first refused attempt");
    // Killed between attempts (the local queue's pending retry dies with it), then up again.
    await service.restart();
    receiver.script.set("/down", []);
    await m.resume(0n);
    const second = await m.invoice(1, 1);
    // The second arrives through its own message; the first's next attempt is overdue: the cron sweep re-enqueues it once a minute late.
    await receiver.until(() => receiver.payloads("/down", hook.secret).some((p) => p.invoice.id === second.paymentId), 15_000, "the second invoice");
    const overdue = async () => (await service.sql<{ n: number }>("SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ? AND state = 0", hook.webhookId))[0]!.n;
    // The local queue's delayed retry did not survive the kill (measured): the first is pending, overdue, until the sweep.
    expect(await overdue()).toBe(1);
    // Two minutes pass for that delivery without waiting them out: its attempt was due that much earlier.
    await service.sql("UPDATE webhook_deliveries SET next_attempt_at = next_attempt_at - 120000 WHERE webhook_id = ? AND state = 0", hook.webhookId);
    const swept = Date.now();
    await service.cron();
    const firstAfter = () => receiver.at("/down").filter((r) => r.at >= swept && JSON.parse(r.body).invoice.id === first.paymentId);
    await receiver.until(() => firstAfter().length >= 1, 30_000, "the first invoice, swept");
    expect(firstAfter().map((r) => r.headers["webhook-id"])).toEqual([receiver.at("/down")[0]!.headers["webhook-id"]]);
    const delivered = await service.sql<{ state: number }>("SELECT state FROM webhook_deliveries WHERE webhook_id = ?", hook.webhookId);
    expect(delivered.map((d) => d.state)).toEqual([1, 1]);
  }, 240_000);
});
