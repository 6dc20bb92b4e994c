// Reads what one checkout view is decided from: the invoice, its payments, its chain's tip and the
// merchant's display name. Four D1 reads; null for an id that is malformed or names no invoice.

import { coinFacts, paymentUri } from "../chains/registry";
import { readChainState } from "../db/chain-state";
import type { Db } from "../db/client";
import { invoicesByIds, paymentsOfInvoices } from "../db/invoices";
import { displayNameOf } from "../db/users";
import { tickerOf } from "../domain/coins";
import { parseInvoiceId } from "../domain/ids";
import type { UserId } from "../domain/ids";
import type { Invoice } from "../domain/invoice";
import type { Env } from "../env";
import { checkoutView, type CheckoutView } from "./view";

export interface Checkout {
  readonly userId: UserId;
  readonly view: CheckoutView;
}

/** D1 reads one `readCheckout` makes (the live stream budgets its subrequests by it). */
export const READS_PER_CHECKOUT = 4;

/** The invoice behind a checkout id; a malformed id and an unknown one are the same: not found. */
export async function checkoutInvoice(db: Db, id: string): Promise<Invoice | null> {
  const invoiceId = parseInvoiceId(id);
  if (invoiceId === null) return null;
  return (await invoicesByIds(db, [invoiceId]))[0] ?? null;
}

export async function readCheckout(env: Env, db: Db, id: string): Promise<Checkout | null> {
  const invoice = await checkoutInvoice(db, id);
  const facts = invoice && coinFacts(invoice.coin);
  if (!invoice || !facts) return null;
  const [payments, chain, merchant] = await Promise.all([
    paymentsOfInvoices(db, [invoice.id]),
    readChainState(db, invoice.coin),
    displayNameOf(db, invoice.userId),
  ]);
  const view = checkoutView({
    invoice,
    payments,
    tipHeight: chain?.tipHeight ?? null,
    merchant,
    ticker: tickerOf(invoice.coin),
    decimals: facts.decimals,
    paymentUri: (amount) => paymentUri(env, invoice.coin, invoice.address, amount) ?? "",
  });
  return { userId: invoice.userId, view };
}
