// The JSON body a webhook endpoint receives: the event's type and log id, when it happened, the
// invoice exactly as the API encodes it (invoice.v1.Invoice in proto3 JSON, defaults included), and the payment if any.

import { toJson } from "@bufbuild/protobuf";
import { InvoiceSchema } from "../../gen/invoice/v1/invoice_pb";
import type { EventType, InvoiceSnapshot, PaymentFact } from "../domain/events";
import { invoiceMessage } from "../rpc/convert";

export interface WebhookEvent {
  id: number;
  type: EventType;
  invoice: InvoiceSnapshot;
  payment: PaymentFact | null;
  /** When the event was logged (ms). */
  createdAt: number;
}

/** `checkoutBase`: CHECKOUT_BASE_URL (a queued delivery has no request origin); null leaves checkoutUrl out. */
export function webhookBody(e: WebhookEvent, checkoutBase: string | null): string {
  return JSON.stringify({
    type: e.type,
    // uint64 in proto3 JSON is a string, as the stream's event ids are.
    eventId: String(e.id),
    timestamp: new Date(e.createdAt).toISOString(),
    // Every field, defaults too (PENDING, 0, ""): a receiver should not need to know proto3's omissions.
    invoice: toJson(InvoiceSchema, invoiceMessage(e.invoice, checkoutBase), { alwaysEmitImplicit: true }),
    ...(e.payment ? { payment: e.payment } : {}),
  });
}
