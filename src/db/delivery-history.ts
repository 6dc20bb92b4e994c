// What ListDeliveries shows and RedeliverEvent changes: the attempts made for an endpoint, newest
// first, after the deliveries not tried yet; and putting one event back in the outbox, due now.

import { and, desc, eq, lt } from "drizzle-orm";
import type { UserId } from "../domain/ids";
import { query, type Db } from "./client";
import { events, webhookAttempts, webhookDeliveries } from "./schema";

/** webhook_deliveries.state and webhook_attempts.state. */
export const DeliveryStatus = { pending: 0, delivered: 1, failed: 2 } as const;

/** One line of the history: an attempt, or (attempt 0) a delivery not tried yet. */
export interface DeliveryLine {
  /** The page position: untried deliveries (by delivery id) come before attempts (by attempt id). */
  cursor: HistoryCursor;
  eventId: number;
  /** events.type and events.status, for rows written before webhooks had a type. */
  eventType: string | null;
  eventStatus: number;
  attempt: number;
  httpStatus: number;
  error: string | null;
  durationMs: number;
  at: number;
  nextAttemptAt: number | null;
  state: number;
}

/** Where a page ended: the last line's kind and id. */
export interface HistoryCursor {
  kind: "untried" | "attempt";
  id: number;
}

/** Up to `limit` lines after `after` (exclusive), and whether more follow. */
export async function deliveryHistory(
  db: Db,
  webhookId: string,
  after: HistoryCursor | null,
  limit: number,
): Promise<{ lines: DeliveryLine[]; more: boolean }> {
  const want = limit + 1;
  const lines: DeliveryLine[] = [];
  if (after === null || after.kind === "untried") {
    const conds = [eq(webhookDeliveries.webhookId, webhookId), eq(webhookDeliveries.attempts, 0)];
    if (after) conds.push(lt(webhookDeliveries.id, after.id));
    const rows = await query("list untried deliveries", () =>
      db
        .select({
          id: webhookDeliveries.id,
          eventId: webhookDeliveries.eventId,
          eventType: events.type,
          eventStatus: events.status,
          state: webhookDeliveries.state,
          at: webhookDeliveries.createdAt,
          nextAttemptAt: webhookDeliveries.nextAttemptAt,
        })
        .from(webhookDeliveries)
        .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
        .where(and(...conds))
        .orderBy(desc(webhookDeliveries.id))
        .limit(want)
        .all(),
    );
    for (const r of rows) {
      const { id, ...rest } = r;
      lines.push({ cursor: { kind: "untried", id }, attempt: 0, httpStatus: 0, error: null, durationMs: 0, ...rest });
    }
  }
  if (lines.length < want) {
    const conds = [eq(webhookAttempts.webhookId, webhookId)];
    if (after?.kind === "attempt") conds.push(lt(webhookAttempts.id, after.id));
    const rows = await query("list delivery attempts", () =>
      db
        .select({
          id: webhookAttempts.id,
          eventId: webhookDeliveries.eventId,
          eventType: events.type,
          eventStatus: events.status,
          attempt: webhookAttempts.attempt,
          httpStatus: webhookAttempts.httpStatus,
          error: webhookAttempts.error,
          durationMs: webhookAttempts.durationMs,
          at: webhookAttempts.at,
          nextAttemptAt: webhookAttempts.nextAttemptAt,
          state: webhookAttempts.state,
        })
        .from(webhookAttempts)
        .innerJoin(webhookDeliveries, eq(webhookDeliveries.id, webhookAttempts.deliveryId))
        .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
        .where(and(...conds))
        .orderBy(desc(webhookAttempts.id))
        .limit(want - lines.length)
        .all(),
    );
    for (const r of rows) {
      const { id, ...rest } = r;
      lines.push({ cursor: { kind: "attempt", id }, ...rest });
    }
  }
  return { lines: lines.slice(0, limit), more: lines.length > limit };
}

/** Whether the event is in the log and the user's. */
export async function userEventExists(db: Db, userId: UserId, eventId: number): Promise<boolean> {
  const row = await query("find event", () =>
    db
      .select({ id: events.id })
      .from(events)
      .where(and(eq(events.id, eventId), eq(events.userId, userId)))
      .get(),
  );
  return row !== undefined;
}

/**
 * Makes the event's delivery to the endpoint pending and due now (created if there was none); its id.
 * A redelivery starts a new round of the schedule: its attempt count starts again (the attempts made
 * before stay listed), so one failure of a manual redelivery is retried like any first failure.
 */
export async function redeliver(db: Db, webhookId: string, eventId: number, now: number): Promise<number> {
  const rows = await query("redeliver event", () =>
    db
      .insert(webhookDeliveries)
      .values({ webhookId, eventId, state: DeliveryStatus.pending, attempts: 0, nextAttemptAt: now, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: [webhookDeliveries.webhookId, webhookDeliveries.eventId],
        set: { state: DeliveryStatus.pending, attempts: 0, nextAttemptAt: now, updatedAt: now },
      })
      .returning({ id: webhookDeliveries.id }),
  );
  return rows[0]!.id;
}
