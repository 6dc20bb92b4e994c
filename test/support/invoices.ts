// A domain invoice for pure tests: PENDING, 1000 atomic units, nothing paid; times are the caller's.
import { atomic, ZERO } from "../../src/domain/amount";
import { Coin } from "../../src/domain/coins";
import type { InvoiceId, UserId } from "../../src/domain/ids";
import { InvoiceStatus, type Invoice } from "../../src/domain/invoice";
import { NO_DETAILS } from "../../src/domain/invoice-details";

export function testInvoice(over: Partial<Invoice> & Pick<Invoice, "createdAt" | "expiresAt">): Invoice {
  return {
    id: "00000000-0000-4000-8000-000000000001" as InvoiceId,
    userId: "00000000-0000-4000-8000-0000000000aa" as UserId,
    coin: Coin.XMR,
    address: "addr",
    keySetId: 1,
    addressIndex: 1,
    matchKey: "d",
    required: atomic(1000n),
    actual: ZERO,
    confirmationsRequired: 1,
    status: InvoiceStatus.Pending,
    txId: null,
    confirmedAt: null,
    monitorUntil: null,
    closedAt: null,
    details: NO_DETAILS,
    ...over,
  };
}
