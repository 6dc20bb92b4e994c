// The invoice state machine as a specification: each row is a situation a payer or the chain can create.
import { describe, expect, it } from "vitest";
import { atomic } from "../../src/domain/amount";
import type { InvoiceId } from "../../src/domain/ids";
import { acceptsPayment, advanceInvoice, InvoiceStatus as S, nextDeadline, type ChainView, type Invoice, type Payment } from "../../src/domain/invoice";
import { testInvoice } from "../support/invoices";

const T0 = 1_800_000_000_000;
const EXPIRES = T0 + 600_000;
const HOUR = 3_600_000;

const invoice = (over: Partial<Invoice> = {}): Invoice => testInvoice({ createdAt: T0, expiresAt: EXPIRES, confirmationsRequired: 2, ...over });

let seq = 0;
function pay(amount: bigint, over: Partial<Payment> = {}): Payment {
  seq += 1;
  return {
    invoiceId: "00000000-0000-4000-8000-000000000001" as InvoiceId,
    txHash: `tx${seq}`,
    outputIndex: 0,
    outputKey: `key${seq}`,
    amount: atomic(amount),
    seenAt: T0 + 1000 * seq,
    height: null,
    gone: false,
    inTime: true,
    replaceable: false,
    ...over,
  };
}

const chain = (over: Partial<ChainView> = {}): ChainView => ({ now: T0 + 60_000, tipHeight: 100, scannedThrough: T0 + 60_000, monitoringMs: HOUR, ...over });

describe("advanceInvoice", () => {
  it("stays PENDING while payments fall short", () => {
    const inv = invoice();
    expect(advanceInvoice(inv, [pay(400n), pay(500n)], chain())).toEqual([]);
    expect(inv.status).toBe(S.Pending);
    expect(inv.actual).toBe(900n);
  });

  it("moves to PENDING_MEMPOOL when mempool payments cover the amount, naming the tx that completed it", () => {
    const inv = invoice();
    const a = pay(400n);
    const b = pay(600n);
    expect(advanceInvoice(inv, [b, a], chain())).toEqual([S.PendingMempool]);
    expect(inv.txId).toBe(b.txHash);
    expect(inv.actual).toBe(1000n);
  });

  it("credits an overpayment in full", () => {
    const inv = invoice();
    advanceInvoice(inv, [pay(5000n)], chain());
    expect(inv.actual).toBe(5000n);
  });

  it("waits for every counted payment to reach the confirmations", () => {
    const inv = invoice();
    const payments = [pay(500n, { height: 99 }), pay(500n, { height: 100 })];
    expect(advanceInvoice(inv, payments, chain({ tipHeight: 100 }))).toEqual([S.PendingMempool]);
    expect(advanceInvoice(inv, payments, chain({ tipHeight: 100 }))).toEqual([]);
    expect(advanceInvoice(inv, payments, chain({ tipHeight: 101 }))).toEqual([S.Confirmed]);
    expect(inv.confirmedAt).toBe(T0 + 60_000);
  });

  it("passes through PENDING_MEMPOOL to CONFIRMED at once with 0 confirmations (two events)", () => {
    const inv = invoice({ confirmationsRequired: 0 });
    expect(advanceInvoice(inv, [pay(1000n)], chain())).toEqual([S.PendingMempool, S.Confirmed]);
  });

  it("goes from PENDING straight through both states when it first sees the payment already confirmed", () => {
    const inv = invoice({ confirmationsRequired: 1 });
    expect(advanceInvoice(inv, [pay(1000n, { height: 100 })], chain({ tipHeight: 100 }))).toEqual([S.PendingMempool, S.Confirmed]);
  });

  it("keeps a paid invoice out of EXPIRED when blocks are slow", () => {
    const inv = invoice();
    advanceInvoice(inv, [pay(1000n)], chain());
    const late = chain({ now: EXPIRES + 10 * HOUR, scannedThrough: EXPIRES + 10 * HOUR });
    expect(advanceInvoice(inv, [pay(1000n, { txHash: inv.txId! })], late)).toEqual([]);
    expect(inv.status).toBe(S.PendingMempool);
  });

  it("expires a PENDING invoice at expiresAt once the chain was scanned past it", () => {
    const inv = invoice();
    expect(advanceInvoice(inv, [], chain({ now: EXPIRES, scannedThrough: EXPIRES }))).toEqual([S.Expired]);
    expect(inv.closedAt).toBe(EXPIRES);
  });

  it("does not expire while the watcher has not looked past expiresAt (a payment may be unseen)", () => {
    const inv = invoice();
    expect(advanceInvoice(inv, [], chain({ now: EXPIRES + HOUR, scannedThrough: EXPIRES - 1 }))).toEqual([]);
    expect(nextDeadline(inv)).toBe(EXPIRES);
  });

  it("does not expire before expiresAt", () => {
    expect(advanceInvoice(invoice(), [], chain({ now: EXPIRES - 1, scannedThrough: EXPIRES + HOUR }))).toEqual([]);
  });

  it("ignores late payments: they never count", () => {
    const inv = invoice();
    expect(advanceInvoice(inv, [pay(1000n, { inTime: false })], chain())).toEqual([]);
    expect(inv.actual).toBe(0n);
  });

  it("returns to PENDING when a counted payment vanishes, and opens a monitoring window", () => {
    const inv = invoice();
    const p = pay(1000n);
    advanceInvoice(inv, [p], chain());
    p.gone = true;
    const now = EXPIRES + 1000;
    expect(advanceInvoice(inv, [p], chain({ now, scannedThrough: now }))).toEqual([S.Pending]);
    expect(inv.monitorUntil).toBe(now + HOUR);
    expect(inv.txId).toBeNull();
    expect(inv.actual).toBe(0n);
    // Inside the window it does not expire...
    expect(advanceInvoice(inv, [p], chain({ now: now + 1000, scannedThrough: now + 1000 }))).toEqual([]);
    // ...a payment in the window makes it good...
    expect(acceptsPayment(inv, { lookedBefore: now + 2000, blockTime: null })).toBe(true);
    // ...and without one it expires when the window ends.
    expect(advanceInvoice(inv, [p], chain({ now: now + HOUR, scannedThrough: now + HOUR }))).toEqual([S.Expired]);
  });

  it("recovers to PENDING_MEMPOOL when the vanished payment comes back (reorg, re-broadcast)", () => {
    const inv = invoice();
    const p = pay(1000n);
    advanceInvoice(inv, [p], chain());
    p.gone = true;
    advanceInvoice(inv, [p], chain());
    p.gone = false;
    expect(advanceInvoice(inv, [p], chain())).toEqual([S.PendingMempool]);
  });

  it("never leaves CONFIRMED or EXPIRED", () => {
    for (const status of [S.Confirmed, S.Expired]) {
      const inv = invoice({ status });
      const p = pay(1000n, { gone: true });
      expect(advanceInvoice(inv, [p], chain({ now: EXPIRES * 2, scannedThrough: EXPIRES * 2 }))).toEqual([]);
      expect(inv.status).toBe(status);
    }
  });

  it("leaves confirmations unmet while a counted payment sits in the mempool", () => {
    const inv = invoice({ confirmationsRequired: 1 });
    expect(advanceInvoice(inv, [pay(500n, { height: 50 }), pay(500n)], chain({ tipHeight: 1000 }))).toEqual([S.PendingMempool]);
  });
});

describe("payments that may still be replaced (BIP125)", () => {
  it("do not confirm a 0-confirmation invoice while unmined: 0 means 1 for them", () => {
    const inv = invoice({ confirmationsRequired: 0 });
    const rbf = pay(1000n, { replaceable: true });
    expect(advanceInvoice(inv, [rbf], chain())).toEqual([S.PendingMempool]);
    rbf.height = 100;
    expect(advanceInvoice(inv, [rbf], chain({ tipHeight: 100 }))).toEqual([S.Confirmed]);
  });

  it("leave a final payment's 0-confirmation invoice confirmed on sight", () => {
    expect(advanceInvoice(invoice({ confirmationsRequired: 0 }), [pay(1000n)], chain())).toEqual([S.PendingMempool, S.Confirmed]);
  });
});

describe("counting by finality (an EVM chain with <CHAIN>_FINALITY=finalized)", () => {
  it("confirms once every counted payment's block is at or below the finalized block, however few its confirmations", () => {
    const inv = invoice({ confirmationsRequired: 50 });
    const payments = [pay(500n, { height: 90 }), pay(500n, { height: 95 })];
    expect(advanceInvoice(inv, payments, chain({ tipHeight: 100, finalizedHeight: 94 }))).toEqual([S.PendingMempool]);
    expect(advanceInvoice(inv, payments, chain({ tipHeight: 100, finalizedHeight: 95 }))).toEqual([S.Confirmed]);
  });

  it("never confirms a pool payment, nor one whose block is above the finalized one, however many confirmations it has", () => {
    const inv = invoice({ confirmationsRequired: 0 });
    expect(advanceInvoice(inv, [pay(1000n, { replaceable: true })], chain({ tipHeight: 500, finalizedHeight: 400 }))).toEqual([S.PendingMempool]);
    expect(advanceInvoice(inv, [pay(1000n, { height: 401 })], chain({ tipHeight: 500, finalizedHeight: 400 }))).toEqual([]);
    expect(inv.status).toBe(S.PendingMempool);
  });
});

describe("acceptsPayment (decided once, when a payment is first seen)", () => {
  const pool = (lookedBefore: number) => ({ lookedBefore, blockTime: null });
  it.each([
    ["a pool tx missing from a look before expiresAt", invoice(), pool(EXPIRES - 1), true],
    ["a pool tx missing from a look at expiresAt", invoice(), pool(EXPIRES), false],
    ["a pool tx missing from a look after expiresAt while PENDING", invoice(), pool(EXPIRES + 1), false],
    ["a pool tx on the watcher's first look (no evidence it came late)", invoice(), pool(0), true],
    ["after expiresAt once PENDING_MEMPOOL (more money to a paid invoice)", invoice({ status: S.PendingMempool }), pool(EXPIRES + HOUR), true],
    ["inside a monitoring window", invoice({ monitorUntil: EXPIRES + HOUR }), pool(EXPIRES + 1), true],
    ["after EXPIRED", invoice({ status: S.Expired }), pool(T0), false],
    ["after CONFIRMED", invoice({ status: S.Confirmed }), pool(T0), false],
    ["a block after expiresAt when the watcher had not looked since before it", invoice(), { lookedBefore: EXPIRES - 1, blockTime: EXPIRES + HOUR }, true],
    ["a block timestamped at expiresAt after a look past it", invoice(), { lookedBefore: EXPIRES + 1, blockTime: EXPIRES }, true],
    ["a block after expiresAt after a look past it", invoice(), { lookedBefore: EXPIRES, blockTime: EXPIRES + 1 }, false],
  ])("%s", (_name, inv, sighting, expected) => {
    expect(acceptsPayment(inv as Invoice, sighting)).toBe(expected);
  });
});
