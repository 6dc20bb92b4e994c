// WebhookService over every protocol the API serves: the error table, the life of an endpoint
// (create, list, update, rotate, delete), secrets sealed at rest, the delivery history and redelivery.
import { Code } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { DeliveryState } from "../../gen/webhook/v1/webhook_pb";
import { openWebhookSecret } from "../../src/webhooks/secret";
import type { Env } from "../../src/env";
import { clients, clientsWithSettings, failure, merchantUser, PROTOCOLS, randomXmrKeys, type Clients } from "./support";

const E = env as unknown as Env;
const DB = E.DB;
const HOOK = "https://shop.example/hooks/edgepay";
const DAY_MS = 24 * 60 * 60 * 1000;
const unknownWebhook = { code: Code.NotFound, message: "unknown webhook" };
const unknownEvent = { code: Code.NotFound, message: "unknown event" };

async function user(c: Clients): Promise<string> {
  return (await c.users.registerUser({})).userId;
}

async function webhook(c: Clients, userId: string, url = HOOK): Promise<string> {
  return (await c.webhooks.createWebhook({ userId, url })).webhookId;
}

/** An event-log row of the user's, written directly (the invoice need not exist for the history). */
async function logEvent(userId: string, type: string | null, status = 0): Promise<number> {
  const row = await DB.prepare("INSERT INTO events (user_id, invoice_id, status, snapshot, type, created_at) VALUES (?, ?, ?, '{}', ?, ?) RETURNING id")
    .bind(userId, crypto.randomUUID(), status, type, Date.now())
    .first<{ id: number }>();
  return row!.id;
}

async function delivery(webhookId: string, eventId: number, d: { state: number; attempts: number; nextAttemptAt: number | null; createdAt: number }): Promise<number> {
  const row = await DB.prepare(
    "INSERT INTO webhook_deliveries (webhook_id, event_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
  )
    .bind(webhookId, eventId, d.state, d.attempts, d.nextAttemptAt, d.createdAt, d.createdAt)
    .first<{ id: number }>();
  return row!.id;
}

async function attempt(
  deliveryId: number,
  webhookId: string,
  a: { attempt: number; httpStatus: number; error: string | null; durationMs: number; at: number; state: number; nextAttemptAt: number | null },
): Promise<void> {
  await DB.prepare(
    "INSERT INTO webhook_attempts (delivery_id, webhook_id, attempt, http_status, error, duration_ms, at, state, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  )
    .bind(deliveryId, webhookId, a.attempt, a.httpStatus, a.error, a.durationMs, a.at, a.state, a.nextAttemptAt)
    .run();
}

const messageId = (eventId: number, webhookId: string) => `msg_${eventId}_${webhookId.replaceAll("-", "")}`;

describe.each(PROTOCOLS)("WebhookService over %s", (protocol) => {
  const c = clients(protocol);

  it("creates, lists, updates, rotates and deletes an endpoint", async () => {
    const userId = await user(c);
    const created = await c.webhooks.createWebhook({ userId, url: HOOK, events: ["invoice.confirmed", "invoice.expired"], description: "shop" });
    expect(created.webhookId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const webhookId = created.webhookId;

    const listed = await c.webhooks.listWebhooks({ userId });
    expect(listed.webhooks).toHaveLength(1);
    const [w] = listed.webhooks;
    expect(w).toMatchObject({ webhookId, url: HOOK, events: ["invoice.confirmed", "invoice.expired"], description: "shop", enabled: true });
    expect(Math.abs(timestampDate(w!.createdAt!).getTime() - Date.now())).toBeLessThan(60_000);
    expect(JSON.stringify(listed, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).not.toContain(created.secret.slice(6));

    const updated = await c.webhooks.updateWebhook({ userId, webhookId, url: "https://shop.example/v2", events: ["invoice.created"], enabled: false });
    expect(updated.webhook).toMatchObject({ webhookId, url: "https://shop.example/v2", events: ["invoice.created"], description: "shop", enabled: false });
    // Fields left out stay; allEvents clears the filter.
    const again = await c.webhooks.updateWebhook({ userId, webhookId, allEvents: true, description: "" });
    expect(again.webhook).toMatchObject({ url: "https://shop.example/v2", events: [], description: "", enabled: false });
    expect((await c.webhooks.listWebhooks({ userId })).webhooks[0]).toMatchObject({ url: "https://shop.example/v2", events: [], enabled: false });

    const rotated = await c.webhooks.rotateWebhookSecret({ userId, webhookId });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    expect(Math.abs(timestampDate(rotated.previousSecretExpiresAt!).getTime() - (Date.now() + DAY_MS))).toBeLessThan(60_000);
    const row = await DB.prepare("SELECT sealed_secret, previous_sealed_secret, previous_until FROM webhooks WHERE id = ?")
      .bind(webhookId)
      .first<{ sealed_secret: string; previous_sealed_secret: string; previous_until: number }>();
    expect(await openWebhookSecret(E, webhookId, row!.sealed_secret)).toBe(rotated.secret);
    expect(await openWebhookSecret(E, webhookId, row!.previous_sealed_secret)).toBe(created.secret);
    expect(row!.previous_until).toBe(timestampDate(rotated.previousSecretExpiresAt!).getTime());

    await c.webhooks.deleteWebhook({ userId, webhookId });
    expect((await c.webhooks.listWebhooks({ userId })).webhooks).toEqual([]);
    expect(await failure(c.webhooks.deleteWebhook({ userId, webhookId }))).toEqual(unknownWebhook);
    expect(await failure(c.webhooks.updateWebhook({ userId, webhookId, enabled: true }))).toEqual(unknownWebhook);
    const deleted = await DB.prepare("SELECT deleted_at FROM webhooks WHERE id = ?").bind(webhookId).first<{ deleted_at: number | null }>();
    expect(deleted?.deleted_at).toBeTypeOf("number");
  });

  it("stores each event type once, in the order given", async () => {
    const userId = await user(c);
    const webhookId = (await c.webhooks.createWebhook({ userId, url: HOOK, events: ["invoice.expired", "invoice.created", "invoice.expired"] })).webhookId;
    expect((await c.webhooks.listWebhooks({ userId })).webhooks.find((w) => w.webhookId === webhookId)?.events).toEqual(["invoice.expired", "invoice.created"]);
  });

  it("refuses a 21st live endpoint, and takes one again after a delete", async () => {
    const userId = await user(c);
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await webhook(c, userId, `${HOOK}/${i}`));
    expect(await failure(c.webhooks.createWebhook({ userId, url: HOOK }))).toEqual({ code: Code.ResourceExhausted, message: "at most 20 webhooks per user" });
    await c.webhooks.deleteWebhook({ userId, webhookId: ids[0]! });
    await webhook(c, userId);
    expect((await c.webhooks.listWebhooks({ userId })).webhooks).toHaveLength(20);
  });

  describe("error table", () => {
    it.each([
      ["a userId that is not a UUID", { userId: "nope" }, { code: Code.InvalidArgument, message: "invalid userId" }],
      ["an unknown user", { userId: crypto.randomUUID() }, { code: Code.InvalidArgument, message: "Invalid userId" }],
    ])("refuses %s on every method", async (_why, who, expected) => {
      const webhookId = crypto.randomUUID();
      expect(await failure(c.webhooks.createWebhook({ ...who, url: HOOK }))).toEqual(expected);
      expect(await failure(c.webhooks.listWebhooks(who))).toEqual(expected);
      expect(await failure(c.webhooks.updateWebhook({ ...who, webhookId }))).toEqual(expected);
      expect(await failure(c.webhooks.deleteWebhook({ ...who, webhookId }))).toEqual(expected);
      expect(await failure(c.webhooks.rotateWebhookSecret({ ...who, webhookId }))).toEqual(expected);
      expect(await failure(c.webhooks.listDeliveries({ ...who, webhookId }))).toEqual(expected);
      expect(await failure(c.webhooks.redeliverEvent({ ...who, webhookId, eventId: 1n }))).toEqual(expected);
    });

    it.each([
      ["http:// without WEBHOOK_ALLOW_INSECURE_URLS", "http://shop.example/hook"],
      ["not a URL", "shop.example/hook"],
      ["credentials", "https://user:pw@shop.example/hook"],
      ["a loopback host", "https://127.0.0.1/hook"],
      ["loopback spelt in decimal", "https://2130706433/hook"],
      ["IPv4-mapped loopback", "https://[::ffff:127.0.0.1]/hook"],
      ["the metadata service", "https://169.254.169.254/latest/meta-data"],
      ["a private host", "https://192.168.0.10/hook"],
      ["localhost", "https://localhost/hook"],
      ["more than 2,000 characters", `https://shop.example/${"a".repeat(2000)}`],
    ])("refuses a URL with %s, on create and update", async (_why, url) => {
      const userId = await user(c);
      const expected = { code: Code.InvalidArgument, message: "invalid webhook url" };
      expect(await failure(c.webhooks.createWebhook({ userId, url }))).toEqual(expected);
      const webhookId = await webhook(c, userId);
      expect(await failure(c.webhooks.updateWebhook({ userId, webhookId, url }))).toEqual(expected);
    });

    it("refuses an unknown event type, on create and update", async () => {
      const userId = await user(c);
      const expected = { code: Code.InvalidArgument, message: "unknown webhook event type: invoice.paid" };
      expect(await failure(c.webhooks.createWebhook({ userId, url: HOOK, events: ["invoice.created", "invoice.paid"] }))).toEqual(expected);
      const webhookId = await webhook(c, userId);
      expect(await failure(c.webhooks.updateWebhook({ userId, webhookId, events: ["invoice.paid"] }))).toEqual(expected);
    });

    it("refuses events together with allEvents", async () => {
      const userId = await user(c);
      const webhookId = await webhook(c, userId);
      expect(await failure(c.webhooks.updateWebhook({ userId, webhookId, events: ["invoice.created"], allEvents: true }))).toEqual({
        code: Code.InvalidArgument,
        message: "events and allEvents exclude each other",
      });
    });

    it("takes a description of 200 characters and refuses 201, on create and update", async () => {
      const userId = await user(c);
      const expected = { code: Code.InvalidArgument, message: "webhook description too long: at most 200 characters" };
      expect(await failure(c.webhooks.createWebhook({ userId, url: HOOK, description: "d".repeat(201) }))).toEqual(expected);
      const webhookId = (await c.webhooks.createWebhook({ userId, url: HOOK, description: "é".repeat(200) })).webhookId;
      expect(await failure(c.webhooks.updateWebhook({ userId, webhookId, description: "d".repeat(201) }))).toEqual(expected);
    });

    it.each([
      ["malformed", async () => "not-a-uuid"],
      ["unknown", async () => crypto.randomUUID()],
      ["another user's", async (c: Clients) => webhook(c, await user(c))],
      [
        "deleted",
        async (c: Clients, userId: string) => {
          const webhookId = await webhook(c, userId);
          await c.webhooks.deleteWebhook({ userId, webhookId });
          return webhookId;
        },
      ],
    ])("answers NotFound for a %s webhookId on every method that takes one", async (_why, make) => {
      const userId = await user(c);
      const webhookId = await make(c, userId);
      expect(await failure(c.webhooks.updateWebhook({ userId, webhookId, enabled: false }))).toEqual(unknownWebhook);
      expect(await failure(c.webhooks.deleteWebhook({ userId, webhookId }))).toEqual(unknownWebhook);
      expect(await failure(c.webhooks.rotateWebhookSecret({ userId, webhookId }))).toEqual(unknownWebhook);
      expect(await failure(c.webhooks.listDeliveries({ userId, webhookId }))).toEqual(unknownWebhook);
      expect(await failure(c.webhooks.redeliverEvent({ userId, webhookId, eventId: 1n }))).toEqual(unknownWebhook);
    });

    it("leaves another user's webhook as it was", async () => {
      const owner = await user(c);
      const webhookId = await webhook(c, owner);
      const other = await user(c);
      await failure(c.webhooks.updateWebhook({ userId: other, webhookId, enabled: false }));
      await failure(c.webhooks.deleteWebhook({ userId: other, webhookId }));
      expect((await c.webhooks.listWebhooks({ userId: owner })).webhooks).toMatchObject([{ webhookId, enabled: true }]);
    });

    it("refuses an unknown event, and another user's, for a redelivery", async () => {
      const userId = await user(c);
      const webhookId = await webhook(c, userId);
      const theirs = await logEvent(await user(c), "invoice.created");
      expect(await failure(c.webhooks.redeliverEvent({ userId, webhookId, eventId: BigInt(theirs) }))).toEqual(unknownEvent);
      expect(await failure(c.webhooks.redeliverEvent({ userId, webhookId, eventId: BigInt(theirs) + 1_000_000n }))).toEqual(unknownEvent);
      expect(await failure(c.webhooks.redeliverEvent({ userId, webhookId, eventId: 2n ** 64n - 1n }))).toEqual(unknownEvent);
      const rows = await DB.prepare("SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ?").bind(webhookId).first<{ n: number }>();
      expect(rows?.n).toBe(0);
    });

    it.each(["not base64!", "YQ", "eDEyMw", "dTA", "a".repeat(40)])("refuses the pageToken %j", async (pageToken) => {
      const userId = await user(c);
      const webhookId = await webhook(c, userId);
      expect(await failure(c.webhooks.listDeliveries({ userId, webhookId, pageToken }))).toEqual({ code: Code.InvalidArgument, message: "invalid pageToken" });
    });

    it("refuses every method without the bearer token", async () => {
      const anonymous = clients(protocol, null);
      const expected = { code: Code.Unauthenticated, message: "missing or invalid bearer token" };
      expect(await failure(anonymous.webhooks.createWebhook({ userId: crypto.randomUUID(), url: HOOK }))).toEqual(expected);
      expect(await failure(anonymous.webhooks.listWebhooks({ userId: crypto.randomUUID() }))).toEqual(expected);
      expect(await failure(anonymous.webhooks.listDeliveries({ userId: crypto.randomUUID(), webhookId: crypto.randomUUID() }))).toEqual(expected);
    });
  });

  describe("ListDeliveries", () => {
    it("shows untried deliveries first, then attempts newest first, page by page", async () => {
      const userId = await user(c);
      const webhookId = await webhook(c, userId);
      const t0 = Date.now() - 60 * 60 * 1000;
      const paid = await logEvent(userId, "invoice.payment_received", 0);
      const old = await logEvent(userId, null, 3); // written before events had a type: typed by its status
      const fresh = await logEvent(userId, "invoice.expired", 2);
      const d1 = await delivery(webhookId, paid, { state: DeliveryState.DELIVERY_DELIVERED, attempts: 2, nextAttemptAt: null, createdAt: t0 });
      await attempt(d1, webhookId, { attempt: 1, httpStatus: 503, error: "HTTP 503", durationMs: 120, at: t0 + 1000, state: 0, nextAttemptAt: t0 + 6000 });
      await attempt(d1, webhookId, { attempt: 2, httpStatus: 200, error: null, durationMs: 80, at: t0 + 6000, state: 1, nextAttemptAt: null });
      const d2 = await delivery(webhookId, old, { state: DeliveryState.DELIVERY_PENDING, attempts: 1, nextAttemptAt: t0 + 70_000, createdAt: t0 + 7000 });
      await attempt(d2, webhookId, { attempt: 1, httpStatus: 0, error: "timeout", durationMs: 15000, at: t0 + 10_000, state: 0, nextAttemptAt: t0 + 70_000 });
      await delivery(webhookId, fresh, { state: DeliveryState.DELIVERY_PENDING, attempts: 0, nextAttemptAt: t0 + 20_000, createdAt: t0 + 20_000 });
      // Another endpoint's history stays out.
      const elsewhere = await webhook(c, userId);
      const d3 = await delivery(elsewhere, paid, { state: 1, attempts: 1, nextAttemptAt: null, createdAt: t0 });
      await attempt(d3, elsewhere, { attempt: 1, httpStatus: 204, error: null, durationMs: 5, at: t0 + 500, state: 1, nextAttemptAt: null });

      const all = await c.webhooks.listDeliveries({ userId, webhookId });
      expect(all.nextPageToken).toBe("");
      const at = (ms: number) => expect.objectContaining({ seconds: BigInt(Math.floor(ms / 1000)) });
      expect(all.deliveries).toEqual([
        expect.objectContaining({ eventId: BigInt(fresh), attempt: 0, httpStatus: 0, state: DeliveryState.DELIVERY_PENDING, eventType: "invoice.expired", at: at(t0 + 20_000), nextAttemptAt: at(t0 + 20_000) }),
        expect.objectContaining({ eventId: BigInt(old), attempt: 1, httpStatus: 0, error: "timeout", durationMs: 15000, state: DeliveryState.DELIVERY_PENDING, eventType: "invoice.confirmed", nextAttemptAt: at(t0 + 70_000) }),
        expect.objectContaining({ eventId: BigInt(paid), attempt: 2, httpStatus: 200, error: "", state: DeliveryState.DELIVERY_DELIVERED, eventType: "invoice.payment_received" }),
        expect.objectContaining({ eventId: BigInt(paid), attempt: 1, httpStatus: 503, error: "HTTP 503", durationMs: 120, at: at(t0 + 1000), eventType: "invoice.payment_received" }),
      ]);
      expect(all.deliveries[2]!.nextAttemptAt).toBeUndefined(); // delivered: nothing more is due
      for (const d of all.deliveries) expect(d.webhookMessageId).toBe(messageId(Number(d.eventId), webhookId));

      const pages = [];
      let pageToken: string | undefined;
      do {
        const page = await c.webhooks.listDeliveries({ userId, webhookId, limit: 1, ...(pageToken && { pageToken }) });
        expect(page.deliveries.length).toBe(1);
        pages.push(...page.deliveries);
        pageToken = page.nextPageToken;
      } while (pageToken);
      expect(pages).toEqual(all.deliveries);

      const first = await c.webhooks.listDeliveries({ userId, webhookId, limit: 3 });
      expect(first.deliveries).toEqual(all.deliveries.slice(0, 3));
      const last = await c.webhooks.listDeliveries({ userId, webhookId, limit: 3, pageToken: first.nextPageToken });
      expect(last).toMatchObject({ deliveries: all.deliveries.slice(3), nextPageToken: "" });
    });

    it("answers an empty history for a new endpoint, and at most 500 lines however many are asked for", async () => {
      const userId = await user(c);
      const webhookId = await webhook(c, userId);
      expect(await c.webhooks.listDeliveries({ userId, webhookId, limit: 100_000 })).toMatchObject({ deliveries: [], nextPageToken: "" });
      const eventId = await logEvent(userId, "invoice.created");
      const d = await delivery(webhookId, eventId, { state: 0, attempts: 0, nextAttemptAt: 0, createdAt: 0 });
      const statements = [];
      for (let i = 1; i <= 501; i++) {
        statements.push(
          DB.prepare("INSERT INTO webhook_attempts (delivery_id, webhook_id, attempt, http_status, duration_ms, at, state) VALUES (?, ?, ?, 500, 1, ?, 0)").bind(d, webhookId, i, i),
        );
      }
      await DB.batch(statements);
      const page = await c.webhooks.listDeliveries({ userId, webhookId, limit: 100_000 });
      expect(page.deliveries).toHaveLength(500);
      expect(page.deliveries[0]!.attempt).toBe(0); // the delivery itself still counts as untried: attempts = 0 on its row
      expect(page.deliveries[1]!.attempt).toBe(501);
      expect(page.nextPageToken).not.toBe("");
      expect((await c.webhooks.listDeliveries({ userId, webhookId })).deliveries).toHaveLength(50);
    });
  });

  describe("RedeliverEvent", () => {
    it("puts a real invoice event back in the outbox, pending and due now, for a new round of the schedule", async () => {
      const userId = await merchantUser(c, randomXmrKeys());
      const { paymentId } = await c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 });
      const event = await DB.prepare("SELECT id FROM events WHERE invoice_id = ? ORDER BY id LIMIT 1").bind(paymentId).first<{ id: number }>();
      const eventId = BigInt(event!.id);
      const webhookId = await webhook(c, userId);

      const before = Date.now();
      await c.webhooks.redeliverEvent({ userId, webhookId, eventId });
      const fresh = await DB.prepare("SELECT id, state, attempts, next_attempt_at FROM webhook_deliveries WHERE webhook_id = ? AND event_id = ?")
        .bind(webhookId, event!.id)
        .first<{ id: number; state: number; attempts: number; next_attempt_at: number }>();
      expect(fresh).toMatchObject({ state: 0, attempts: 0 });
      expect(fresh!.next_attempt_at).toBeGreaterThanOrEqual(before);
      expect(fresh!.next_attempt_at).toBeLessThanOrEqual(Date.now());
      const listed = await c.webhooks.listDeliveries({ userId, webhookId });
      expect(listed.deliveries).toEqual([expect.objectContaining({ eventId, attempt: 0, eventType: "invoice.created", webhookMessageId: messageId(event!.id, webhookId) })]);

      // Delivered and done: a redelivery makes it pending again, its attempt count starting again.
      await DB.prepare("UPDATE webhook_deliveries SET state = 1, attempts = 3, next_attempt_at = NULL WHERE id = ?").bind(fresh!.id).run();
      await c.webhooks.redeliverEvent({ userId, webhookId, eventId });
      const again = await DB.prepare("SELECT id, state, attempts, next_attempt_at FROM webhook_deliveries WHERE webhook_id = ? AND event_id = ?")
        .bind(webhookId, event!.id)
        .first<{ id: number; state: number; attempts: number; next_attempt_at: number }>();
      expect(again).toMatchObject({ id: fresh!.id, state: 0, attempts: 0 });
      expect(again!.next_attempt_at).toBeGreaterThanOrEqual(before);
    });
  });
});

describe("webhook secrets at rest", () => {
  it("stores the secret sealed, bound to its endpoint, never in clear", async () => {
    const c = clients("connect-json");
    const userId = await user(c);
    const { webhookId, secret } = await c.webhooks.createWebhook({ userId, url: HOOK });
    const row = await DB.prepare("SELECT * FROM webhooks WHERE id = ?").bind(webhookId).first<Record<string, unknown>>();
    expect(row!.sealed_secret).toMatch(/^v1:/);
    expect(JSON.stringify(row)).not.toContain(secret.slice(6));
    expect(row!.previous_sealed_secret).toBeNull();
    expect(await openWebhookSecret(E, webhookId, row!.sealed_secret as string)).toBe(secret);
    // Sealed for this endpoint: it does not open as another's.
    await expect(openWebhookSecret(E, crypto.randomUUID(), row!.sealed_secret as string)).rejects.toThrow();
  });

  it("marks a deleted endpoint's pending deliveries failed and leaves finished ones", async () => {
    const c = clients("connect-json");
    const userId = await user(c);
    const webhookId = await webhook(c, userId);
    const pending = await delivery(webhookId, await logEvent(userId, "invoice.created"), { state: 0, attempts: 1, nextAttemptAt: Date.now(), createdAt: Date.now() });
    const done = await delivery(webhookId, await logEvent(userId, "invoice.expired"), { state: 1, attempts: 1, nextAttemptAt: null, createdAt: Date.now() });
    await c.webhooks.deleteWebhook({ userId, webhookId });
    const states = await DB.prepare("SELECT id, state, next_attempt_at FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id").bind(webhookId).all();
    expect(states.results).toEqual([
      { id: pending, state: 2, next_attempt_at: null },
      { id: done, state: 1, next_attempt_at: null },
    ]);
  });
});

describe("RedeliverEvent with the delivery queue bound", () => {
  it("sends the delivery's id on WEBHOOK_QUEUE", async () => {
    const sent: unknown[] = [];
    const c = clientsWithSettings("connect-json", { WEBHOOK_QUEUE: { send: async (body: unknown) => void sent.push(body) } as unknown as Env["WEBHOOK_QUEUE"] });
    const userId = await user(c);
    const webhookId = await webhook(c, userId);
    const eventId = await logEvent(userId, "invoice.confirmed", 3);
    await c.webhooks.redeliverEvent({ userId, webhookId, eventId: BigInt(eventId) });
    const row = await DB.prepare("SELECT id FROM webhook_deliveries WHERE webhook_id = ? AND event_id = ?").bind(webhookId, eventId).first<{ id: number }>();
    expect(sent).toEqual([{ deliveryId: row!.id }]);
  });

  it("still answers when the queue refuses the message: the row is due, the sweep sends it", async () => {
    const c = clientsWithSettings("connect-json", { WEBHOOK_QUEUE: { send: async () => Promise.reject(new Error("queue down")) } as unknown as Env["WEBHOOK_QUEUE"] });
    const userId = await user(c);
    const webhookId = await webhook(c, userId);
    const eventId = await logEvent(userId, "invoice.created");
    await c.webhooks.redeliverEvent({ userId, webhookId, eventId: BigInt(eventId) });
    const row = await DB.prepare("SELECT state FROM webhook_deliveries WHERE webhook_id = ? AND event_id = ?").bind(webhookId, eventId).first<{ state: number }>();
    expect(row?.state).toBe(0);
  });
});

describe("WEBHOOK_ALLOW_INSECURE_URLS", () => {
  it("lets local development use http:// and loopback, and still refuses the metadata service", async () => {
    const c = clientsWithSettings("connect-json", { WEBHOOK_ALLOW_INSECURE_URLS: "true" });
    const userId = await user(c);
    const { webhookId } = await c.webhooks.createWebhook({ userId, url: "http://127.0.0.1:8787/hook" });
    expect((await c.webhooks.listWebhooks({ userId })).webhooks).toMatchObject([{ webhookId, url: "http://127.0.0.1:8787/hook" }]);
    expect(await failure(c.webhooks.createWebhook({ userId, url: "http://169.254.169.254/" }))).toEqual({ code: Code.InvalidArgument, message: "invalid webhook url" });
  });
});
