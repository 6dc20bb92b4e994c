// Writing a decided change to D1: the invoice rows, payment rows, one event per transition or new
// payment and its webhook outbox rows, all in one atomic batch. Returns the logged events (with their
// ids) to publish and the new deliveries to enqueue, once it committed.

import type { Db } from "../../db/client";
import { deliveryRowsStatement } from "../../db/deliveries";
import { appendEventStatement } from "../../db/events";
import { updateInvoiceStatement, upsertPaymentStatement } from "../../db/invoices";
import { ApiError, Failures } from "../../domain/errors";
import type { InvoiceEvent, NewEvent } from "../../domain/events";
import { hasWrites, type Change } from "./apply";
import type { Ledger } from "./ledger";

export interface Committed {
  events: InvoiceEvent[];
  /** Webhook deliveries the batch created, to put on the queue. */
  deliveryIds: number[];
}

/** Each event's insert followed by its outbox rows (which read the event id the insert just made). */
export function eventStatements(db: Db, events: readonly NewEvent[], now: number) {
  return events.flatMap((e) => [appendEventStatement(db, e, now), deliveryRowsStatement(db, { userId: e.invoice.userId, type: e.type }, now)]);
}

/** Reads what `eventStatements` returned: event ids and delivery ids. */
export function loggedEvents(events: readonly NewEvent[], results: readonly unknown[]): Committed {
  const out: Committed = { events: [], deliveryIds: [] };
  events.forEach((e, i) => {
    out.events.push({ id: (results[2 * i] as { id: number }[])[0]!.id, type: e.type, invoice: e.invoice });
    out.deliveryIds.push(...(results[2 * i + 1] as { id: number }[]).map((r) => r.id));
  });
  return out;
}

export async function commitChange(db: Db, ledger: Ledger, change: Change, now: number): Promise<Committed> {
  if (!hasWrites(change)) return { events: [], deliveryIds: [] };
  const coinOf = (id: string) => (change.invoices.get(id as never) ?? ledger.invoices.get(id as never))!.coin;
  const rows = [
    ...[...change.invoices.values()].map((inv) => updateInvoiceStatement(db, inv, now)),
    ...[...change.payments.values()].map((p) => upsertPaymentStatement(db, coinOf(p.invoiceId), p, now)),
  ];
  const log = eventStatements(db, change.events, now);
  let results: readonly unknown[];
  try {
    results = await db.batch([...rows, ...log] as unknown as Parameters<Db["batch"]>[0]);
  } catch (cause) {
    throw new ApiError(Failures.sqlTransaction, { cause });
  }
  return loggedEvents(change.events, results.slice(rows.length));
}
