// The outbox: every logged event gets one delivery row per endpoint that wants it, written in the
// event's own D1 batch, and the rows reach the Queue (whose consumer here is the Worker itself).

import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { createInvoice, deliveriesOfInvoice, E, endpoint, newMerchant } from "./webhooks";

describe("the webhook outbox", () => {
  it("writes one pending delivery, due now, for an invoice created through the API with an endpoint present", async () => {
    const userId = await newMerchant();
    const hook = await endpoint(userId);
    const before = Date.now();
    const { paymentId } = await createInvoice(userId);
    const rows = await deliveriesOfInvoice(paymentId);
    expect(rows).toEqual([{ id: expect.any(Number), webhook_id: hook.id, event_id: expect.any(Number), state: expect.any(Number), attempts: expect.any(Number), next_attempt_at: expect.any(Number), type: "invoice.created" }]);
    const { results } = await E.DB.prepare("SELECT id FROM events WHERE invoice_id = ?1").bind(paymentId).all<{ id: number }>();
    expect(rows[0]!.event_id).toBe(results[0]!.id);
    const { results: created } = await E.DB.prepare("SELECT created_at, next_attempt_at FROM webhook_deliveries WHERE id = ?1").bind(rows[0]!.id).all<{ created_at: number }>();
    expect(created[0]!.created_at).toBeGreaterThanOrEqual(before);
  });

  it("gives each endpoint of the user its own row, and other users' endpoints none", async () => {
    const userId = await newMerchant();
    const other = await newMerchant();
    const a = await endpoint(userId);
    const b = await endpoint(userId, { events: ["invoice.created", "invoice.confirmed"] });
    await endpoint(other);
    const { paymentId } = await createInvoice(userId);
    expect((await deliveriesOfInvoice(paymentId)).map((r) => r.webhook_id).sort()).toEqual([a.id, b.id].sort());
  });

  it("skips endpoints that filter the type out, are disabled or are deleted", async () => {
    const userId = await newMerchant();
    await endpoint(userId, { events: ["invoice.confirmed"] });
    await endpoint(userId, { enabled: false });
    await endpoint(userId, { deletedAt: Date.now() - 1000 });
    const { paymentId } = await createInvoice(userId);
    expect(await deliveriesOfInvoice(paymentId)).toEqual([]);
  });

  it("writes nothing when the event's batch fails: the rows live and die with the event", async () => {
    const userId = await newMerchant();
    await endpoint(userId);
    const count = async () => (await E.DB.prepare("SELECT count(*) AS n FROM webhook_deliveries").first<{ n: number }>())!.n;
    const before = await count();
    // A UNIQUE clash on the invoice row (same key set index) fails the create batch after the event rows were prepared.
    await E.DB.prepare("UPDATE key_sets SET next_index = next_index - 1 WHERE user_id = ?1").bind(userId).run();
    await createInvoice(userId).catch(() => undefined);
    await createInvoice(userId).catch(() => undefined);
    const { results } = await E.DB.prepare("SELECT count(*) AS n FROM events WHERE user_id = ?1").bind(userId).all<{ n: number }>();
    expect(await count()).toBe(before + results[0]!.n);
  });

  it("hands the rows to the queue: the consumer attempts them (here an https URL nobody answers, so attempt 1 fails and is retried)", async () => {
    const userId = await newMerchant();
    await endpoint(userId, { url: "https://127.0.0.1:9/refused" });
    const { paymentId } = await createInvoice(userId);
    const deadline = Date.now() + 10_000;
    let rows = await deliveriesOfInvoice(paymentId);
    while (rows[0]?.attempts !== 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      rows = await deliveriesOfInvoice(paymentId);
    }
    expect(rows).toMatchObject([{ attempts: 1, state: 0 }]);
    const attempt = await E.DB.prepare("SELECT attempt, http_status, state, next_attempt_at, at FROM webhook_attempts WHERE delivery_id = ?1").bind(rows[0]!.id).first<{ at: number; next_attempt_at: number }>();
    expect(attempt).toMatchObject({ attempt: 1, http_status: 0, state: 0 });
    expect(attempt!.next_attempt_at - attempt!.at).toBeGreaterThanOrEqual(10_000);
  });
});

describe("the cron sweep", () => {
  it("re-enqueues pending deliveries more than a minute overdue, and leaves ones just due to their message", async () => {
    const userId = await newMerchant();
    const invoices = [await createInvoice(userId), await createInvoice(userId)];
    const hook = await endpoint(userId, { url: "https://127.0.0.1:9/refused" });
    const insert = async (overdue: number, invoice: number) => {
      const event = (await E.DB.prepare("SELECT id FROM events WHERE invoice_id = ?1").bind(invoices[invoice]!.paymentId).first<{ id: number }>())!;
      return E.DB.prepare(
        "INSERT INTO webhook_deliveries (webhook_id, event_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES (?1, ?2, 0, 0, ?3, ?3, ?3) RETURNING id",
      )
        .bind(hook.id, event.id, Date.now() - overdue)
        .first<{ id: number }>();
    };
    const lost = (await insert(120_000, 0))!.id; // its message was lost two minutes ago
    const fresh = (await insert(30_000, 1))!.id; // its message may still be on its way
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), E, ctx);
    await waitOnExecutionContext(ctx);
    const attemptsOf = async (id: number) => (await E.DB.prepare("SELECT attempts FROM webhook_deliveries WHERE id = ?1").bind(id).first<{ attempts: number }>())!.attempts;
    const deadline = Date.now() + 10_000;
    while ((await attemptsOf(lost)) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await attemptsOf(lost)).toBe(1);
    expect(await attemptsOf(fresh)).toBe(0);
  });
});
