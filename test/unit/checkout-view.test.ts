// The checkout page's view of an invoice (what a payer is told), its QR code (decoded back with an
// independent reader, jsQR) and the countdown: pure, from the invoice, its payments and the tip.
import jsQR from "jsqr";
import { describe, expect, it } from "vitest";
import { countdown } from "../../src/checkout/page";
import { qrSvg } from "../../src/checkout/qr";
import { checkoutView, type CheckoutFacts } from "../../src/checkout/view";
import { atomic } from "../../src/domain/amount";
import type { InvoiceId } from "../../src/domain/ids";
import { InvoiceStatus, type Invoice, type Payment } from "../../src/domain/invoice";
import { NO_DETAILS } from "../../src/domain/invoice-details";
import { testInvoice } from "../support/invoices";

const T0 = Date.UTC(2026, 11, 1, 12);
const invoice = (over: Partial<Invoice> = {}) =>
  testInvoice({ createdAt: T0, expiresAt: T0 + 900_000, required: atomic(500_000_000_000n), confirmationsRequired: 2, ...over });
const payment = (over: Partial<Payment>): Payment => ({
  invoiceId: "00000000-0000-4000-8000-000000000001" as InvoiceId,
  txHash: "aa".repeat(32),
  outputIndex: 0,
  outputKey: `k${Math.random()}`,
  amount: atomic(100_000_000_000n),
  seenAt: T0 + 1000,
  height: null,
  gone: false,
  inTime: true,
  replaceable: false,
  ...over,
});
const facts = (inv: Invoice, payments: Payment[] = [], tipHeight: number | null = 100): CheckoutFacts => ({
  invoice: inv,
  payments,
  tipHeight,
  merchant: "Coffee Corner",
  ticker: "XMR",
  decimals: 12,
  paymentUri: (amount) => `monero:${inv.address}?tx_amount=${amount}`,
});

describe("checkoutView", () => {
  it("asks a new invoice's payer for the whole amount", () => {
    const v = checkoutView(facts(invoice()));
    expect(v).toMatchObject({ state: "waiting", due: "0.5", paid: "0", required: "0.5", paymentUri: "monero:addr?tx_amount=500000000000", confirmations: null });
  });

  it("asks for the remainder after a partial payment, and puts the remainder in the payment URI", () => {
    const v = checkoutView(facts(invoice({ actual: atomic(300_000_000_000n) }), [payment({ amount: atomic(300_000_000_000n) })]));
    expect(v).toMatchObject({ state: "partial", paid: "0.3", due: "0.2", paymentUri: "monero:addr?tx_amount=200000000000" });
  });

  it("counts the fewest confirmations among the counted payments while it confirms", () => {
    const inv = invoice({ status: InvoiceStatus.PendingMempool, actual: atomic(500_000_000_000n) });
    const mined = payment({ height: 100, amount: atomic(400_000_000_000n) });
    expect(checkoutView(facts(inv, [mined, payment({})], 100)).confirmations).toBe(0);
    expect(checkoutView(facts(inv, [mined, payment({ height: 101 })], 101)).confirmations).toBe(1);
    expect(checkoutView(facts(inv, [mined, payment({ height: 100 })], 101))).toMatchObject({ state: "seen", confirmations: 2, due: "0" });
  });

  it("ignores vanished payments and late ones when counting confirmations", () => {
    const inv = invoice({ status: InvoiceStatus.PendingMempool, actual: atomic(500_000_000_000n) });
    const v = checkoutView(facts(inv, [payment({ height: 99 }), payment({ gone: true }), payment({ inTime: false })], 100));
    expect(v.confirmations).toBe(2);
  });

  it("offers the redirect only once paid", () => {
    const details = { ...NO_DETAILS, redirectUrl: "https://shop.example/thanks" };
    expect(checkoutView(facts(invoice({ details }))).redirectUrl).toBeNull();
    const paid = invoice({ details, status: InvoiceStatus.Confirmed, actual: atomic(500_000_000_000n), confirmedAt: T0 + 5000 });
    expect(checkoutView(facts(paid))).toMatchObject({ state: "paid", redirectUrl: "https://shop.example/thanks", due: "0" });
  });

  it("tells an expired invoice's payer what was paid in time and what arrived late", () => {
    const inv = invoice({ status: InvoiceStatus.Expired, actual: atomic(100_000_000_000n) });
    const v = checkoutView(facts(inv, [payment({}), payment({ inTime: false, amount: atomic(400_000_000_000n) })]));
    expect(v).toMatchObject({ state: "expired", paid: "0.1", paidLate: "0.4", redirectUrl: null });
  });
});

/** Rasterizes the SVG's path of horizontal runs, 4 px per module, as RGBA for jsQR. */
function decodeSvg(svg: string): string | null {
  const size = Number(/viewBox="0 0 (\d+) /.exec(svg)![1]);
  const dark = new Set<string>();
  for (const [, x, y, w] of svg.matchAll(/M(\d+) (\d+)h(\d+)/g)) for (let i = 0; i < Number(w); i++) dark.add(`${Number(x) + i},${y}`);
  const px = 4;
  const side = size * px;
  const rgba = new Uint8ClampedArray(side * side * 4);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const v = dark.has(`${Math.floor(x / px)},${Math.floor(y / px)}`) ? 0 : 255;
      rgba.set([v, v, v, 255], (y * side + x) * 4);
    }
  return jsQR(rgba, side, side)?.data ?? null;
}

describe("qrSvg", () => {
  const uris = [
    "monero:48ccdHrCsEG3pEybpsaDXpYJZ3Nc7vjWW4HoK1KHxiyQ35oqzwoLqVgVyyKaVBxFMZyC2ZcEb4pDVCApEGsVRuoB8B1zb6o?tx_amount=0.000000000001",
    "litecoin:rltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kz8wh9p?amount=12.5",
    "ethereum:0xdAC17F958D2ee523a2206206994597C13D831ec7@1/transfer?address=0x8e23Ee67d1332aD560396262C48ffbB01f93d052&uint256=1000000",
  ];
  it.each(uris)("draws a QR code that decodes back to %s", (uri) => {
    expect(decodeSvg(qrSvg(uri, "pay"))).toBe(uri);
  });

  it("stays a few KB for a Monero address with an amount", () => {
    expect(qrSvg(uris[0]!, "pay").length).toBeLessThan(12_000);
  });

  it("escapes its label", () => {
    expect(qrSvg("x", 'a"<b')).toContain('aria-label="a&quot;&lt;b"');
  });
});

describe("countdown", () => {
  it.each([
    [0, "0:00"],
    [-5000, "0:00"],
    [59_999, "0:59"],
    [61_000, "1:01"],
    [3_723_000, "1:02:03"],
    [90_000_000, "1d 1h"],
  ])("shows %i ms as %s", (ms, text) => expect(countdown(ms)).toBe(text));
});
