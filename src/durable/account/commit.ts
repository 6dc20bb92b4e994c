// Writing a decided change to D1: the invoice rows, payment rows and one event per transition, all
// in one atomic batch. Returns the logged events (with their ids) to publish once it committed.

import type { Db } from "../../db/client";
import { appendEventStatement } from "../../db/events";
import { updateInvoiceStatement, upsertPaymentStatement } from "../../db/invoices";
import { ApiError, Failures } from "../../domain/errors";
import type { InvoiceEvent } from "../../domain/events";
import { hasWrites, type Change } from "./apply";
import type { Ledger } from "./ledger";

export async function commitChange(db: Db, ledger: Ledger, change: Change, now: number): Promise<InvoiceEvent[]> {
  if (!hasWrites(change)) return [];
  const coinOf = (id: string) => (change.invoices.get(id as never) ?? ledger.invoices.get(id as never))!.coin;
  const rows = [
    ...[...change.invoices.values()].map((inv) => updateInvoiceStatement(db, inv, now)),
    ...[...change.payments.values()].map((p) => upsertPaymentStatement(db, coinOf(p.invoiceId), p, now)),
  ];
  const log = change.snapshots.map((s) => appendEventStatement(db, s, now));
  let results: readonly unknown[];
  try {
    results = await db.batch([...rows, ...log] as unknown as Parameters<Db["batch"]>[0]);
  } catch (cause) {
    throw new ApiError(Failures.sqlTransaction, { cause });
  }
  const logged = results.slice(rows.length) as { id: number }[][];
  return change.snapshots.map((invoice, i) => ({ id: logged[i]![0]!.id, invoice }));
}
