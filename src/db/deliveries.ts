// The webhook outbox in D1: delivery rows written in an event's own batch, what the Queue consumer
// reads to send one, how an attempt is recorded, and what the cron sweep finds overdue.

import { and, asc, eq, isNull, lt, sql } from "drizzle-orm";
import type { EventType, InvoiceSnapshot, PaymentFact } from "../domain/events";
import { InvoiceStatus } from "../domain/invoice";
import { eventTypeOfStatus } from "../webhooks/event-types";
import { query, type Db } from "./client";
import { DeliveryStatus } from "./delivery-history";
import { events, webhookAttempts, webhookDeliveries, webhooks } from "./schema";

export type DeliveryState = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

/**
 * One pending delivery per endpoint of the user that wants `type` (enabled, not deleted, its event
 * list empty or naming the type), for the event appended by the statement just before this one in
 * the same batch: D1 runs a batch in order in one transaction, and the user's account is the only
 * writer of its events, so the user's newest event is that one. Returns the new delivery ids.
 */
export function deliveryRowsStatement(db: Db, event: { userId: string; type: EventType }, now: number) {
  return db
    .insert(webhookDeliveries)
    .select(
      db
        .select({
          id: value(null, "id"),
          webhookId: webhooks.id,
          eventId: sql<number>`(SELECT max(e.id) FROM events e WHERE e.user_id = ${event.userId})`.as("event_id"),
          state: value(DeliveryStatus.pending, "state"),
          attempts: value(0, "attempts"),
          nextAttemptAt: value(now, "next_attempt_at"),
          createdAt: value(now, "created_at"),
          updatedAt: value(now, "updated_at"),
        })
        .from(webhooks)
        .where(
          and(
            eq(webhooks.userId, event.userId),
            eq(webhooks.enabled, true),
            isNull(webhooks.deletedAt),
            sql`(${webhooks.events} = '[]' OR EXISTS (SELECT 1 FROM json_each(${webhooks.events}) j WHERE j.value = ${event.type}))`,
          ),
        ),
    )
    .returning({ id: webhookDeliveries.id });
}

/** A constant column of an INSERT … SELECT (drizzle wants every column, in the table's order; a raw statement cannot join a batch). */
const value = <T extends number | string | null>(v: T, name: string) => sql<T>`${v}`.as(name);

export interface DeliveryJob {
  delivery: { id: number; state: number; attempts: number; nextAttemptAt: number | null };
  webhook: {
    id: string;
    url: string;
    enabled: boolean;
    deleted: boolean;
    sealedSecret: string;
    previousSealedSecret: string | null;
    previousUntil: number | null;
  };
  event: { id: number; type: EventType; invoice: InvoiceSnapshot; payment: PaymentFact | null; createdAt: number };
}

/** A delivery with its endpoint and event, or null when the row does not exist. */
export async function deliveryJob(db: Db, deliveryId: number): Promise<DeliveryJob | null> {
  const row = await query("read webhook delivery", () =>
    db
      .select({ d: webhookDeliveries, w: webhooks, e: events })
      .from(webhookDeliveries)
      .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
      .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
      .where(eq(webhookDeliveries.id, deliveryId))
      .get(),
  );
  if (!row) return null;
  const { d, w, e } = row;
  return {
    delivery: { id: d.id, state: d.state, attempts: d.attempts, nextAttemptAt: d.nextAttemptAt },
    webhook: {
      id: w.id,
      url: w.url,
      enabled: w.enabled,
      deleted: w.deletedAt !== null,
      sealedSecret: w.sealedSecret,
      previousSealedSecret: w.previousSealedSecret,
      previousUntil: w.previousUntil,
    },
    event: {
      id: e.id,
      type: (e.type as EventType | null) ?? eventTypeOfStatus(e.status as InvoiceStatus),
      invoice: JSON.parse(e.snapshot) as InvoiceSnapshot,
      payment: e.payment === null ? null : (JSON.parse(e.payment) as PaymentFact),
      createdAt: e.createdAt,
    },
  };
}

export interface AttemptRecord {
  deliveryId: number;
  webhookId: string;
  /** 1 for the first attempt. */
  attempt: number;
  httpStatus: number;
  error: string | null;
  durationMs: number;
  at: number;
  state: DeliveryState;
  nextAttemptAt: number | null;
}

/**
 * Records one attempt and moves its delivery, in one batch. The update only applies while the
 * delivery is still pending at the attempt count this attempt started from, so two consumers that
 * got the same message (at-least-once) record it once; returns whether this one did.
 */
export async function recordAttempt(db: Db, a: AttemptRecord): Promise<boolean> {
  const [moved] = await query("record webhook attempt", () =>
    db.batch([
      db
        .update(webhookDeliveries)
        .set({ state: a.state, attempts: a.attempt, nextAttemptAt: a.nextAttemptAt, updatedAt: a.at })
        .where(and(eq(webhookDeliveries.id, a.deliveryId), eq(webhookDeliveries.state, DeliveryStatus.pending), eq(webhookDeliveries.attempts, a.attempt - 1)))
        .returning({ id: webhookDeliveries.id }),
      db.insert(webhookAttempts).select(
        db
          .select({
            id: value(null, "id"),
            deliveryId: webhookDeliveries.id,
            webhookId: value(a.webhookId, "webhook_id"),
            attempt: value(a.attempt, "attempt"),
            httpStatus: value(a.httpStatus, "http_status"),
            error: value(a.error, "error"),
            durationMs: value(a.durationMs, "duration_ms"),
            at: value(a.at, "at"),
            state: value(a.state, "state"),
            nextAttemptAt: value(a.nextAttemptAt, "next_attempt_at"),
          })
          .from(webhookDeliveries)
          // changes(): only when the update just before changed the row (this consumer made the attempt).
          .where(and(eq(webhookDeliveries.id, a.deliveryId), sql`changes() > 0`)),
      ),
    ]),
  );
  return moved.length > 0;
}

/** Pending deliveries due before `dueBefore`, oldest due first, at most `limit`: the cron sweep's work. */
export async function overdueDeliveries(db: Db, dueBefore: number, limit: number): Promise<number[]> {
  const rows = await query("read overdue webhook deliveries", () =>
    db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.state, DeliveryStatus.pending), lt(webhookDeliveries.nextAttemptAt, dueBefore)))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(limit)
      .all(),
  );
  return rows.map((r) => r.id);
}
