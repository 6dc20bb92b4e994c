// Deciding what a chain batch or the clock changes in an account, without changing anything: pure
// functions of (the ledger, the input, now) that return a Change. The account commits the change to
// D1 and only then applies it to its ledger and publishes it, so a failure anywhere leaves nothing
// half-done in memory (an expiry decided on a scan that never committed, a payment "known" but unwritten).

import type { ChainBatch, ChainTx, FoundPayment } from "../../chains/adapter";
import type { Atomic } from "../../domain/amount";
import type { Coin } from "../../domain/coins";
import { coinFacts } from "../../chains/registry";
import { formatAmount } from "../../domain/amount";
import { snapshotOf, transitionType, type NewEvent } from "../../domain/events";
import type { InvoiceId } from "../../domain/ids";
import { acceptsPayment, advanceInvoice, countedPayments, isTerminal, type Invoice, type Payment, type Sighting } from "../../domain/invoice";
import { paymentKey, type CoinProgress, type Ledger } from "./ledger";

export interface Change {
  /** New versions of the invoices that changed. */
  readonly invoices: Map<InvoiceId, Invoice>;
  /** New or changed payments, by paymentKey. */
  readonly payments: Map<string, Payment>;
  /**
   * The events to log, publish and deliver, in order: per invoice, one `invoice.payment_received` per
   * newly recorded payment, then one event per status transition.
   */
  readonly events: NewEvent[];
  /** Coins whose delivered progress moved. */
  readonly progress: Map<Coin, CoinProgress>;
  /** Outputs not credited because their one-time key was credited before (burning bug), for the log. */
  readonly duplicateOutputs: FoundOutput[];
}

export const hasWrites = (c: Change): boolean => c.invoices.size > 0 || c.payments.size > 0;

/** An output of a batch tx paying one of the account's watched invoices. */
export interface FoundOutput {
  readonly invoiceId: InvoiceId;
  readonly txHash: string;
  readonly outputIndex: number;
  /** The payment's identity on its chain, as its module defines it (see ChainAdapter.findPayments). */
  readonly outputKey: string;
  readonly amount: Atomic;
  /** Block height, or null for a pool tx. */
  readonly height: number | null;
  /** The block's timestamp in ms, or null for a pool tx. */
  readonly blockTime: number | null;
  /** The tx may still be replaced (only meaningful in the pool). */
  readonly replaceable: boolean;
}

/** Scans one tx for one key set's watched invoices (matchKey -> invoice). */
export type ScanTx = (tx: ChainTx, keySetId: number, watched: ReadonlyMap<string, InvoiceId>) => FoundPayment<InvoiceId>[];

export interface Clock {
  readonly now: number;
  readonly monitoringMs: number;
}

/** matchKey -> invoice id per key set, for the coin's watched invoices. */
export function watchedByKeySet(ledger: Ledger, coin: Coin): Map<number, Map<string, InvoiceId>> {
  const out = new Map<number, Map<string, InvoiceId>>();
  for (const inv of ledger.invoices.values()) {
    if (inv.coin !== coin) continue;
    let m = out.get(inv.keySetId);
    if (!m) out.set(inv.keySetId, (m = new Map()));
    m.set(inv.matchKey, inv.id);
  }
  return out;
}

/** The batch's outputs that pay the account's invoices, blocks in order, then the pool. */
export function findOutputs(ledger: Ledger, batch: ChainBatch, scan: ScanTx): FoundOutput[] {
  const watched = watchedByKeySet(ledger, batch.coin);
  const out: FoundOutput[] = [];
  const scanAll = (tx: ChainTx, height: number | null, blockTime: number | null) => {
    for (const [keySetId, matchKeys] of watched) {
      for (const f of scan(tx, keySetId, matchKeys)) {
        out.push({
          invoiceId: f.owner,
          txHash: tx.hash,
          outputIndex: f.outputIndex,
          outputKey: f.outputKey,
          amount: f.amount,
          height,
          blockTime,
          replaceable: f.replaceable ?? false,
        });
      }
    }
  };
  for (const block of batch.blocks) for (const tx of block.txs) scanAll(tx, block.height, block.timestamp * 1000);
  for (const tx of batch.mempool) scanAll(tx, null, null);
  return out;
}

/** Output keys among `outputs` that the ledger has not credited: the ones to look up in D1. */
export function unknownOutputKeys(ledger: Ledger, coin: Coin, outputs: readonly FoundOutput[]): string[] {
  const credited = new Set(coinPayments(ledger, coin).map((p) => p.outputKey));
  return [...new Set(outputs.map((o) => o.outputKey))].filter((k) => !credited.has(k));
}

/**
 * What one watcher batch changes: new payments (dated and judged in time by what the watcher saw),
 * heights of known ones, orphaned and vanished ones, then every invoice of the coin re-evaluated.
 * `creditedElsewhere` holds output keys D1 already credited outside this ledger.
 */
export function applyBatch(ledger: Ledger, batch: ChainBatch, outputs: readonly FoundOutput[], creditedElsewhere: ReadonlySet<string>, clock: Clock): Change {
  const draft = new Draft(ledger, batch.coin);
  const { now } = clock;

  if (batch.orphanedAbove !== null) {
    for (const p of draft.allPayments()) {
      if (p.height !== null && p.height > batch.orphanedAbove) draft.update(p, { height: null });
    }
  }

  const creditedKeys = new Set(draft.allPayments().map((p) => p.outputKey));
  for (const o of outputs) {
    const invoice = draft.invoices.get(o.invoiceId);
    if (!invoice) continue;
    const known = draft.paymentsOf(invoice.id).find((p) => p.txHash === o.txHash && p.outputIndex === o.outputIndex);
    if (known) {
      if (o.height !== null) {
        if (known.height === o.height && !known.gone) continue;
        draft.update(known, { height: o.height, gone: false }); // mined, or mined again after a reorg
      } else if (known.height === null && known.gone) {
        draft.update(known, { gone: false }); // back in the pool
      }
      continue; // a pool sighting says nothing new about a mined or live payment
    }
    if (creditedKeys.has(o.outputKey) || creditedElsewhere.has(o.outputKey)) {
      draft.duplicateOutputs.push(o);
      continue;
    }
    const sighting: Sighting = { lookedBefore: batch.observedAfter, blockTime: o.blockTime };
    const seenAt = o.blockTime !== null ? Math.min(now, o.blockTime) : batch.observedAfter > 0 ? Math.min(now, batch.observedAfter) : now;
    creditedKeys.add(o.outputKey);
    draft.add({
      invoiceId: invoice.id,
      txHash: o.txHash,
      outputIndex: o.outputIndex,
      outputKey: o.outputKey,
      amount: o.amount,
      seenAt,
      height: o.height,
      gone: false,
      inTime: acceptsPayment(invoice, sighting),
      replaceable: o.height === null && o.replaceable,
    });
  }

  if (batch.gone.length > 0) {
    const gone = new Set(batch.gone);
    for (const p of draft.allPayments()) {
      if (p.height === null && !p.gone && gone.has(p.txHash)) draft.update(p, { gone: true });
    }
  }

  const before = ledger.progress.get(batch.coin);
  const progress: CoinProgress = {
    tipHeight: batch.tipHeight,
    scannedThrough: Math.max(before?.scannedThrough ?? 0, batch.scannedThrough),
    ...finalityOf(batch.finalizedHeight ?? before?.finalizedHeight),
  };
  draft.progress.set(batch.coin, progress);
  draft.advanceAll(progress, clock);
  return draft.change();
}

/**
 * What the clock changes: every invoice of a coin with open invoices re-evaluated against how far
 * that coin's chain was scanned (`scanned`, as the watcher recorded it), so a due invoice expires
 * only once the chain was scanned past its deadline.
 */
export function applyClock(ledger: Ledger, scanned: ReadonlyMap<Coin, CoinProgress>, clock: Clock): Change {
  const coins = new Set([...ledger.invoices.values()].filter((i) => !isTerminal(i.status)).map((i) => i.coin));
  const changes: Change[] = [];
  for (const coin of coins) {
    const own = ledger.progress.get(coin);
    const recorded = scanned.get(coin);
    const progress: CoinProgress = {
      tipHeight: own?.tipHeight ?? recorded?.tipHeight ?? null,
      scannedThrough: Math.max(own?.scannedThrough ?? 0, recorded?.scannedThrough ?? 0),
      ...finalityOf(own?.finalizedHeight ?? recorded?.finalizedHeight),
    };
    const draft = new Draft(ledger, coin);
    draft.progress.set(coin, progress);
    draft.advanceAll(progress, clock);
    changes.push(draft.change());
  }
  return merge(changes);
}

/** The finalized height as progress keeps it: only for a coin that counts by finality. */
const finalityOf = (height: number | null | undefined): { finalizedHeight?: number } => (typeof height === "number" ? { finalizedHeight: height } : {});

function merge(changes: Change[]): Change {
  const out = emptyChange();
  for (const c of changes) {
    for (const [k, v] of c.invoices) out.invoices.set(k, v);
    for (const [k, v] of c.payments) out.payments.set(k, v);
    for (const [k, v] of c.progress) out.progress.set(k, v);
    out.events.push(...c.events);
    out.duplicateOutputs.push(...c.duplicateOutputs);
  }
  return out;
}

const emptyChange = (): Change => ({ invoices: new Map(), payments: new Map(), events: [], progress: new Map(), duplicateOutputs: [] });

function coinPayments(ledger: Ledger, coin: Coin): Payment[] {
  const out: Payment[] = [];
  for (const [id, list] of ledger.payments) if (ledger.invoices.get(id)?.coin === coin) out.push(...list);
  return out;
}

/**
 * Working copies of one coin's invoices and payments. Changes go to the copies; the ledger's own
 * objects are never touched, so a change that is not committed leaves no trace.
 */
class Draft {
  readonly invoices = new Map<InvoiceId, Invoice>();
  private readonly payments = new Map<InvoiceId, Payment[]>();
  private readonly changedInvoices = new Set<InvoiceId>();
  private readonly changedPayments = new Map<string, Payment>();
  private readonly added = new Map<InvoiceId, Payment[]>();
  private readonly events: NewEvent[] = [];
  readonly progress = new Map<Coin, CoinProgress>();
  readonly duplicateOutputs: FoundOutput[] = [];

  constructor(ledger: Ledger, coin: Coin) {
    for (const inv of ledger.invoices.values()) {
      if (inv.coin !== coin) continue;
      this.invoices.set(inv.id, { ...inv });
      this.payments.set(inv.id, (ledger.payments.get(inv.id) ?? []).map((p) => ({ ...p })));
    }
  }

  paymentsOf(id: InvoiceId): Payment[] {
    return this.payments.get(id) ?? [];
  }

  allPayments(): Payment[] {
    return [...this.payments.values()].flat();
  }

  update(p: Payment, fields: Partial<Pick<Payment, "height" | "gone">>): void {
    Object.assign(p, fields);
    this.changedPayments.set(paymentKey(p), p);
    this.changedInvoices.add(p.invoiceId);
  }

  add(p: Payment): void {
    this.payments.get(p.invoiceId)!.push(p);
    const added = this.added.get(p.invoiceId) ?? [];
    this.added.set(p.invoiceId, [...added, p]);
    this.changedPayments.set(paymentKey(p), p);
    this.changedInvoices.add(p.invoiceId);
  }

  advanceAll(progress: CoinProgress, clock: Clock): void {
    const view = {
      now: clock.now,
      tipHeight: progress.tipHeight,
      scannedThrough: progress.scannedThrough,
      monitoringMs: clock.monitoringMs,
      finalizedHeight: progress.finalizedHeight ?? null,
    };
    for (const inv of this.invoices.values()) {
      const before = inv.actual;
      const payments = this.paymentsOf(inv.id);
      for (const p of this.added.get(inv.id) ?? []) this.events.push(paymentReceived(inv, payments.slice(0, payments.indexOf(p) + 1), p));
      const steps = advanceInvoice(inv, payments, view);
      for (const status of steps) this.events.push({ type: transitionType(status), invoice: snapshotOf(inv, status) });
      if (steps.length > 0 || before !== inv.actual) this.changedInvoices.add(inv.id);
    }
  }

  change(): Change {
    return {
      invoices: new Map([...this.changedInvoices].map((id) => [id, this.invoices.get(id)!])),
      payments: this.changedPayments,
      events: this.events,
      progress: this.progress,
      duplicateOutputs: this.duplicateOutputs,
    };
  }
}

/**
 * The event of a newly recorded payment: the invoice before any transition the payment causes, with
 * the amount counted up to and including it (a late payment leaves the amount as it was).
 */
function paymentReceived(invoice: Invoice, upTo: readonly Payment[], payment: Payment): NewEvent {
  const actual = isTerminal(invoice.status) ? invoice.actual : countedPayments(upTo).reduce((sum, p) => sum + p.amount, 0n);
  return {
    type: "invoice.payment_received",
    invoice: { ...snapshotOf(invoice), actual: actual.toString() },
    payment: { txId: payment.txHash, amountExact: formatAmount(payment.amount, coinFacts(invoice.coin)?.decimals ?? 0), inTime: payment.inTime },
  };
}
