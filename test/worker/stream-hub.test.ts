// The global stream's hub fills gaps in event ids from the log: whatever the gap, nothing is skipped
// or repeated, and the events arrive in log order.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import type { Env } from "../../src/env";
import { recordStream } from "../support/stream-recorder";
import { clients, merchantUser, randomXmrKeys } from "./support";

const E = env as unknown as Env;

describe("StreamHub", () => {
  const c = clients("connect-binary");

  it("delivers every event of a gap of 2,500 in the log, in order, once", { timeout: 120_000 }, async () => {
    const userId = await merchantUser(c, randomXmrKeys());
    const create = () => c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 });
    const newest = await E.DB.prepare("SELECT coalesce(max(id), 0) AS id FROM events").first<{ id: number }>();
    const stream = recordStream(c.invoices, { afterEventId: BigInt(newest!.id) });
    try {
      const first = await create();
      await stream.until(() => stream.messages.some((m) => m.invoice?.id === first.paymentId), 10_000, "the first invoice");
      const before = stream.messages.length;

      // 2,500 events the hub never heard of (as if their publishes were lost), then a live one.
      const row = await E.DB.prepare("SELECT user_id, invoice_id, status, snapshot FROM events WHERE invoice_id = ?").bind(first.paymentId).first<Record<string, unknown>>();
      await E.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
         INSERT INTO events (user_id, invoice_id, status, snapshot, created_at) SELECT ?1, ?2, ?3, ?4, ?5 FROM n`,
      )
        .bind(row!.user_id, row!.invoice_id, row!.status, row!.snapshot, Date.now())
        .run();
      const last = await create();

      await stream.until(() => stream.messages.some((m) => m.invoice?.id === last.paymentId), 60_000, "the live invoice after the gap");
      const after = stream.messages.slice(before);
      expect(after).toHaveLength(2501);
      const ids = after.map((m) => Number(m.eventId));
      expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
      expect(after.at(-1)!.invoice?.id).toBe(last.paymentId);
    } finally {
      await stream.close();
    }
  });
});
