// Invoice events: one per state change, as stored in the event log and sent on the stream.
// A snapshot is the invoice as it was at that change, with amounts as exact atomic strings.

import { InvoiceStatus, type Invoice } from "./invoice";
import type { Coin } from "./coins";

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
}

export interface InvoiceEvent {
  /** Position in the durable event log; strictly increasing in commit order. */
  id: number;
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
  };
}
