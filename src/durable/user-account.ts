// UserAccount: one Durable Object per user, the single writer of that user's keys, invoices,
// payments and events. A thin shell: it loads the ledger, reads what a decision needs, decides with
// the pure functions of `account/apply`, commits to D1, and only then updates memory and publishes.

import { DurableObject } from "cloudflare:workers";
import type { ChainAdapter, ChainBatch, OpenKeySet } from "../chains/adapter";
import { chainAdapter, keysCoinOf } from "../chains/registry";
import { monitoringMs } from "../config";
import { readChainState } from "../db/chain-state";
import { scanHeldBefore } from "../db/scan-holds";
import { database, isUniqueViolation, transaction, type Db } from "../db/client";
import { eventsAfter } from "../db/events";
import { creditedOutputKeys, insertInvoiceStatement } from "../db/invoices";
import { activateKeySetStatements, bumpNextIndexStatement, keySetByFingerprint, keySetsById } from "../db/key-sets";
import { userExists } from "../db/users";
import { atomic, ZERO } from "../domain/amount";
import type { Coin } from "../domain/coins";
import { ApiError, Failures, type Outcome } from "../domain/errors";
import { snapshotOf } from "../domain/events";
import type { InvoiceId, UserId } from "../domain/ids";
import { InvoiceStatus, isTerminal, type Invoice } from "../domain/invoice";
import type { InvoiceDetails } from "../domain/invoice-details";
import type { Env } from "../env";
import { applyBatch, applyClock, findOutputs, unknownOutputKeys, watchedByKeySet, type Change, type Clock } from "./account/apply";
import { commitChange, eventStatements, loggedEvents } from "./account/commit";
import { nextAlarmAt } from "./account/expiry";
import { Keyring } from "./account/keyring";
import { activeKeySet, applyToLedger, loadLedger, pruneClosed, type CoinProgress, type Ledger } from "./account/ledger";
import { Publisher } from "./account/publisher";
import { SerialQueue } from "./serial";
import { enqueueDeliveries } from "../webhooks/queue";

export interface NewInvoice {
  coin: Coin;
  /** Atomic units as a decimal string (bigint does not cross every RPC boundary). */
  required: string;
  timeoutSeconds: number;
  confirmations: number;
  details: InvoiceDetails;
}

export interface NewKeys {
  coin: Coin;
  fingerprint: string;
  publicKeys: Record<string, string>;
  secret: string | null;
  /** The address index a new key set starts at (the module's choice). */
  firstIndex: number;
}

const USER_ID_KEY = "userId";

export class UserAccount extends DurableObject<Env> {
  /** Every D1 read and write of the account goes through this handle. */
  private db: Db;
  private readonly queue = new SerialQueue();
  private readonly keyring: Keyring;
  private readonly publisher: Publisher;
  private userId: UserId | null = null;
  private known = false;
  private ledger: Ledger | null = null;
  private readonly adapters = new Map<Coin, ChainAdapter | null>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = database(env.DB);
    this.keyring = new Keyring(env.KEYS_ENCRYPTION_KEY);
    this.publisher = new Publisher(ctx, env, async (afterId, limit) =>
      eventsAfter(this.db, afterId, { userId: (await this.ownerId()) ?? undefined, limit }),
    );
  }

  // ---- RPC methods (called by the Worker and the ChainWatcher) ----

  /** Stores each coin's new keys as that coin's active key set, all in one D1 batch. */
  async updateKeys(userId: UserId, updates: NewKeys[]): Promise<Outcome<null>> {
    return this.serially(userId, async () => {
      if (!(await this.userExists(userId))) return { ok: false, failure: Failures.unknownUser };
      const now = Date.now();
      const statements = [];
      const replaced: number[] = [];
      for (const keys of updates) {
        const existing = await keySetByFingerprint(this.db, keys.coin, keys.fingerprint);
        if (existing && existing.userId !== userId) return { ok: false, failure: Failures.keysUsedByAnotherUser };
        if (existing) replaced.push(existing.id);
        const sealedSecret = keys.secret === null ? null : await this.keyring.seal(keys.coin, keys.fingerprint, keys.secret);
        statements.push(
          ...activateKeySetStatements(
            this.db,
            {
              userId,
              coin: keys.coin,
              fingerprint: keys.fingerprint,
              publicKeys: JSON.stringify(keys.publicKeys),
              sealedSecret,
              firstIndex: keys.firstIndex,
              existingId: existing?.id,
            },
            now,
          ),
        );
      }
      try {
        await this.db.batch(statements as unknown as Parameters<Db["batch"]>[0]);
      } catch (cause) {
        // Another user registered the same keys between our check and this write.
        if (isUniqueViolation(cause)) return { ok: false, failure: Failures.keysUsedByAnotherUser };
        throw new ApiError(Failures.sqlTransaction, { cause });
      }
      for (const id of replaced) this.keyring.forget(id);
      if (this.ledger) this.ledger.keySets = await keySetsById(this.db, userId);
      return { ok: true, value: null };
    });
  }

  /** The active key sets' public and secret parts, per coin (GetCryptoKeys). */
  async readKeys(userId: UserId): Promise<Outcome<Partial<Record<Coin, OpenKeySet>>>> {
    return this.serially(userId, async () => {
      if (!(await this.userExists(userId))) return { ok: false, failure: Failures.unknownUser };
      const out: Partial<Record<Coin, OpenKeySet>> = {};
      for (const row of (await keySetsById(this.db, userId)).values()) {
        if (row.active) out[row.coin as Coin] = await this.keyring.opened(row);
      }
      return { ok: true, value: out };
    });
  }

  /** Live subscriber count (health and tests). */
  subscriberCount(): number {
    return this.publisher.size;
  }

  async createInvoice(userId: UserId, req: NewInvoice): Promise<Outcome<{ id: string; address: string }>> {
    return this.serially(userId, async () => {
      if (!(await this.userExists(userId))) return { ok: false, failure: Failures.unknownUser };
      const adapter = this.adapterFor(req.coin);
      if (!adapter) return { ok: false, failure: Failures.coinNotEnabled(req.coin) };
      const ledger = await this.loadedLedger(userId);
      // This object writes every key set of its user, so the ledger's copy is current.
      // A token's invoices take their addresses from its chain's keys, and share its counter.
      const keysCoin = keysCoinOf(req.coin);
      const keySet = activeKeySet(ledger, keysCoin);
      if (!keySet) return { ok: false, failure: Failures.noKeys(keysCoin) };
      const index = keySet.nextIndex;
      const derived = adapter.deriveAddress(await this.keyring.opened(keySet), index);
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
        details: req.details,
      };
      const created = [{ type: "invoice.created" as const, invoice: snapshotOf(invoice) }];
      const [, , ...logged] = await transaction("create invoice", () =>
        this.db.batch([
          insertInvoiceStatement(this.db, invoice, now),
          bumpNextIndexStatement(this.db, keySet.id, index + 1, now),
          ...eventStatements(this.db, created, now),
        ]),
      ).catch((error: unknown) => {
        // The batch may have committed before its answer was lost: re-read the counter next time.
        this.ledger = null;
        throw error;
      });
      ledger.invoices.set(invoice.id, invoice);
      ledger.payments.set(invoice.id, []);
      ledger.keySets.set(keySet.id, { ...keySet, nextIndex: index + 1 });
      await this.armAlarm();
      const committed = loggedEvents(created, logged);
      this.publisher.publish(committed.events);
      await enqueueDeliveries(this.env.WEBHOOK_QUEUE, committed.deliveryIds);
      return { ok: true, value: { id: invoice.id, address: invoice.address } };
    });
  }

  /** Applies one watcher tick: new payments, confirmations, orphaned blocks, vanished txs. Throws on failure so the watcher retries. */
  async applyChainBatch(userId: UserId, batch: ChainBatch): Promise<void> {
    await this.serially(userId, async () => {
      const ledger = await this.loadedLedger(userId);
      const adapter = this.adapterFor(batch.coin);
      if (!adapter) return;
      // Everything that can fail (unsealing keys, the D1 read behind the burning-bug guard) comes first.
      const keys = new Map<number, OpenKeySet>();
      for (const keySetId of watchedByKeySet(ledger, batch.coin).keys()) {
        const row = ledger.keySets.get(keySetId);
        if (row) keys.set(keySetId, await this.keyring.opened(row));
      }
      const outputs = findOutputs(ledger, batch, (tx, keySetId, watched) => {
        const open = keys.get(keySetId);
        return open ? adapter.findPayments(tx, open, watched) : [];
      });
      const creditedElsewhere = await creditedOutputKeys(this.db, batch.coin, unknownOutputKeys(ledger, batch.coin, outputs));
      const change = applyBatch(ledger, batch, outputs, creditedElsewhere, this.clock());
      for (const o of change.duplicateOutputs) console.warn(`ignoring duplicate output key ${o.outputKey} in tx ${o.txHash}`);
      await this.commit(ledger, change);
    });
  }

  /** The user's live stream (NDJSON lines of StreamLine), replaying after `afterEventId` first. */
  async subscribe(userId: UserId, afterEventId: number | null): Promise<ReadableStream<Uint8Array>> {
    await this.rememberUser(userId);
    return this.publisher.open(afterEventId, Failures.tooManySubscribers);
  }

  /** One invoice's live events (NDJSON StreamLines, no replay): what its checkout page listens to. */
  async watchInvoice(userId: UserId, invoiceId: InvoiceId): Promise<ReadableStream<Uint8Array>> {
    await this.rememberUser(userId);
    return this.publisher.openPage(invoiceId, Failures.tooManyCheckoutViewers);
  }

  /** Expiry: PENDING invoices past their deadline, once their chain was scanned past it and every batch of it reached this account. */
  override async alarm(): Promise<void> {
    const userId = await this.ownerId();
    if (!userId) return;
    await this.serially(userId, async () => {
      const ledger = await this.loadedLedger(userId);
      const coins = new Set([...ledger.invoices.values()].filter((i) => !isTerminal(i.status)).map((i) => i.coin));
      const scanned = new Map<Coin, CoinProgress>();
      for (const coin of coins) {
        const state = await readChainState(this.db, coin);
        // A scan shard that still owes this account batches holds its expiry where they begin.
        const held = state ? await scanHeldBefore(this.db, coin, userId) : null;
        const scannedThrough = held === null ? state?.scannedThrough : Math.min(held, state!.scannedThrough);
        if (state) scanned.set(coin, { tipHeight: state.tipHeight, scannedThrough: scannedThrough!, finalizedHeight: state.finalizedHeight });
      }
      await this.commit(ledger, applyClock(ledger, scanned, this.clock()));
    });
  }

  // ---- internals ----

  /** Commits a decided change, then makes it visible: memory, alarm, subscribers. */
  private async commit(ledger: Ledger, change: Change): Promise<void> {
    const now = Date.now();
    let committed;
    try {
      committed = await commitChange(this.db, ledger, change, now);
    } catch (error) {
      // The batch may have committed before its answer was lost: read D1 again next time.
      this.ledger = null;
      throw error;
    }
    applyToLedger(ledger, change);
    pruneClosed(ledger, now - monitoringMs(this.env));
    await this.armAlarm();
    this.publisher.publish(committed.events);
    await enqueueDeliveries(this.env.WEBHOOK_QUEUE, committed.deliveryIds);
  }

  private clock(): Clock {
    return { now: Date.now(), monitoringMs: monitoringMs(this.env) };
  }

  private async armAlarm(): Promise<void> {
    if (!this.ledger) return;
    const now = Date.now();
    const next = nextAlarmAt(this.ledger, now);
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

  private async loadedLedger(userId: UserId): Promise<Ledger> {
    this.ledger ??= await loadLedger(this.db, userId, Date.now() - monitoringMs(this.env));
    return this.ledger;
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
