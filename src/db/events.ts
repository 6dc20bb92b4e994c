// The durable event log behind InvoiceStatusStream: append in a state change's batch, read to resume.

import { and, asc, eq, gt, lt, max } from "drizzle-orm";
import { eventTypeOfStatus, type EventType, type InvoiceEvent, type InvoiceSnapshot, type NewEvent } from "../domain/events";
import { query, type Db } from "./client";
import { events } from "./schema";

export function appendEventStatement(db: Db, event: NewEvent, now: number) {
  const snapshot = event.invoice;
  return db
    .insert(events)
    .values({
      userId: snapshot.userId,
      invoiceId: snapshot.id,
      status: snapshot.status,
      snapshot: JSON.stringify(snapshot),
      type: event.type,
      payment: event.payment ? JSON.stringify(event.payment) : null,
      createdAt: now,
    })
    .returning({ id: events.id });
}

/** Events after `afterId` (exclusive), oldest first, optionally only one user's, bounded by `beforeId`. */
export async function eventsAfter(
  db: Db,
  afterId: number,
  opts: { userId?: string; beforeId?: number; limit: number },
): Promise<InvoiceEvent[]> {
  const conds = [gt(events.id, afterId)];
  if (opts.userId) conds.push(eq(events.userId, opts.userId));
  if (opts.beforeId !== undefined) conds.push(lt(events.id, opts.beforeId));
  const rows = await query("read events", () =>
    db
      .select({ id: events.id, snapshot: events.snapshot, type: events.type, status: events.status })
      .from(events)
      .where(and(...conds))
      .orderBy(asc(events.id))
      .limit(opts.limit)
      .all(),
  );
  return rows.map((r) => ({ id: r.id, type: (r.type as EventType | null) ?? eventTypeOfStatus(r.status), invoice: JSON.parse(r.snapshot) as InvoiceSnapshot }));
}

/** The newest event id in the log, 0 when empty. */
export async function latestEventId(db: Db): Promise<number> {
  const row = await query("read latest event id", () => db.select({ id: max(events.id) }).from(events).get());
  return row?.id ?? 0;
}
