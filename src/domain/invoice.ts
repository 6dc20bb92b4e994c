// The invoice state machine: PENDING -> PENDING_MEMPOOL -> CONFIRMED, or EXPIRED.
// Pure: it takes an invoice, its payments and what the chain says now, and returns the next state.

import type { Atomic } from "./amount";
import type { Coin } from "./coins";
import type { InvoiceId, UserId } from "./ids";
import type { InvoiceDetails } from "./invoice-details";

/** Numbers equal invoice.v1.InvoiceStatusType on the wire. */
export enum InvoiceStatus {
  Pending = 0,
  PendingMempool = 1,
  Expired = 2,
  Confirmed = 3,
}

export interface Invoice {
  readonly id: InvoiceId;
  readonly userId: UserId;
  readonly coin: Coin;
  readonly address: string;
  readonly keySetId: number;
  /** Derivation index within the key set (the module's: a subaddress or a /0/i index). */
  readonly addressIndex: number;
  /** What payments are matched against (the module's: a subaddress spend key, an output script). */
  readonly matchKey: string;
  readonly required: Atomic;
  readonly confirmationsRequired: number;
  readonly createdAt: number; // ms since epoch
  readonly expiresAt: number;
  status: InvoiceStatus;
  actual: Atomic;
  txId: string | null;
  confirmedAt: number | null;
  /** Set when a counted payment vanished: the remainder may still be paid until then. */
  monitorUntil: number | null;
  /** When the invoice reached a terminal status; late payments are still recorded for a window after. */
  closedAt: number | null;
  /** What the merchant attached at creation; it never changes. */
  readonly details: InvoiceDetails;
}

/** One output paying an invoice's address. */
export interface Payment {
  readonly invoiceId: InvoiceId;
  readonly txHash: string;
  readonly outputIndex: number;
  readonly outputKey: string;
  readonly amount: Atomic;
  /** First time the payment was observed (mempool sighting or block time, whichever is earlier). */
  readonly seenAt: number;
  /** Block height, or null while in the mempool. */
  height: number | null;
  /** Vanished: double spent, dropped from the pool, or reorged out and not re-seen. */
  gone: boolean;
  /** Counted toward the invoice: it arrived while the invoice could still be paid. Late otherwise. */
  readonly inTime: boolean;
  /** Seen unmined in a tx that may still be replaced (BIP125): it counts as confirmed only once mined. */
  readonly replaceable: boolean;
}

/** What the chain and the clock say at evaluation time. */
export interface ChainView {
  readonly now: number;
  /** Height of the best block, or null if unknown. */
  readonly tipHeight: number | null;
  /**
   * Everything the node showed up to this time has been handed to the invoice's owner.
   * An invoice only expires once the watcher has looked past its deadline: a payment made in
   * time but not yet seen because the node or the watcher lagged must never be expired.
   */
  readonly scannedThrough: number;
  readonly monitoringMs: number;
  /**
   * Set when the coin counts by finality instead of confirmations (an EVM chain with
   * `<CHAIN>_FINALITY=finalized`): the node's highest final block. A payment is then confirmed once
   * its block is at or below it, whatever the invoice's confirmation count. Null or unset: counting.
   */
  readonly finalizedHeight?: number | null;
}

export const isTerminal = (status: InvoiceStatus): boolean =>
  status === InvoiceStatus.Expired || status === InvoiceStatus.Confirmed;

/** The moment after which a PENDING invoice no longer accepts payments. */
export function paymentDeadline(invoice: Invoice): number {
  return Math.max(invoice.expiresAt, invoice.monitorUntil ?? 0);
}

/** What the watcher can vouch for about when a payment arrived, at the moment it first saw it. */
export interface Sighting {
  /** The watcher's last complete look at the chain before this sighting (0: it had none). */
  readonly lookedBefore: number;
  /** The block's own timestamp (ms) when the payment was first seen in a block; null in the pool. */
  readonly blockTime: number | null;
}

/**
 * Whether a payment arrived by `deadline`. It came late only on evidence: the watcher completed a
 * look at or after the deadline without seeing it, and (first seen in a block) the block's
 * timestamp is after the deadline. Without that evidence the payer gets the benefit of the doubt:
 * a watcher that was down, behind or catching up never turns an in-time payment into a late one.
 */
export function arrivedBy(sighting: Sighting, deadline: number): boolean {
  if (sighting.lookedBefore < deadline) return true;
  return sighting.blockTime !== null && sighting.blockTime <= deadline;
}

/**
 * Whether a newly seen payment counts toward the invoice (decided once, when it is recorded).
 * A payment that covers an invoice already in PENDING_MEMPOOL counts whenever it comes: the payer is not late.
 */
export function acceptsPayment(invoice: Invoice, sighting: Sighting): boolean {
  if (isTerminal(invoice.status)) return false;
  if (invoice.status === InvoiceStatus.PendingMempool) return true;
  return arrivedBy(sighting, paymentDeadline(invoice));
}

export function confirmationsOf(payment: Payment, tipHeight: number | null): number {
  if (payment.height === null || tipHeight === null || tipHeight < payment.height) return 0;
  return tipHeight - payment.height + 1;
}

/** Payments that count, in the order they arrived. */
export function countedPayments(payments: readonly Payment[]): Payment[] {
  return payments
    .filter((p) => p.inTime && !p.gone)
    .sort((a, b) => a.seenAt - b.seenAt || cmp(a.txHash, b.txHash) || a.outputIndex - b.outputIndex);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Moves the invoice as far as the payments and the chain allow, one status at a time.
 * Returns the statuses it passed through (each one is an event); the invoice is updated in place.
 */
export function advanceInvoice(invoice: Invoice, payments: readonly Payment[], chain: ChainView): InvoiceStatus[] {
  const steps: InvoiceStatus[] = [];
  if (isTerminal(invoice.status)) return steps;

  const counted = countedPayments(payments);
  let sum = 0n;
  let completedBy: string | null = null;
  for (const p of counted) {
    sum += p.amount;
    if (completedBy === null && sum >= invoice.required) completedBy = p.txHash;
  }
  invoice.actual = sum as Atomic;
  const covered = completedBy !== null;

  if (covered && invoice.status === InvoiceStatus.Pending) {
    invoice.status = InvoiceStatus.PendingMempool;
    invoice.txId = completedBy;
    invoice.monitorUntil = null;
    steps.push(invoice.status);
  }
  if (!covered && invoice.status === InvoiceStatus.PendingMempool) {
    // A counted payment vanished: give the payer a monitoring window to make it good.
    invoice.status = InvoiceStatus.Pending;
    invoice.txId = null;
    invoice.monitorUntil = chain.now + chain.monitoringMs;
    steps.push(invoice.status);
  }
  if (invoice.status === InvoiceStatus.PendingMempool) {
    const required = invoice.confirmationsRequired;
    // 0 confirmations means 1 for a payment that could still be replaced (the payer can take it back).
    const final = chain.finalizedHeight ?? null;
    const settled = (p: Payment) =>
      final !== null
        ? p.height !== null && p.height <= final
        : confirmationsOf(p, chain.tipHeight) >= (p.replaceable ? Math.max(1, required) : required);
    if (counted.every(settled)) {
      invoice.status = InvoiceStatus.Confirmed;
      invoice.confirmedAt = chain.now;
      invoice.closedAt = chain.now;
      steps.push(invoice.status);
    }
  } else if (invoice.status === InvoiceStatus.Pending) {
    const deadline = paymentDeadline(invoice);
    if (chain.now >= deadline && chain.scannedThrough >= deadline) {
      invoice.status = InvoiceStatus.Expired;
      invoice.closedAt = chain.now;
      steps.push(invoice.status);
    }
  }
  return steps;
}

/** When the invoice next needs a look without any chain news (its expiry), or null. */
export function nextDeadline(invoice: Invoice): number | null {
  return invoice.status === InvoiceStatus.Pending ? paymentDeadline(invoice) : null;
}
