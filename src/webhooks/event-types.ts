// The event types a webhook endpoint can subscribe to, and the type of an event-log row written
// before webhooks (no `type` column then), which follows from the invoice status it recorded.

import { InvoiceStatus } from "../domain/invoice";

export const EVENT_TYPES = [
  "invoice.created",
  "invoice.payment_received",
  "invoice.pending_mempool",
  "invoice.confirmed",
  "invoice.expired",
  "invoice.reverted",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(name: string): name is EventType {
  return (EVENT_TYPES as readonly string[]).includes(name);
}

/** The type of an event row whose `type` is null: a status change read by the status it reached. */
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
