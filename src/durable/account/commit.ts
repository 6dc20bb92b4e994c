// Writing a decided change or a group of new invoices to D1: the invoice rows, payment rows or key set
// counters, one event per transition, new payment or new invoice and its webhook outbox rows, all in
// one atomic batch. Returns the logged events (with their ids) to publish and the new deliveries to
// enqueue, once it committed.

import { transaction, type Db } from "../../db/client";
import { deliveryRowsStatement } from "../../db/deliveries";
import { appendEventStatement } from "../../db/events";
import { insertInvoiceStatement, updateInvoiceStatement, upsertPaymentStatement } from "../../db/invoices";
import { bumpNextIndexStatement } from "../../db/key-sets";
import { ApiError, Failures } from "../../domain/errors";
import { snapshotOf, type InvoiceEvent, type NewEvent } from "../../domain/events";
import type { Invoice } from "../../domain/invoice";
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

/**
 * New invoices in one batch: their rows, each key set's counter moved once (`counters`: key set id ->
 * next index), then one `invoice.created` event per invoice, in the invoices' order.
 */
export async function commitNewInvoices(db: Db, invoices: readonly Invoice[], counters: ReadonlyMap<number, number>, now: number): Promise<Committed> {
  const rows = [
    ...invoices.map((inv) => insertInvoiceStatement(db, inv, now)),
    ...[...counters].map(([keySetId, nextIndex]) => bumpNextIndexStatement(db, keySetId, nextIndex, now)),
  ];
  const created = invoices.map((inv) => ({ type: "invoice.created" as const, invoice: snapshotOf(inv) }));
  const results = await transaction("create invoices", () =>
    db.batch([...rows, ...eventStatements(db, created, now)] as unknown as Parameters<Db["batch"]>[0]),
  );
  return loggedEvents(created, results.slice(rows.length));
}
