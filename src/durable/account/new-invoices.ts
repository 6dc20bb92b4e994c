// New invoices as a group decides them: each takes the next address index of its key set in arrival
// order, and the group moves each key set's counter once, one past the highest index it took.

import type { DerivedAddress } from "../../chains/adapter";
import type { KeySetRow } from "../../db/key-sets";
import { atomic, ZERO } from "../../domain/amount";
import type { Coin } from "../../domain/coins";
import type { InvoiceId, UserId } from "../../domain/ids";
import { InvoiceStatus, type Invoice } from "../../domain/invoice";
import type { InvoiceDetails } from "../../domain/invoice-details";

export interface NewInvoice {
  coin: Coin;
  /** Atomic units as a decimal string (bigint does not cross every RPC boundary). */
  required: string;
  timeoutSeconds: number;
  confirmations: number;
  details: InvoiceDetails;
}

/** The next free index of each key set while a group is decided, starting at the ledger's counter. */
export class IndexAllocator {
  private readonly next = new Map<number, number>();

  /** The index the next invoice of `keySet` gets. */
  peek(keySet: KeySetRow): number {
    return this.next.get(keySet.id) ?? keySet.nextIndex;
  }

  /** Takes that index, once the invoice it numbers was decided (a failure before takes none). */
  take(keySet: KeySetRow): number {
    const index = this.peek(keySet);
    this.next.set(keySet.id, index + 1);
    return index;
  }

  /** Each key set's new counter (key set id -> next index), for the key sets the group used. */
  counters(): ReadonlyMap<number, number> {
    return this.next;
  }
}

/** A PENDING invoice at `address` (index `addressIndex` of key set `keySetId`), created `now`. */
export function newInvoice(userId: UserId, req: NewInvoice, keySetId: number, addressIndex: number, address: DerivedAddress, now: number): Invoice {
  return {
    id: crypto.randomUUID() as InvoiceId,
    userId,
    coin: req.coin,
    address: address.address,
    keySetId,
    addressIndex,
    matchKey: address.matchKey,
    required: atomic(BigInt(req.required)),
    actual: ZERO,
    confirmationsRequired: req.confirmations,
    createdAt: now,
    expiresAt: now + req.timeoutSeconds * 1000,
    status: InvoiceStatus.Pending,
    txId: null,
    confirmedAt: null,
    monitorUntil: null,
    closedAt: null,
    details: req.details,
  };
}
