// The account's book: the invoices it watches with their payments, its key sets, and how far each
// coin's chain had been delivered at the last committed change. In memory; the account is its only
// writer, and it changes only by applying a change that D1 has committed.

import type { KeySetRow } from "../../db/key-sets";
import { keySetsById } from "../../db/key-sets";
import { paymentsOfInvoices, watchedInvoicesOfUser } from "../../db/invoices";
import type { Db } from "../../db/client";
import type { Coin } from "../../domain/coins";
import type { InvoiceId, UserId } from "../../domain/ids";
import type { Invoice, Payment } from "../../domain/invoice";
import type { Change } from "./apply";

/** How far a coin's chain was delivered to this account. */
export interface CoinProgress {
  readonly tipHeight: number | null;
  /** Everything the node had before this time was delivered. */
  readonly scannedThrough: number;
  /** The highest final block, for a coin that counts by finality (ChainView.finalizedHeight); null otherwise. */
  readonly finalizedHeight?: number | null;
}

export interface Ledger {
  readonly invoices: Map<InvoiceId, Invoice>;
  readonly payments: Map<InvoiceId, Payment[]>;
  keySets: Map<number, KeySetRow>;
  readonly progress: Map<Coin, CoinProgress>;
}

/** A payment's identity within its coin: the output it is. */
export const paymentKey = (p: { txHash: string; outputIndex: number }): string => `${p.txHash}:${p.outputIndex}`;

/** Invoices open, or closed within the monitoring window (late payments are still recorded). */
export async function loadLedger(db: Db, userId: UserId, closedAfter: number): Promise<Ledger> {
  const invoices = await watchedInvoicesOfUser(db, userId, closedAfter);
  const payments = await paymentsOfInvoices(db, invoices.map((i) => i.id));
  const ledger: Ledger = {
    invoices: new Map(invoices.map((i) => [i.id, i])),
    payments: new Map(invoices.map((i) => [i.id, [] as Payment[]])),
    keySets: await keySetsById(db, userId),
    progress: new Map(),
  };
  for (const p of payments) ledger.payments.get(p.invoiceId)?.push(p);
  return ledger;
}

/** Makes a committed change visible. */
export function applyToLedger(ledger: Ledger, change: Change): void {
  for (const [id, inv] of change.invoices) ledger.invoices.set(id, inv);
  for (const p of change.payments.values()) {
    const list = ledger.payments.get(p.invoiceId) ?? [];
    const at = list.findIndex((q) => q.txHash === p.txHash && q.outputIndex === p.outputIndex);
    if (at >= 0) list[at] = p;
    else list.push(p);
    ledger.payments.set(p.invoiceId, list);
  }
  for (const [coin, progress] of change.progress) ledger.progress.set(coin, progress);
}

/** Makes committed new invoices visible, with their key sets' new counters (key set id -> next index). */
export function addNewInvoices(ledger: Ledger, invoices: readonly Invoice[], counters: ReadonlyMap<number, number>): void {
  for (const inv of invoices) {
    ledger.invoices.set(inv.id, inv);
    ledger.payments.set(inv.id, []);
  }
  for (const [id, nextIndex] of counters) {
    const keySet = ledger.keySets.get(id);
    if (keySet) ledger.keySets.set(id, { ...keySet, nextIndex });
  }
}

/** Closed invoices stay for the monitoring window (late payments), then leave memory. */
export function pruneClosed(ledger: Ledger, horizon: number): void {
  for (const [id, inv] of ledger.invoices) {
    if (inv.closedAt !== null && inv.closedAt <= horizon) {
      ledger.invoices.delete(id);
      ledger.payments.delete(id);
    }
  }
}

/** The active key set of a coin. */
export function activeKeySet(ledger: Ledger, coin: Coin): KeySetRow | undefined {
  return [...ledger.keySets.values()].find((k) => k.active && k.coin === coin);
}
