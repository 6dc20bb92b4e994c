// Invoice events: one per state change or recorded payment, as stored in the event log, sent on the
// stream and delivered to webhooks. A snapshot is the invoice as it was then, amounts as exact atomic strings.

import { InvoiceStatus, type Invoice } from "./invoice";
import type { Coin } from "./coins";
import type { InvoiceDetails } from "./invoice-details";

export interface InvoiceSnapshot {
  id: string;
  userId: string;
  coin: Coin;
  address: string;
  required: string;
  actual: string;
  confirmationsRequired: number;
  status: InvoiceStatus;
  createdAt: number;
  expiresAt: number;
  confirmedAt: number | null;
  txId: string | null;
  /** Unset in events logged before invoices had details. */
  details?: InvoiceDetails;
}

/** What happened, in the webhook's words; every logged event has exactly one. */
export type EventType =
  | "invoice.created"
  | "invoice.payment_received"
  | "invoice.pending_mempool"
  | "invoice.confirmed"
  | "invoice.expired"
  | "invoice.reverted";

/** Every event type, in the order the docs list them. */
export const EVENT_TYPES: readonly EventType[] = [
  "invoice.created",
  "invoice.payment_received",
  "invoice.pending_mempool",
  "invoice.confirmed",
  "invoice.expired",
  "invoice.reverted",
];

/** The type of an event-log row written before types were (no `type` column then): the status it reached. */
export function eventTypeOfStatus(status: InvoiceStatus): EventType {
  switch (status) {
    case InvoiceStatus.Pending:
      return "invoice.created";
    case InvoiceStatus.PendingMempool:
      return "invoice.pending_mempool";
    case InvoiceStatus.Expired:
      return "invoice.expired";
    case InvoiceStatus.Confirmed:
      return "invoice.confirmed";
  }
}

/** The payment an `invoice.payment_received` event reports; `amountExact` in coin units (like requiredAmountExact). */
export interface PaymentFact {
  txId: string;
  amountExact: string;
  /** Counted toward the invoice; false for a late payment. */
  inTime: boolean;
}

/** An event decided but not yet logged. */
export interface NewEvent {
  type: EventType;
  invoice: InvoiceSnapshot;
  payment?: PaymentFact;
}

/**
 * The type of a status transition. PENDING is reached by a transition only when a counted payment
 * vanished (a new invoice's PENDING is `invoice.created`, logged by creation itself).
 */
export function transitionType(status: InvoiceStatus): EventType {
  return status === InvoiceStatus.Pending ? "invoice.reverted" : eventTypeOfStatus(status);
}

export interface InvoiceEvent {
  /** Position in the durable event log; strictly increasing in commit order. */
  id: number;
  /** What happened: a status change, or a payment recorded (`invoice.payment_received`, the status unchanged). */
  type: EventType;
  invoice: InvoiceSnapshot;
}

export function snapshotOf(invoice: Invoice, status: InvoiceStatus = invoice.status): InvoiceSnapshot {
  return {
    id: invoice.id,
    userId: invoice.userId,
    coin: invoice.coin,
    address: invoice.address,
    required: invoice.required.toString(),
    actual: invoice.actual.toString(),
    confirmationsRequired: invoice.confirmationsRequired,
    status,
    createdAt: invoice.createdAt,
    expiresAt: invoice.expiresAt,
    confirmedAt: status === InvoiceStatus.Confirmed ? invoice.confirmedAt : null,
    txId: invoice.txId,
    details: invoice.details,
  };
}
