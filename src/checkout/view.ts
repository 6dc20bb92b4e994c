// What a payer sees of one invoice, decided purely from the invoice, its payments and the chain's
// tip: the page and its live updates render this and nothing else, so nothing else can leak.

import { formatAmount } from "../domain/amount";
import { InvoiceStatus, type Invoice, type Payment } from "../domain/invoice";

/** waiting → partial (some paid) → seen (all paid, confirming) → paid; or expired. */
export type CheckoutState = "waiting" | "partial" | "seen" | "paid" | "expired";

export interface CheckoutView {
  readonly invoiceId: string;
  /** The merchant's display name, or null when none was set. */
  readonly merchant: string | null;
  readonly ticker: string;
  readonly address: string;
  /** The coin's payment URI for what is still due. */
  readonly paymentUri: string;
  readonly state: CheckoutState;
  /** Exact decimals in coin units. */
  readonly required: string;
  readonly paid: string;
  readonly due: string;
  /** Payments recorded after the invoice stopped taking them (still recorded: the merchant sees them). */
  readonly paidLate: string | null;
  /** While `seen`: the fewest confirmations among the counted payments. */
  readonly confirmations: number | null;
  readonly confirmationsRequired: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly confirmedAt: number | null;
  /** Only once paid. */
  readonly redirectUrl: string | null;
}

export interface CheckoutFacts {
  readonly invoice: Invoice;
  readonly payments: readonly Payment[];
  readonly tipHeight: number | null;
  readonly merchant: string | null;
  readonly ticker: string;
  readonly decimals: number;
  /** The coin's payment URI for an amount in atomic units. */
  paymentUri(amount: bigint): string;
}

export function checkoutView(f: CheckoutFacts): CheckoutView {
  const { invoice } = f;
  const due = invoice.required > invoice.actual ? invoice.required - invoice.actual : 0n;
  const live = f.payments.filter((p) => !p.gone);
  const counted = live.filter((p) => p.inTime);
  const late = live.filter((p) => !p.inTime).reduce((sum, p) => sum + p.amount, 0n);
  const state = stateOf(invoice);
  return {
    invoiceId: invoice.id,
    merchant: f.merchant,
    ticker: f.ticker,
    address: invoice.address,
    paymentUri: f.paymentUri(due),
    state,
    required: formatAmount(invoice.required, f.decimals),
    paid: formatAmount(invoice.actual, f.decimals),
    due: formatAmount(due, f.decimals),
    paidLate: late > 0n ? formatAmount(late, f.decimals) : null,
    confirmations: state === "seen" ? fewestConfirmations(counted, f.tipHeight, invoice.confirmationsRequired) : null,
    confirmationsRequired: invoice.confirmationsRequired,
    createdAt: invoice.createdAt,
    expiresAt: invoice.expiresAt,
    confirmedAt: invoice.confirmedAt,
    redirectUrl: state === "paid" ? invoice.details.redirectUrl : null,
  };
}

function stateOf(invoice: Invoice): CheckoutState {
  switch (invoice.status) {
    case InvoiceStatus.Confirmed:
      return "paid";
    case InvoiceStatus.Expired:
      return "expired";
    case InvoiceStatus.PendingMempool:
      return "seen";
    case InvoiceStatus.Pending:
      return invoice.actual > 0n ? "partial" : "waiting";
  }
}

/** A pool payment has 0; a mined one tip − height + 1. Capped at what is required (the state machine decides past that). */
function fewestConfirmations(counted: readonly Payment[], tip: number | null, required: number): number {
  if (counted.length === 0) return 0;
  const each = counted.map((p) => (p.height === null || tip === null ? 0 : Math.max(0, tip - p.height + 1)));
  return Math.min(required, ...each);
}
