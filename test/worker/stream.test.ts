// InvoiceStatusStream: one message per state change, in order; per-user filter; resume from the
// durable event log with afterEventId; expiry; a server-side shutdown ends with Canceled.
import { Code, ConnectError } from "@connectrpc/connect";
import { abortAllDurableObjects } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { InvoiceStatusType } from "../../gen/invoice/v1/invoice_pb";
import { recordStream } from "../support/stream-recorder";
import type { Env } from "../../src/env";
import { clients, merchantUser, PROTOCOLS, randomXmrKeys, type Clients } from "./support";
import { call, json, WIRES } from "./wire";
import { InvoiceService } from "../../gen/invoice/v1/invoice_pb";

const DB = (env as unknown as { DB: D1Database }).DB;

const listen = (c: Clients, req: { userId?: string; afterEventId?: bigint }) => recordStream(c.invoices, req);

/** Gives the subscription time to register in its Durable Object before events are made. */
const settle = () => new Promise((r) => setTimeout(r, 150));

const create = (c: Clients, userId: string, timeout = 600n) =>
  c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout, confirmations: 1 });

describe.each(PROTOCOLS)("InvoiceStatusStream over %s", (protocol) => {
  const c = clients(protocol);

  it("sends each creation as PENDING, in order, with increasing event ids", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const s = listen(c, { userId });
    await settle();
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await create(c, userId));
    const msgs = await s.take(3);
    await s.close();
    expect(msgs.map((m) => m.invoice?.id)).toEqual(made.map((m) => m.paymentId));
    expect(msgs.every((m) => m.invoice?.status === InvoiceStatusType.PENDING)).toBe(true);
    const ids = msgs.map((m) => m.eventId!);
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
  });

  it("with userId carries only that user's invoices", async () => {
    const alice = await merchantUser(c, randomXmrKeys());
    const bob = await merchantUser(c, randomXmrKeys());
    const s = listen(c, { userId: alice });
    await settle();
    await create(c, bob);
    const mine = await create(c, alice);
    const [first] = await s.take(1);
    await s.close();
    expect(first?.invoice?.id).toBe(mine.paymentId);
    expect(s.messages.every((m) => m.invoice?.userId === alice)).toBe(true);
  });

  it("without userId carries every user's invoices (the original semantics)", async () => {
    const alice = await merchantUser(c, randomXmrKeys());
    const bob = await merchantUser(c, randomXmrKeys());
    const s = listen(c, {});
    await settle();
    const a = await create(c, alice);
    const b = await create(c, bob);
    await s.take(2);
    await s.close();
    const ids = s.messages.map((m) => m.invoice?.id);
    expect(ids).toContain(a.paymentId);
    expect(ids).toContain(b.paymentId);
  });

  it("replays what a client missed after afterEventId, then goes live, without duplicates", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const first = listen(c, { userId });
    await settle();
    const made = [await create(c, userId), await create(c, userId), await create(c, userId)];
    const seen = await first.take(1);
    await first.close();
    const resumed = listen(c, { userId, afterEventId: seen[0]!.eventId });
    const replayed = await resumed.take(2);
    expect(replayed.map((m) => m.invoice?.id)).toEqual([made[1]!.paymentId, made[2]!.paymentId]);
    const live = await create(c, userId);
    const all = await resumed.take(3);
    await resumed.close();
    expect(all[2]?.invoice?.id).toBe(live.paymentId);
    expect(new Set(resumed.messages.map((m) => m.eventId)).size).toBe(resumed.messages.length);
  });

  it("replays a long history page by page, in order", async () => {
    const { userId } = await c.users.registerUser({});
    const { meta } = await DB.prepare(
      `INSERT INTO events (user_id, invoice_id, status, snapshot, created_at)
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1203)
       SELECT ?1, printf('00000000-0000-4000-8000-%012d', i), 0,
              json_object('id', printf('00000000-0000-4000-8000-%012d', i), 'userId', ?1, 'coin', 0, 'address', 'a',
                          'required', '1', 'actual', '0', 'confirmationsRequired', 1, 'status', 0, 'createdAt', 0,
                          'expiresAt', 0, 'confirmedAt', NULL, 'txId', NULL), 0
       FROM n`,
    )
      .bind(userId)
      .run();
    expect(meta.changes).toBe(1203);
    const s = listen(c, { userId, afterEventId: 0n });
    const got = await s.take(1203, 20_000);
    await s.close();
    expect(got.map((m) => m.invoice!.id)).toEqual(Array.from({ length: 1203 }, (_, i) => `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`));
  });

  it("resumes the global stream too", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const a = await create(c, userId);
    const row = await DB.prepare("SELECT id FROM events WHERE invoice_id = ?").bind(a.paymentId).first<{ id: number }>();
    const b = await create(c, userId);
    const s = listen(c, { afterEventId: BigInt(row!.id) });
    const [next] = await s.take(1);
    await s.close();
    expect(next?.invoice?.id).toBe(b.paymentId);
  });

  it("sends its response headers as soon as the subscription is in place, before any event", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    for (const req of [{ userId }, {}]) {
      const s = listen(c, req);
      await s.until(() => s.header() !== null, 2_000, "the response headers");
      await s.close();
      expect(s.messages).toEqual([]);
    }
  });

  it("delivers what is committed once its headers arrived, without waiting", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const s = listen(c, { userId });
    await s.until(() => s.header() !== null, 2_000, "the response headers");
    const made = await create(c, userId);
    const [first] = await s.take(1);
    await s.close();
    expect(first?.invoice?.id).toBe(made.paymentId);
  });

  it("refuses an afterEventId ahead of the event log with OutOfRange, for one user and for all", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    await create(c, userId);
    const newest = BigInt((await DB.prepare("SELECT MAX(id) AS id FROM events").first<{ id: number }>())!.id);
    for (const req of [
      { userId, afterEventId: newest + 1n },
      { afterEventId: newest + 1000n },
      { afterEventId: 2n ** 64n - 1n },
    ]) {
      const s = listen(c, req);
      const ended = await s.ended(3_000);
      await s.close();
      expect(ended).toBe(true);
      const err = ConnectError.from(s.error());
      expect([err.code, err.rawMessage]).toEqual([Code.OutOfRange, "afterEventId is ahead of the event log"]);
    }
  });

  it("takes an afterEventId equal to the newest event: nothing to replay, then live", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    await create(c, userId);
    const newest = BigInt((await DB.prepare("SELECT MAX(id) AS id FROM events").first<{ id: number }>())!.id);
    const s = listen(c, { userId, afterEventId: newest });
    await settle();
    const made = await create(c, userId);
    const [first] = await s.take(1);
    await s.close();
    expect(first?.invoice?.id).toBe(made.paymentId);
  });

  it("refuses a userId that is not a UUID, and an unknown user", async () => {
    for (const [userId, message] of [
      ["nope", "invalid userId"],
      [crypto.randomUUID(), "Invalid userId"],
    ] as const) {
      const s = listen(c, { userId });
      await s.done;
      const err = ConnectError.from(s.error());
      expect([err.code, err.rawMessage]).toEqual([Code.InvalidArgument, message]);
    }
  });
});

describe.each(WIRES)("InvoiceStatusStream on the wire (%s)", (wire) => {
  it("answers 200 with its headers at once while no event happens", async () => {
    const request = wire.endsWith("json") ? json({}) : new Uint8Array();
    const res = await call(wire, InvoiceService.method.invoiceStatusStream, request, { waitMs: 1_500 });
    expect(res.status).toBe(200);
    expect(res.headersAfterMs).toBeLessThan(1_000);
    expect(res.end).toBe("open");
  });
});

describe("expiry", () => {
  it("expires an unpaid invoice at expiresAt with an EXPIRED event", async () => {
    const c = clients("connect-json");
    // The XMR watcher has looked past the deadline (its node here is a closed port).
    await DB.prepare("INSERT OR REPLACE INTO chain_state (coin, tip_height, cursor_height, scanned_through, updated_at) VALUES (0, 100, 100, ?, ?)")
      .bind(Date.now() + 3_600_000, Date.now())
      .run();
    const userId = await merchantUser(c, randomXmrKeys());
    const s = listen(c, { userId });
    await settle();
    const inv = await create(c, userId, 10n);
    const msgs = await s.take(2, 25_000);
    await s.close();
    expect(msgs.map((m) => [m.invoice?.id, m.invoice?.status])).toEqual([
      [inv.paymentId, InvoiceStatusType.PENDING],
      [inv.paymentId, InvoiceStatusType.EXPIRED],
    ]);
    const [stored] = (await c.invoices.getInvoices({ paymentIds: [inv.paymentId] })).invoices;
    expect(stored?.status).toBe(InvoiceStatusType.EXPIRED);
  }, 30_000);
});

describe("clients that go away", () => {
  it("are removed from the account's and the hub's subscribers promptly", async () => {
    const c = clients("connect-json");
    const userId = await merchantUser(c, randomXmrKeys());
    const account = (env as unknown as Env).USER_ACCOUNT.get((env as unknown as Env).USER_ACCOUNT.idFromName(userId));
    const hub = (env as unknown as Env).STREAM_HUB.get((env as unknown as Env).STREAM_HUB.idFromName("global"));
    const before = await hub.subscriberCount();
    const mine = listen(c, { userId });
    const global = listen(c, {});
    await settle();
    expect(await account.subscriberCount()).toBe(1);
    expect(await hub.subscriberCount()).toBe(before + 1);
    await mine.close();
    await global.close();
    // Found out by the next write at the latest: an event or the heartbeat.
    const deadline = Date.now() + 8_000;
    while (((await account.subscriberCount()) > 0 || (await hub.subscriberCount()) > before) && Date.now() < deadline) await settle();
    expect(await account.subscriberCount()).toBe(0);
    expect(await hub.subscriberCount()).toBe(before);
  });
});

describe.each(PROTOCOLS)("shutdown over %s", (protocol) => {
  const c = clients(protocol);

  it("ends open streams, one user's and the global one, with Canceled \"stream has been closed\"", async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const mine = listen(c, { userId });
    const global = listen(c, {});
    await mine.until(() => mine.header() !== null && global.header() !== null, 2_000, "both streams open");
    await abortAllDurableObjects();
    for (const s of [mine, global]) {
      expect(await s.ended(5_000)).toBe(true);
      const err = ConnectError.from(s.error());
      expect([err.code, err.rawMessage]).toEqual([Code.Canceled, "stream has been closed"]);
    }
  });
});

describe("the log of a stream whose Durable Object went away", () => {
  it("is one line, without a stack trace", async () => {
    const c = clients("connect-json");
    const userId = await merchantUser(c, randomXmrKeys());
    const logged = [vi.spyOn(console, "error"), vi.spyOn(console, "warn")];
    try {
      const s = listen(c, { userId });
      await settle();
      await abortAllDurableObjects();
      expect(await s.ended(5_000)).toBe(true);
      const args = logged.flatMap((spy) => spy.mock.calls.flat());
      expect(args.filter((a) => a instanceof Error || (typeof a === "string" && /\n\s+at /.test(a)))).toEqual([]);
    } finally {
      for (const spy of logged) spy.mockRestore();
    }
  });
});
