// When the account next needs to look at its invoices without chain news: the earliest deadline of
// a PENDING invoice, or soon again when one is due but its chain was not yet scanned that far.

import { nextDeadline } from "../../domain/invoice";
import type { Ledger } from "./ledger";

/** How soon to look again when an invoice is due but its chain has not been scanned that far. */
export const EXPIRY_RECHECK_MS = 5_000;

export function nextAlarmAt(ledger: Ledger, now: number): number | null {
  let next: number | null = null;
  for (const inv of ledger.invoices.values()) {
    let due = nextDeadline(inv);
    if (due === null) continue;
    if (due <= now) due = now + EXPIRY_RECHECK_MS;
    next = next === null ? due : Math.min(next, due);
  }
  return next;
}
