// UserAccount: one Durable Object per user, the single writer of that user's keys, invoices,
// payments and events. It allocates addresses, applies chain batches through the state machine,
// expires invoices on its alarm and serves the user's live stream.

import { DurableObject } from "cloudflare:workers";
import type { ChainAdapter, ChainBatch, ChainTx, OpenKeySet } from "../chains/adapter";
import { chainAdapter } from "../chains/registry";
import { monitoringMs } from "../config";
import { database, isUniqueViolation, transaction, type Db } from "../db/client";
import { appendEventStatement, eventsAfter } from "../db/events";
import {
  insertInvoiceStatement,
  outputKeyOwner,
  paymentsOfInvoices,
  updateInvoiceStatement,
  upsertPaymentStatement,
  watchedInvoicesOfUser,
} from "../db/invoices";
import { readChainState } from "../db/chain-state";
import { activateKeySetStatements, bumpNextIndexStatement, keySetByFingerprint, keySetsById, type KeySetRow } from "../db/key-sets";
import { importSealKey, seal, unseal } from "../db/sealed";
import { userExists } from "../db/users";
import { atomic, ZERO } from "../domain/amount";
import type { Coin } from "../domain/coins";
import { ApiError, Failures, type Outcome } from "../domain/errors";
import { snapshotOf, type InvoiceEvent, type InvoiceSnapshot } from "../domain/events";
import type { InvoiceId, UserId } from "../domain/ids";
import { acceptsPayment, advanceInvoice, InvoiceStatus, isTerminal, nextDeadline, type Invoice, type Payment } from "../domain/invoice";
import type { Env } from "../env";
import { SerialQueue } from "./serial";
import { Subscribers } from "./subscribers";

export interface NewInvoice {
  coin: Coin;
  /** Atomic units as a decimal string (bigint does not cross every RPC boundary). */
  required: string;
  timeoutSeconds: number;
  confirmations: number;
}

export interface NewKeys {
  coin: Coin;
  fingerprint: string;
  publicKeys: Record<string, string>;
  secret: string | null;
}

/** Invoices this account watches, with their payments, in memory: the DO is their only writer. */
interface Book {
  invoices: Map<InvoiceId, Invoice>;
  payments: Map<InvoiceId, Payment[]>;
  keySets: Map<number, KeySetRow>;
  tipHeight: Map<Coin, number>;
  scannedThrough: Map<Coin, number>;
}

/** A change ready to commit: rows to write, events to log and publish. */
interface Change {
  invoices: Set<Invoice>;
  payments: Set<Payment>;
  snapshots: InvoiceSnapshot[];
}

const emptyChange = (): Change => ({ invoices: new Set(), payments: new Set(), snapshots: [] });

const USER_ID_KEY = "userId";
/** How soon to look again when an invoice is due but its chain has not been scanned that far. */
const EXPIRY_RECHECK_MS = 5_000;

export class UserAccount extends DurableObject<Env> {
  private readonly db: Db;
  private readonly queue = new SerialQueue();
  private readonly subscribers: Subscribers;
  private userId: UserId | null = null;
  private known = false;
  private book: Book | null = null;
  private sealKey: Promise<CryptoKey> | null = null;
  private readonly openKeys = new Map<number, OpenKeySet>();
  private readonly adapters = new Map<Coin, ChainAdapter | null>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = database(env.DB);
    this.subscribers = new Subscribers({
      replay: async (afterId, limit) => eventsAfter(this.db, afterId, { userId: (await this.ownerId()) ?? undefined, limit }),
    });
  }

  // ---- RPC methods (called by the Worker and the ChainWatcher) ----

  async updateKeys(userId: UserId, keys: NewKeys): Promise<Outcome<null>> {
    return this.serially(userId, async () => {
      if (!(await this.userExists(userId))) return { ok: false, failure: Failures.unknownUser };
      const existing = await keySetByFingerprint(this.db, keys.coin, keys.fingerprint);
      if (existing && existing.userId !== userId) return { ok: false, failure: Failures.keysUsedByAnotherUser };
      const sealedSecret = keys.secret === null ? null : await seal(await this.sealKeyOf(), keys.secret, sealContext(keys.coin, keys.fingerprint));
      const now = Date.now();
      const statements = activateKeySetStatements(
        this.db,
        { userId, coin: keys.coin, fingerprint: keys.fingerprint, publicKeys: JSON.stringify(keys.publicKeys), sealedSecret, existingId: existing?.id },
        now,
      );
      try {
        await this.db.batch(statements);
      } catch (cause) {
        // Another user registered the same keys between our check and this write.
        if (isUniqueViolation(cause)) return { ok: false, failure: Failures.keysUsedByAnotherUser };
        throw new ApiError(Failures.sqlTransaction, { cause });
      }
      if (existing) this.openKeys.delete(existing.id);
      if (this.book) this.book.keySets = await keySetsById(this.db, userId);
      return { ok: true, value: null };
    });
  }

  /** The active key sets' public and secret parts, per coin (GetCryptoKeys). */
  async readKeys(userId: UserId): Promise<Outcome<Partial<Record<Coin, OpenKeySet>>>> {
    return this.serially(userId, async () => {
      if (!(await this.userExists(userId))) return { ok: false, failure: Failures.unknownUser };
      const out: Partial<Record<Coin, OpenKeySet>> = {};
      for (const row of (await keySetsById(this.db, userId)).values()) {
        if (row.active) out[row.coin as Coin] = await this.openKeySet(row);
      }
      return { ok: true, value: out };
    });
  }

  /** Live subscriber count (health and tests). */
  subscriberCount(): number {
    return this.subscribers.size;
  }

  async createInvoice(userId: UserId, req: NewInvoice): Promise<Outcome<{ id: string; address: string }>> {
    return this.serially(userId, async () => {
      if (!(await this.userExists(userId))) return { ok: false, failure: Failures.unknownUser };
      const adapter = this.adapterFor(req.coin);
      if (!adapter) return { ok: false, failure: Failures.coinNotEnabled(req.coin) };
      const book = await this.loadBook(userId);
      // This object writes every key set of its user, so the book's copy is current.
      const keySet = [...book.keySets.values()].find((k) => k.active && k.coin === req.coin);
      if (!keySet) return { ok: false, failure: Failures.noKeys(req.coin) };
      const index = keySet.nextIndex;
      const derived = adapter.deriveAddress(await this.openKeySet(keySet), index);
      const now = Date.now();
      const invoice: Invoice = {
        id: crypto.randomUUID() as InvoiceId,
        userId,
        coin: req.coin,
        address: derived.address,
        keySetId: keySet.id,
        addressIndex: index,
        matchKey: derived.matchKey,
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
      };
      const snapshot = snapshotOf(invoice);
      const [, , logged] = await transaction("create invoice", () =>
        this.db.batch([
          insertInvoiceStatement(this.db, invoice, now),
          bumpNextIndexStatement(this.db, keySet.id, index + 1, now),
          appendEventStatement(this.db, snapshot, now),
        ]),
      ).catch((error: unknown) => {
        // The batch may have committed before its answer was lost: re-read the counter next time.
        this.book = null;
        throw error;
      });
      book.invoices.set(invoice.id, invoice);
      book.payments.set(invoice.id, []);
      book.keySets.set(keySet.id, { ...keySet, nextIndex: index + 1 });
      await this.armAlarm();
      await this.publish([{ id: logged[0]!.id, invoice: snapshot }]);
      return { ok: true, value: { id: invoice.id, address: invoice.address } };
    });
  }

  /** Applies one watcher tick: new payments, confirmations, orphaned blocks, vanished txs. Throws on failure so the watcher retries. */
  async applyChainBatch(userId: UserId, batch: ChainBatch): Promise<void> {
    await this.serially(userId, async () => {
      const book = await this.loadBook(userId);
      book.tipHeight.set(batch.coin, batch.tipHeight);
      book.scannedThrough.set(batch.coin, batch.scannedThrough);
      const change = emptyChange();
      const now = Date.now();
      const payments = [...book.payments.values()].flat().filter((p) => book.invoices.get(p.invoiceId)?.coin === batch.coin);

      if (batch.orphanedAbove !== null) {
        for (const p of payments) {
          if (p.height !== null && p.height > batch.orphanedAbove) {
            p.height = null;
            change.payments.add(p);
          }
        }
      }
      const watched = this.watchedByKeySet(book, batch.coin);
      for (const block of batch.blocks) {
        const seenAt = Math.min(now, block.timestamp * 1000);
        for (const tx of block.txs) await this.recordPayments(book, watched, batch.coin, tx, block.height, seenAt, change);
      }
      const poolSeenAt = batch.observedAfter > 0 ? Math.min(now, batch.observedAfter) : now;
      for (const tx of batch.mempool) await this.recordPayments(book, watched, batch.coin, tx, null, poolSeenAt, change);
      if (batch.gone.length > 0) {
        const gone = new Set(batch.gone);
        for (const p of payments) {
          if (p.height === null && !p.gone && gone.has(p.txHash)) {
            p.gone = true;
            change.payments.add(p);
          }
        }
      }
      this.advanceAll(book, batch.coin, now, change);
      await this.commit(change, now);
      await this.armAlarm();
    });
  }

  /** The user's live stream (NDJSON lines of StreamLine), replaying after `afterEventId` first. */
  async subscribe(userId: UserId, afterEventId: number | null): Promise<ReadableStream<Uint8Array>> {
    await this.rememberUser(userId);
    return this.subscribers.open(afterEventId, Failures.tooManySubscribers);
  }

  /** Expiry: PENDING invoices past their deadline, once their chain was scanned past it. */
  override async alarm(): Promise<void> {
    const userId = await this.ownerId();
    if (!userId) return;
    await this.serially(userId, async () => {
      const book = await this.loadBook(userId);
      const now = Date.now();
      const change = emptyChange();
      const coins = new Set([...book.invoices.values()].filter((i) => !isTerminal(i.status)).map((i) => i.coin));
      for (const coin of coins) {
        const state = await readChainState(this.db, coin);
        book.scannedThrough.set(coin, Math.max(book.scannedThrough.get(coin) ?? 0, state?.scannedThrough ?? 0));
        if (state?.tipHeight != null && !book.tipHeight.has(coin)) book.tipHeight.set(coin, state.tipHeight);
        this.advanceAll(book, coin, now, change);
      }
      await this.commit(change, now);
      await this.armAlarm();
    });
  }

  // ---- internals ----

  private async recordPayments(
    book: Book,
    watched: Map<number, Map<string, InvoiceId>>,
    coin: Coin,
    tx: ChainTx,
    height: number | null,
    seenAt: number,
    change: Change,
  ): Promise<void> {
    const adapter = this.adapterFor(coin);
    if (!adapter) return;
    for (const [keySetId, matchKeys] of watched) {
      const keySet = book.keySets.get(keySetId);
      if (!keySet) continue;
      const found = adapter.findPayments(tx, await this.openKeySet(keySet), matchKeys);
      for (const f of found) {
        const invoice = book.invoices.get(f.owner);
        if (!invoice) continue;
        const list = book.payments.get(invoice.id) ?? [];
        const known = list.find((p) => p.txHash === tx.hash && p.outputIndex === f.outputIndex);
        if (known) {
          if (height !== null) {
            if (known.height === height && !known.gone) continue;
            known.height = height; // mined, or mined again after a reorg
          } else if (known.height !== null || !known.gone) {
            continue; // a pool sighting says nothing new about a mined or live payment
          }
          known.gone = false;
          change.payments.add(known);
          change.invoices.add(invoice);
          continue;
        }
        // Burning bug: the same one-time output key in another tx pays nothing new.
        if (this.creditedOutputKey(book, f.outputKey) || (await outputKeyOwner(this.db, coin, f.outputKey))) {
          console.warn(`ignoring duplicate output key ${f.outputKey} in tx ${tx.hash}`);
          continue;
        }
        const payment: Payment = {
          invoiceId: invoice.id,
          txHash: tx.hash,
          outputIndex: f.outputIndex,
          outputKey: f.outputKey,
          amount: f.amount,
          seenAt,
          height,
          gone: false,
          inTime: acceptsPayment(invoice, seenAt),
        };
        if (!payment.inTime) console.info(`late payment ${tx.hash}:${f.outputIndex} to invoice ${invoice.id}`);
        list.push(payment);
        book.payments.set(invoice.id, list);
        change.payments.add(payment);
        change.invoices.add(invoice);
      }
    }
  }

  private creditedOutputKey(book: Book, outputKey: string): boolean {
    for (const list of book.payments.values()) if (list.some((p) => p.outputKey === outputKey)) return true;
    return false;
  }

  /** matchKey -> invoice id, per key set, for the coin's watched invoices. */
  private watchedByKeySet(book: Book, coin: Coin): Map<number, Map<string, InvoiceId>> {
    const out = new Map<number, Map<string, InvoiceId>>();
    for (const inv of book.invoices.values()) {
      if (inv.coin !== coin) continue;
      let m = out.get(inv.keySetId);
      if (!m) out.set(inv.keySetId, (m = new Map()));
      m.set(inv.matchKey, inv.id);
    }
    return out;
  }

  private advanceAll(book: Book, coin: Coin, now: number, change: Change): void {
    const chain = {
      now,
      tipHeight: book.tipHeight.get(coin) ?? null,
      scannedThrough: book.scannedThrough.get(coin) ?? 0,
      monitoringMs: monitoringMs(this.env),
    };
    for (const inv of book.invoices.values()) {
      if (inv.coin !== coin) continue;
      const before = inv.actual;
      const steps = advanceInvoice(inv, book.payments.get(inv.id) ?? [], chain);
      for (const status of steps) change.snapshots.push(snapshotOf(inv, status));
      if (steps.length > 0 || before !== inv.actual) change.invoices.add(inv);
    }
  }

  /** One atomic D1 batch for the whole change, then publish its events. */
  private async commit(change: Change, now: number): Promise<void> {
    if (change.invoices.size === 0 && change.payments.size === 0) return;
    const invoiceOf = (id: InvoiceId) => this.book!.invoices.get(id)!;
    const statements = [
      ...[...change.invoices].map((inv) => updateInvoiceStatement(this.db, inv, now)),
      ...[...change.payments].map((p) => upsertPaymentStatement(this.db, invoiceOf(p.invoiceId).coin, p, now)),
    ];
    const logStatements = change.snapshots.map((s) => appendEventStatement(this.db, s, now));
    let results: readonly unknown[];
    try {
      results = await this.db.batch([...statements, ...logStatements] as unknown as Parameters<Db["batch"]>[0]);
    } catch (cause) {
      // Memory ran ahead of D1: reload from D1 on the next call, and let the caller retry.
      this.book = null;
      throw new ApiError(Failures.sqlTransaction, { cause });
    }
    const logged = results.slice(statements.length) as { id: number }[][];
    await this.publish(change.snapshots.map((invoice, i) => ({ id: logged[i]![0]!.id, invoice })));
    this.pruneClosed(now);
  }

  private async publish(events: InvoiceEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.subscribers.publish(events);
    // Not awaited: the hub orders by event id and fills gaps from the log, so publishes that
    // overtake each other or fail lose nothing, and this user's work need not wait for it.
    const hub = this.env.STREAM_HUB.get(this.env.STREAM_HUB.idFromName("global"));
    this.ctx.waitUntil(hub.publish(events).catch((cause: unknown) => console.error("stream hub publish failed", cause)));
  }

  /** Closed invoices stay in memory for the monitoring window (late payments), then leave. */
  private pruneClosed(now: number): void {
    const book = this.book;
    if (!book) return;
    const horizon = now - monitoringMs(this.env);
    for (const [id, inv] of book.invoices) {
      if (inv.closedAt !== null && inv.closedAt <= horizon) {
        book.invoices.delete(id);
        book.payments.delete(id);
      }
    }
  }

  private async armAlarm(): Promise<void> {
    const book = this.book;
    if (!book) return;
    let next: number | null = null;
    const now = Date.now();
    for (const inv of book.invoices.values()) {
      let due = nextDeadline(inv);
      if (due === null) continue;
      // Due but its chain not yet scanned that far: look again soon.
      if (due <= now) due = now + EXPIRY_RECHECK_MS;
      next = next === null ? due : Math.min(next, due);
    }
    if (next === null) await this.ctx.storage.deleteAlarm();
    else {
      const current = await this.ctx.storage.getAlarm();
      if (current === null || current > next || current < now) await this.ctx.storage.setAlarm(next);
    }
  }

  /** Users are never deleted: once seen, the answer is cached for the object's lifetime. */
  private async userExists(userId: UserId): Promise<boolean> {
    if (!this.known) this.known = await userExists(this.db, userId);
    return this.known;
  }

  private adapterFor(coin: Coin): ChainAdapter | null {
    if (!this.adapters.has(coin)) this.adapters.set(coin, chainAdapter(this.env, coin));
    return this.adapters.get(coin)!;
  }

  private async loadBook(userId: UserId): Promise<Book> {
    if (this.book) return this.book;
    const now = Date.now();
    const invoices = await watchedInvoicesOfUser(this.db, userId, now - monitoringMs(this.env));
    const payments = await paymentsOfInvoices(this.db, invoices.map((i) => i.id));
    const book: Book = {
      invoices: new Map(invoices.map((i) => [i.id, i])),
      payments: new Map(invoices.map((i) => [i.id, [] as Payment[]])),
      keySets: await keySetsById(this.db, userId),
      tipHeight: new Map(),
      scannedThrough: new Map(),
    };
    for (const p of payments) book.payments.get(p.invoiceId)?.push(p);
    this.book = book;
    return book;
  }

  private async openKeySet(row: KeySetRow): Promise<OpenKeySet> {
    let open = this.openKeys.get(row.id);
    if (!open) {
      const secret = row.sealedSecret === null ? null : await unseal(await this.sealKeyOf(), row.sealedSecret, sealContext(row.coin as Coin, row.fingerprint));
      open = { id: row.id, publicKeys: JSON.parse(row.publicKeys) as Record<string, string>, secret };
      this.openKeys.set(row.id, open);
    }
    return open;
  }

  private sealKeyOf(): Promise<CryptoKey> {
    this.sealKey ??= importSealKey(this.env.KEYS_ENCRYPTION_KEY);
    this.sealKey.catch(() => (this.sealKey = null));
    return this.sealKey;
  }

  private async ownerId(): Promise<UserId | null> {
    this.userId ??= ((await this.ctx.storage.get<string>(USER_ID_KEY)) ?? null) as UserId | null;
    return this.userId;
  }

  private async rememberUser(userId: UserId): Promise<void> {
    if (this.userId === userId) return;
    if ((await this.ownerId()) !== userId) await this.ctx.storage.put(USER_ID_KEY, userId);
    this.userId = userId;
  }

  private async serially<T>(userId: UserId, work: () => Promise<T>): Promise<T> {
    await this.rememberUser(userId);
    return this.queue.run(work);
  }
}

function sealContext(coin: Coin, fingerprint: string): string {
  return `keyset:${coin}:${fingerprint}`;
}

