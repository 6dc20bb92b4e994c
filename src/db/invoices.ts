// Invoices and their payments: row <-> domain mapping, the reads the service needs, and the
// write statements a state change is made of (the caller batches them atomically).

import { and, eq, gt, inArray, isNull, ne, or } from "drizzle-orm";
import type { WatchedAddress } from "../chains/follower";
import { atomic } from "../domain/amount";
import type { Coin } from "../domain/coins";
import type { InvoiceId, UserId } from "../domain/ids";
import { InvoiceStatus, type Invoice, type Payment } from "../domain/invoice";
import { metadataFromText, metadataToText } from "../domain/invoice-details";
import { inChunks, query, type Db } from "./client";
import { invoices, payments } from "./schema";

type InvoiceRow = typeof invoices.$inferSelect;
type PaymentRow = typeof payments.$inferSelect;

export function invoiceFromRow(r: InvoiceRow): Invoice {
  return {
    id: r.id as InvoiceId,
    userId: r.userId as UserId,
    coin: r.coin as Coin,
    address: r.address,
    keySetId: r.keySetId,
    addressIndex: r.addressIndex,
    matchKey: r.matchKey,
    required: atomic(BigInt(r.required)),
    actual: atomic(BigInt(r.actual)),
    confirmationsRequired: r.confirmationsRequired,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    status: r.status as InvoiceStatus,
    txId: r.txId,
    confirmedAt: r.confirmedAt,
    monitorUntil: r.monitorUntil,
    closedAt: r.closedAt,
    details: { description: r.description, orderId: r.orderId, redirectUrl: r.redirectUrl, metadata: metadataFromText(r.metadata) },
  };
}

export function paymentFromRow(r: PaymentRow): Payment {
  return {
    invoiceId: r.invoiceId as InvoiceId,
    txHash: r.txHash,
    outputIndex: r.outputIndex,
    outputKey: r.outputKey,
    amount: atomic(BigInt(r.amount)),
    seenAt: r.seenAt,
    height: r.height,
    gone: r.gone,
    inTime: r.inTime,
    replaceable: r.replaceable,
  };
}

export async function invoicesByIds(db: Db, ids: string[]): Promise<Invoice[]> {
  if (ids.length === 0) return [];
  const rows = await query("get invoices", () => db.select().from(invoices).where(inArray(invoices.id, ids)).all());
  return rows.map(invoiceFromRow);
}

/**
 * Invoices a user's account must keep an eye on: open ones, and closed ones for a window after
 * (so late payments are still recorded against them).
 */
export async function watchedInvoicesOfUser(db: Db, userId: UserId, closedAfter: number): Promise<Invoice[]> {
  const rows = await query("list watched invoices", () =>
    db
      .select()
      .from(invoices)
      .where(and(eq(invoices.userId, userId), or(isNull(invoices.closedAt), gt(invoices.closedAt, closedAfter))))
      .all(),
  );
  return rows.map(invoiceFromRow);
}

/** Invoices of a coin still watched: open, or closed after `closedAfter` (late payments are still recorded). */
const watchedOfCoin = (coin: Coin, closedAfter: number) =>
  and(eq(invoices.coin, coin), or(isNull(invoices.closedAt), gt(invoices.closedAt, closedAfter)));

/**
 * The match keys (decoded output scripts, never address strings) of a coin's watched invoices and
 * their owners: what a watcher matching by address compares a step's outputs with. One query per
 * tick; it grows with the watched invoices, not with the chain.
 */
export async function watchedMatchKeys(db: Db, coin: Coin, closedAfter: number): Promise<Map<string, UserId>> {
  const rows = await query("list watched match keys", () =>
    db.select({ userId: invoices.userId, matchKey: invoices.matchKey }).from(invoices).where(watchedOfCoin(coin, closedAfter)).all(),
  );
  return new Map(rows.map((r) => [r.matchKey, r.userId as UserId]));
}

/** A user to scan by view key: the key set and the match keys (subaddress spend keys) of its watched invoices. */
export interface WatchedKeys {
  userId: UserId;
  keySetId: number;
  matchKeys: string[];
}

/** Every watched invoice of a coin, grouped by user and key set: one query per watcher tick. */
export async function watchedKeys(db: Db, coin: Coin, closedAfter: number): Promise<WatchedKeys[]> {
  const rows = await query("list watched keys", () =>
    db
      .select({ userId: invoices.userId, keySetId: invoices.keySetId, matchKey: invoices.matchKey })
      .from(invoices)
      .where(watchedOfCoin(coin, closedAfter))
      .all(),
  );
  const out = new Map<number, WatchedKeys>();
  for (const r of rows) {
    const w = out.get(r.keySetId) ?? out.set(r.keySetId, { userId: r.userId as UserId, keySetId: r.keySetId, matchKeys: [] }).get(r.keySetId)!;
    w.matchKeys.push(r.matchKey);
  }
  return [...out.values()];
}

/**
 * The addresses of a coin's watched invoices, with their match keys and creation times: what a follower
 * that polls an explorer per address lists. One query per tick.
 */
export async function watchedAddresses(db: Db, coin: Coin, closedAfter: number): Promise<(WatchedAddress & { userId: UserId })[]> {
  const rows = await query("list watched addresses", () =>
    db
      .select({ address: invoices.address, matchKey: invoices.matchKey, since: invoices.createdAt, userId: invoices.userId })
      .from(invoices)
      .where(watchedOfCoin(coin, closedAfter))
      .all(),
  );
  return rows.map((r) => ({ ...r, userId: r.userId as UserId }));
}

/**
 * Users with open invoices of a coin whose payments a new block, a reorg or a vanished tx can still
 * change: something paid (in the pool or unconfirmed), not yet closed.
 */
export async function usersWithOpenPayments(db: Db, coin: Coin): Promise<UserId[]> {
  const rows = await query("list users with open payments", () =>
    db
      .selectDistinct({ userId: invoices.userId })
      .from(invoices)
      .where(and(eq(invoices.coin, coin), isNull(invoices.closedAt), or(eq(invoices.status, InvoiceStatus.PendingMempool), ne(invoices.actual, "0"))))
      .all(),
  );
  return rows.map((r) => r.userId as UserId);
}

/** Whether any invoice of a coin is watched: the check an idle watcher makes before it reads the chain. */
export async function anyWatchedInvoice(db: Db, coin: Coin, closedAfter: number): Promise<boolean> {
  const row = await query("any watched invoice", () =>
    db.select({ id: invoices.id }).from(invoices).where(watchedOfCoin(coin, closedAfter)).limit(1).get(),
  );
  return row !== undefined;
}

export async function paymentsOfInvoices(db: Db, invoiceIds: string[]): Promise<Payment[]> {
  const rows = await inChunks(invoiceIds, (chunk) => query("list payments", () => db.select().from(payments).where(inArray(payments.invoiceId, chunk)).all()));
  return rows.map(paymentFromRow);
}

/** Which of these output keys were already credited anywhere (burning-bug guard across transactions and users). */
export async function creditedOutputKeys(db: Db, coin: Coin, outputKeys: string[]): Promise<Set<string>> {
  const rows = await inChunks(outputKeys, (chunk) =>
    query("find output keys", () =>
      db
        .select({ outputKey: payments.outputKey })
        .from(payments)
        .where(and(eq(payments.coin, coin), inArray(payments.outputKey, chunk)))
        .all(),
    ),
  );
  return new Set(rows.map((r) => r.outputKey));
}

export function insertInvoiceStatement(db: Db, inv: Invoice, now: number) {
  return db.insert(invoices).values({
    id: inv.id,
    userId: inv.userId,
    coin: inv.coin,
    keySetId: inv.keySetId,
    addressIndex: inv.addressIndex,
    address: inv.address,
    matchKey: inv.matchKey,
    required: inv.required.toString(),
    actual: inv.actual.toString(),
    confirmationsRequired: inv.confirmationsRequired,
    status: inv.status,
    createdAt: inv.createdAt,
    expiresAt: inv.expiresAt,
    confirmedAt: inv.confirmedAt,
    txId: inv.txId,
    monitorUntil: inv.monitorUntil,
    closedAt: inv.closedAt,
    description: inv.details.description,
    orderId: inv.details.orderId,
    redirectUrl: inv.details.redirectUrl,
    metadata: metadataToText(inv.details.metadata),
    updatedAt: now,
  });
}

export function updateInvoiceStatement(db: Db, inv: Invoice, now: number) {
  return db
    .update(invoices)
    .set({
      actual: inv.actual.toString(),
      status: inv.status,
      confirmedAt: inv.confirmedAt,
      txId: inv.txId,
      monitorUntil: inv.monitorUntil,
      closedAt: inv.closedAt,
      updatedAt: now,
    })
    .where(eq(invoices.id, inv.id));
}

export function upsertPaymentStatement(db: Db, coin: Coin, p: Payment, now: number) {
  return db
    .insert(payments)
    .values({
      invoiceId: p.invoiceId,
      coin,
      txHash: p.txHash,
      outputIndex: p.outputIndex,
      outputKey: p.outputKey,
      amount: p.amount.toString(),
      seenAt: p.seenAt,
      height: p.height,
      gone: p.gone,
      inTime: p.inTime,
      replaceable: p.replaceable,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: [payments.coin, payments.txHash, payments.outputIndex],
      set: { height: p.height, gone: p.gone, updatedAt: now },
    });
}
