// The Queue consumer, one attempt at a time, against an injected fetch: what it sends (checked by
// the Standard Webhooks reference verifier), how it records attempts, when it retries and gives up.

import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { redeliver } from "../../src/db/delivery-history";
import { deliverOnce, type DeliveryDeps } from "../../src/webhooks/consumer";
import { retrySchedule } from "../../src/webhooks/schedule";
import { deliveryDeps } from "../../src/webhooks/wiring";
import { createInvoice, E, endpoint, newMerchant, newSecret, type EndpointOptions } from "./webhooks";

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: string;
  redirect: string | undefined;
}

/** A delivery of an invoice.created event to a new endpoint, not on the queue: only the test attempts it. */
async function pendingDelivery(o: EndpointOptions = {}) {
  const userId = await newMerchant();
  const { paymentId } = await createInvoice(userId);
  const hook = await endpoint(userId, o);
  const event = (await E.DB.prepare("SELECT id FROM events WHERE invoice_id = ?1").bind(paymentId).first<{ id: number }>())!;
  const now = Date.now();
  const row = (await E.DB.prepare(
    "INSERT INTO webhook_deliveries (webhook_id, event_id, state, attempts, next_attempt_at, created_at, updated_at) VALUES (?1, ?2, 0, 0, ?3, ?3, ?3) RETURNING id",
  )
    .bind(hook.id, event.id, now)
    .first<{ id: number }>())!;
  return { deliveryId: row.id, eventId: event.id, invoiceId: paymentId, hook };
}

/** The Worker's own wiring with a recording fetch that answers `answer()`. */
function depsWith(answer: (sent: Sent, signal: AbortSignal) => Response | Promise<Response>, over: Partial<DeliveryDeps> = {}) {
  const sent: Sent[] = [];
  const deps: DeliveryDeps = {
    ...deliveryDeps(E),
    fetch: async (input, init) => {
      const s = { url: String(input), headers: Object.fromEntries(new Headers(init?.headers).entries()), body: String(init?.body), redirect: init?.redirect };
      sent.push(s);
      return answer(s, init!.signal!);
    },
    ...over,
  };
  return { deps, sent };
}

const deliveryRow = (id: number) => E.DB.prepare("SELECT state, attempts, next_attempt_at FROM webhook_deliveries WHERE id = ?1").bind(id).first();
const attempts = async (id: number) =>
  (await E.DB.prepare("SELECT attempt, http_status, error, state, next_attempt_at, at FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY id").bind(id).all()).results;

describe("deliverOnce", () => {
  it("posts the event signed, so the reference verifier accepts it, and marks it delivered on a 2xx", async () => {
    const d = await pendingDelivery();
    const { deps, sent } = depsWith(() => new Response(null, { status: 204 }));
    expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: true });
    expect(sent).toHaveLength(1);
    const [s] = sent;
    expect(s!.url).toBe("https://hooks.example.test/edgepay");
    expect(s!.redirect).toBe("manual");
    expect(s!.headers["content-type"]).toBe("application/json");
    expect(s!.headers["webhook-id"]).toBe(`msg_${d.eventId}_${d.hook.id.replaceAll("-", "")}`);
    expect(Number(s!.headers["webhook-timestamp"])).toBeCloseTo(Date.now() / 1000, -1);
    const payload = new Webhook(d.hook.secret).verify(s!.body, s!.headers) as Record<string, any>;
    expect(payload).toMatchObject({ type: "invoice.created", eventId: String(d.eventId), invoice: { id: d.invoiceId, status: "PENDING", requiredAmountExact: "1.5" } });
    expect(new Date(payload.timestamp).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(payload).not.toHaveProperty("payment");
    expect(() => new Webhook(d.hook.secret).verify(s!.body.replace("PENDING", "CONFIRMED"), s!.headers)).toThrow();
    expect(await deliveryRow(d.deliveryId)).toEqual({ state: 1, attempts: 1, next_attempt_at: null });
    expect(await attempts(d.deliveryId)).toMatchObject([{ attempt: 1, http_status: 204, error: null, state: 1, next_attempt_at: null }]);
  });

  it("signs with both secrets while a rotated-out one is still valid, and with the current one only after", async () => {
    const previous = newSecret();
    const during = await pendingDelivery({ previous: { secret: previous, until: Date.now() + 3_600_000 } });
    const after = await pendingDelivery({ previous: { secret: previous, until: Date.now() - 1 } });
    const { deps, sent } = depsWith(() => new Response(null, { status: 200 }));
    await deliverOnce(deps, during.deliveryId);
    await deliverOnce(deps, after.deliveryId);
    expect(sent[0]!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(new Webhook(during.hook.secret).verify(sent[0]!.body, sent[0]!.headers)).toBeTruthy();
    expect(new Webhook(previous).verify(sent[0]!.body, sent[0]!.headers)).toBeTruthy();
    expect(sent[1]!.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect(() => new Webhook(previous).verify(sent[1]!.body, sent[1]!.headers)).toThrow();
  });

  it("retries anything but a 2xx on the schedule: a 500, a redirect, a timeout, a network error", async () => {
    const answers: ((sent: Sent, signal: AbortSignal) => Promise<Response>)[] = [
      async () => new Response("down for maintenance", { status: 500 }),
      async () => new Response(null, { status: 302, headers: { location: "https://elsewhere.test/" } }),
      (_sent, signal) => new Promise<Response>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      async () => {
        throw new TypeError("connection refused");
      },
    ];
    const results = [];
    for (const answer of answers) {
      const d = await pendingDelivery();
      const { deps } = depsWith(answer, { timeoutMs: 200 });
      const before = Date.now();
      expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: false, delaySeconds: 10 });
      const row = (await deliveryRow(d.deliveryId)) as { state: number; attempts: number; next_attempt_at: number };
      expect(row).toMatchObject({ state: 0, attempts: 1 });
      expect(row.next_attempt_at).toBeGreaterThanOrEqual(before + 10_000);
      results.push((await attempts(d.deliveryId))[0]);
    }
    expect(results.map((a: any) => [a.http_status, a.error])).toEqual([
      [500, "HTTP 500: down for maintenance"],
      [302, "HTTP 302"],
      [0, "no answer within 0.2 s"],
      [0, "network error: connection refused"],
    ]);
  });

  it("fails the delivery for good once the schedule ran out, and then never sends it again", async () => {
    const d = await pendingDelivery();
    const { deps, sent } = depsWith(() => new Response(null, { status: 503 }), { schedule: retrySchedule("1,2") });
    expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: false, delaySeconds: 1 });
    await E.DB.prepare("UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE id = ?1").bind(d.deliveryId, Date.now()).run();
    expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: false, delaySeconds: 2 });
    await E.DB.prepare("UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE id = ?1").bind(d.deliveryId, Date.now()).run();
    expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: true });
    expect(await deliveryRow(d.deliveryId)).toEqual({ state: 2, attempts: 3, next_attempt_at: null });
    expect((await attempts(d.deliveryId)).map((a: any) => [a.attempt, a.state])).toEqual([
      [1, 0],
      [2, 0],
      [3, 2],
    ]);
    expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: true });
    expect(sent).toHaveLength(3);
  });

  it("gives a failed delivery that is redelivered a new round of retries, not a single attempt", async () => {
    const d = await pendingDelivery();
    const { deps, sent } = depsWith(() => new Response(null, { status: 503 }), { schedule: retrySchedule("1") });
    expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: false, delaySeconds: 1 });
    await E.DB.prepare("UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE id = ?1").bind(d.deliveryId, Date.now()).run();
    expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: true });
    expect(await deliveryRow(d.deliveryId)).toMatchObject({ state: 2 });
    // The merchant fixed nothing yet and asks again: the first failure of the new round is retried.
    expect(await redeliver(database(E.DB), d.hook.id, d.eventId, Date.now())).toBe(d.deliveryId);
    expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: false, delaySeconds: 1 });
    expect(await deliveryRow(d.deliveryId)).toMatchObject({ state: 0 });
    expect(sent).toHaveLength(3);
  });

  it("sends nothing for a deleted or disabled endpoint, or an already delivered event", async () => {
    const deleted = await pendingDelivery({ deletedAt: Date.now() });
    const disabled = await pendingDelivery({ enabled: false });
    const delivered = await pendingDelivery();
    await E.DB.prepare("UPDATE webhook_deliveries SET state = 1 WHERE id = ?1").bind(delivered.deliveryId).run();
    const { deps, sent } = depsWith(() => new Response(null, { status: 200 }));
    for (const d of [deleted, disabled, delivered]) expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: true });
    expect(await deliverOnce(deps, 987_654_321)).toEqual({ done: true });
    expect(sent).toEqual([]);
  });

  it("re-checks the URL at send time: a refused URL is a failed attempt without a request", async () => {
    const d = await pendingDelivery({ url: "http://127.0.0.1:8080/hook" });
    const { deps, sent } = depsWith(() => new Response(null, { status: 200 }));
    expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: false, delaySeconds: 10 });
    expect(sent).toEqual([]);
    expect(await attempts(d.deliveryId)).toMatchObject([{ http_status: 0, error: expect.stringMatching(/^refused URL/) }]);
  });

  it("waits again when a message comes before the attempt is due (a duplicate, or a delay the queue capped)", async () => {
    const d = await pendingDelivery();
    await E.DB.prepare("UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE id = ?1").bind(d.deliveryId, Date.now() + 86_400_000).run();
    const { deps, sent } = depsWith(() => new Response(null, { status: 200 }));
    expect(await deliverOnce(deps, d.deliveryId)).toEqual({ done: false, delaySeconds: 43_200 });
    expect(sent).toEqual([]);
  });

  it("records an attempt once when two consumers got the same message at once", async () => {
    const d = await pendingDelivery();
    const { deps, sent } = depsWith(() => new Response(null, { status: 500 }));
    await Promise.all([deliverOnce(deps, d.deliveryId), deliverOnce(deps, d.deliveryId)]);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(await attempts(d.deliveryId)).toHaveLength(1);
    expect(await deliveryRow(d.deliveryId)).toMatchObject({ attempts: 1 });
  });

  it("reads at most 4 KB of an answer", async () => {
    const d = await pendingDelivery();
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += 1024;
        c.enqueue(new Uint8Array(1024).fill(0x61));
      },
    });
    const { deps } = depsWith(() => new Response(endless, { status: 500 }));
    await deliverOnce(deps, d.deliveryId);
    expect(pulled).toBeLessThanOrEqual(4096 + 2048);
    const [a] = (await attempts(d.deliveryId)) as { error: string }[];
    expect(a!.error.length).toBeLessThanOrEqual(1100);
  });
});

