// Deciding an account's change is pure: the ledger it decides on is never touched, so a change that
// does not commit leaves no trace; only applying the committed change moves the ledger.
import { describe, expect, it } from "vitest";
import type { ChainBatch } from "../../src/chains/adapter";
import { applyBatch, applyClock, type FoundOutput } from "../../src/durable/account/apply";
import { applyToLedger, type Ledger } from "../../src/durable/account/ledger";
import { atomic } from "../../src/domain/amount";
import { Coin } from "../../src/domain/coins";
import type { InvoiceId } from "../../src/domain/ids";
import { InvoiceStatus as S, type Invoice } from "../../src/domain/invoice";
import { testInvoice } from "../support/invoices";

const NOW = 1_800_000_000_000;
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}` as InvoiceId;

function ledgerWith(invoices: Partial<Invoice>[]): Ledger {
  const full = invoices.map((over, i) =>
    testInvoice({ id: id(i + 1), address: `addr${i}`, addressIndex: i + 1, matchKey: `key${i}`, createdAt: NOW - 600_000, expiresAt: NOW + 600_000, ...over }),
  );
  return { invoices: new Map(full.map((i) => [i.id, i])), payments: new Map(full.map((i) => [i.id, []])), keySets: new Map(), progress: new Map() };
}

const batch = (over: Partial<ChainBatch> = {}): ChainBatch => ({
  coin: Coin.XMR,
  tipHeight: 100,
  orphanedAbove: null,
  blocks: [],
  mempool: [],
  gone: [],
  scannedThrough: NOW,
  observedAfter: NOW - 5_000,
  ...over,
});
const output = (invoice: number, over: Partial<FoundOutput> = {}): FoundOutput => ({
  invoiceId: id(invoice),
  txHash: `tx${invoice}`,
  outputIndex: 0,
  outputKey: `out${invoice}`,
  amount: atomic(1000n),
  height: null,
  blockTime: null,
  replaceable: false,
  ...over,
});
const clock = { now: NOW, monitoringMs: 3_600_000 };

describe("applyBatch", () => {
  it("leaves the ledger it decides on untouched until the change is applied", () => {
    const ledger = ledgerWith([{}, {}]);
    const before = structuredClone(ledger);
    const change = applyBatch(ledger, batch(), [output(1), output(2, { height: 100, blockTime: NOW - 1000 })], new Set(), clock);
    expect(ledger).toEqual(before);
    expect(change.events.map((e) => [e.invoice.id, e.type, e.invoice.status])).toEqual([
      [id(1), "invoice.payment_received", S.Pending],
      [id(1), "invoice.pending_mempool", S.PendingMempool],
      [id(2), "invoice.payment_received", S.Pending],
      [id(2), "invoice.pending_mempool", S.PendingMempool],
      [id(2), "invoice.confirmed", S.Confirmed],
    ]);
    applyToLedger(ledger, change);
    expect(ledger.invoices.get(id(2))!.status).toBe(S.Confirmed);
    expect(ledger.payments.get(id(1))).toHaveLength(1);
    expect(ledger.progress.get(Coin.XMR)).toEqual({ tipHeight: 100, scannedThrough: NOW });
  });

  it("never credits an output key twice: not within a batch, not one D1 credited elsewhere", () => {
    const ledger = ledgerWith([{}, {}]);
    const change = applyBatch(ledger, batch(), [output(1), output(2, { outputKey: "out1", txHash: "copy" }), output(2, { outputKey: "elsewhere" })], new Set(["elsewhere"]), clock);
    expect([...change.payments.values()].map((p) => p.outputKey)).toEqual(["out1"]);
    expect(change.duplicateOutputs.map((o) => o.outputKey)).toEqual(["out1", "elsewhere"]);
  });

  it("keeps the scan time it had when a batch reports an older one", () => {
    const ledger = ledgerWith([{}]);
    applyToLedger(ledger, applyBatch(ledger, batch({ scannedThrough: NOW }), [], new Set(), clock));
    const change = applyBatch(ledger, batch({ scannedThrough: NOW - 60_000 }), [], new Set(), clock);
    expect(change.progress.get(Coin.XMR)?.scannedThrough).toBe(NOW);
  });
});

describe("a coin that counts by finality", () => {
  it("confirms a mined payment once a batch says its block is final, and remembers the final height when a later batch does not say", () => {
    const ledger = ledgerWith([{ coin: Coin.ETH, confirmationsRequired: 30 }]);
    const mined = output(1, { height: 90, blockTime: NOW - 1000 });
    applyToLedger(ledger, applyBatch(ledger, batch({ coin: Coin.ETH, tipHeight: 100, finalizedHeight: 80 }), [mined], new Set(), clock));
    expect(ledger.invoices.get(id(1))!.status).toBe(S.PendingMempool);
    expect(ledger.progress.get(Coin.ETH)?.finalizedHeight).toBe(80);
    applyToLedger(ledger, applyBatch(ledger, batch({ coin: Coin.ETH, tipHeight: 101 }), [], new Set(), clock));
    expect(ledger.progress.get(Coin.ETH)?.finalizedHeight).toBe(80);
    const change = applyBatch(ledger, batch({ coin: Coin.ETH, tipHeight: 102, finalizedHeight: 90 }), [], new Set(), clock);
    expect(change.events.map((e) => e.invoice.status)).toEqual([S.Confirmed]);
  });

  it("confirms on the clock from the final height the watcher recorded", () => {
    const ledger = ledgerWith([{ coin: Coin.ETH, confirmationsRequired: 30 }]);
    applyToLedger(ledger, applyBatch(ledger, batch({ coin: Coin.ETH, tipHeight: 100 }), [output(1, { height: 95, blockTime: NOW - 1000 })], new Set(), clock));
    ledger.progress.clear();
    const change = applyClock(ledger, new Map([[Coin.ETH, { tipHeight: 100, scannedThrough: NOW, finalizedHeight: 95 }]]), clock);
    expect(change.events.map((e) => e.invoice.status)).toEqual([S.Confirmed]);
  });
});

describe("applyClock", () => {
  it("expires a due invoice only once the chain was scanned past its deadline, without touching the ledger", () => {
    const ledger = ledgerWith([{ expiresAt: NOW - 1000 }]);
    const before = structuredClone(ledger);
    expect(applyClock(ledger, new Map([[Coin.XMR, { tipHeight: 100, scannedThrough: NOW - 2000 }]]), clock).events).toEqual([]);
    const change = applyClock(ledger, new Map([[Coin.XMR, { tipHeight: 100, scannedThrough: NOW }]]), clock);
    expect(change.events.map((e) => e.invoice.status)).toEqual([S.Expired]);
    expect(ledger).toEqual(before);
  });
});

describe("event types", () => {
  it("logs every newly recorded payment, partial ones too, with the amount counted up to it and before the transition it causes", () => {
    const ledger = ledgerWith([{}]);
    const half = (n: number) => output(1, { txHash: `half${n}`, outputKey: `half${n}`, amount: atomic(500n) });
    const change = applyBatch(ledger, batch(), [half(1), half(2)], new Set(), clock);
    expect(change.events.map((e) => [e.type, e.invoice.status, e.invoice.actual, e.payment])).toEqual([
      ["invoice.payment_received", S.Pending, "500", { txId: "half1", amountExact: "0.0000000005", inTime: true }],
      ["invoice.payment_received", S.Pending, "1000", { txId: "half2", amountExact: "0.0000000005", inTime: true }],
      ["invoice.pending_mempool", S.PendingMempool, "1000", undefined],
    ]);
  });

  it("logs a late payment on an expired invoice as received but not in time, the amount unchanged", () => {
    const ledger = ledgerWith([{ status: S.Expired, expiresAt: NOW - 60_000, closedAt: NOW - 60_000 }]);
    const change = applyBatch(ledger, batch({ observedAfter: NOW - 1000 }), [output(1)], new Set(), clock);
    expect(change.events.map((e) => [e.type, e.invoice.status, e.invoice.actual, e.payment?.inTime])).toEqual([
      ["invoice.payment_received", S.Expired, "0", false],
    ]);
  });

  it("calls a counted payment vanishing from the pool invoice.reverted", () => {
    const ledger = ledgerWith([{}]);
    applyToLedger(ledger, applyBatch(ledger, batch(), [output(1)], new Set(), clock));
    const change = applyBatch(ledger, batch({ gone: ["tx1"] }), [], new Set(), clock);
    expect(change.events.map((e) => [e.type, e.invoice.status])).toEqual([["invoice.reverted", S.Pending]]);
  });
});
