// UserAccount: one Durable Object per user, the single writer of that user's keys, invoices,
// payments and events. A thin shell: it loads the ledger, reads what a decision needs, decides with
// the pure functions of `account/apply`, commits to D1, and only then updates memory and publishes.

import { DurableObject } from "cloudflare:workers";
import type { ChainAdapter, ChainBatch, OpenKeySet } from "../chains/adapter";
import { chainAdapter, keysCoinOf } from "../chains/registry";
import { monitoringMs, subrequestBudget } from "../config";
import { readChainState } from "../db/chain-state";
import { scanHeldBefore } from "../db/scan-holds";
import { database, isUniqueViolation, type Db } from "../db/client";
import { eventsAfter } from "../db/events";
import { creditedOutputKeys } from "../db/invoices";
import { activateKeySetStatements, keySetByFingerprint, keySetsById } from "../db/key-sets";
import { userExists } from "../db/users";
import type { Coin } from "../domain/coins";
import { ApiError, Failures, type Outcome } from "../domain/errors";
import type { InvoiceId, UserId } from "../domain/ids";
import { isTerminal, type Invoice } from "../domain/invoice";
import type { Env } from "../env";
import { applyBatch, applyClock, findOutputs, unknownOutputKeys, watchedByKeySet, type Change, type Clock } from "./account/apply";
import { commitChange, commitNewInvoices, type Committed } from "./account/commit";
import { nextAlarmAt } from "./account/expiry";
import { GroupCommit, settle, type Settled } from "./account/group-commit";
import { Keyring } from "./account/keyring";
import { activeKeySet, addNewInvoices, applyToLedger, loadLedger, pruneClosed, type CoinProgress, type Ledger } from "./account/ledger";
import { IndexAllocator, newInvoice, type NewInvoice } from "./account/new-invoices";
import { Publisher } from "./account/publisher";
import { SerialQueue } from "./serial";
import { enqueueDeliveries } from "../webhooks/queue";

export type { NewInvoice };

export interface CreatedInvoice {
  id: string;
  address: string;
}

/** A create waiting for its group. */
interface QueuedCreate {
  userId: UserId;
  req: NewInvoice;
}

/**
 * Creates one group (one D1 batch) takes: each is at most 4 statements (invoice, event, deliveries,
 * its key set's counter), and D1 applies its limits to each statement of a batch, so each counts
 * as one of the invocation's queries, beside the few the account reads first: 11 on the free
 * plan's 50, and 50 (a batch near 150 statements) from a budget of 205.
 */
export function createsPerBatch(subrequests: number): number {
  return Math.max(1, Math.min(MAX_CREATES_PER_BATCH, Math.floor((subrequests - QUERIES_BEFORE_A_BATCH) / STATEMENTS_PER_CREATE)));
}
const MAX_CREATES_PER_BATCH = 50;
const STATEMENTS_PER_CREATE = 4;
const QUERIES_BEFORE_A_BATCH = 5;

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
  private readonly creates = new GroupCommit<QueuedCreate, Outcome<CreatedInvoice>>({
    schedule: (work) => this.queue.run(work),
    commit: (group) => this.createGroup(group),
    maxGroup: createsPerBatch(subrequestBudget(this.env)),
  });
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

  /**
   * Creates wait for the account's next group: every create queued while a group was being written
   * is decided with the others and written in the same D1 batch (see `createGroup`).
   */
  async createInvoice(userId: UserId, req: NewInvoice): Promise<Outcome<CreatedInvoice>> {
    await this.rememberUser(userId);
    return this.creates.submit({ userId, req });
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
        if (!state) continue;
        // A scan shard that still owes this account batches holds its expiry where they begin.
        const held = (await scanHeldBefore(this.db, coin, userId)) ?? Infinity;
        scanned.set(coin, { tipHeight: state.tipHeight, scannedThrough: Math.min(held, state.scannedThrough), finalizedHeight: state.finalizedHeight });
      }
      await this.commit(ledger, applyClock(ledger, scanned, this.clock()));
    });
  }

  // ---- internals ----

  /**
   * One group of creates, decided in arrival order (each its own checks, then the next index of its
   * key set), written in one D1 batch, then shown: memory, one alarm, the events, the deliveries. A
   * create refused on its own check takes no index; a failed batch fails every create that was in it.
   */
  private async createGroup(group: readonly QueuedCreate[]): Promise<Settled<Outcome<CreatedInvoice>>[]> {
    const now = Date.now();
    const indices = new IndexAllocator();
    const decided: Settled<Outcome<Invoice>>[] = [];
    for (const create of group) decided.push(await settle(this.decideInvoice(create, indices, now)));
    const invoices = decided.flatMap((d) => (d.status === "fulfilled" && d.value.ok ? [d.value.value] : []));
    let failed: unknown = null;
    if (invoices.length > 0) {
      const ledger = this.ledger!; // decideInvoice loaded it for each invoice it decided
      try {
        const committed = await commitNewInvoices(this.db, invoices, indices.counters(), now).catch((error: unknown) => {
          // The batch may have committed before its answer was lost: re-read the counters next time.
          this.ledger = null;
          throw error;
        });
        addNewInvoices(ledger, invoices, indices.counters());
        await this.show(committed);
      } catch (error) {
        failed = error;
      }
    }
    return decided.map((d): Settled<Outcome<CreatedInvoice>> => {
      if (d.status === "rejected") return d;
      if (!d.value.ok) return { status: "fulfilled", value: d.value };
      if (failed !== null) return { status: "rejected", reason: failed };
      return { status: "fulfilled", value: { ok: true, value: { id: d.value.value.id, address: d.value.value.address } } };
    });
  }

  /** A create's own checks, then its address at the next free index of its key set (taken only once derived). */
  private async decideInvoice({ userId, req }: QueuedCreate, indices: IndexAllocator, now: number): Promise<Outcome<Invoice>> {
    if (!(await this.userExists(userId))) return { ok: false, failure: Failures.unknownUser };
    const adapter = this.adapterFor(req.coin);
    if (!adapter) return { ok: false, failure: Failures.coinNotEnabled(req.coin) };
    // This object writes every key set of its user, so the ledger's copy is current.
    // A token's invoices take their addresses from its chain's keys, and share its counter.
    const keysCoin = keysCoinOf(req.coin);
    const keySet = activeKeySet(await this.loadedLedger(userId), keysCoin);
    if (!keySet) return { ok: false, failure: Failures.noKeys(keysCoin) };
    const index = indices.peek(keySet);
    const derived = adapter.deriveAddress(await this.keyring.opened(keySet), index);
    indices.take(keySet);
    return { ok: true, value: newInvoice(userId, req, keySet.id, index, derived, now) };
  }

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
    await this.show(committed);
  }

  /** After a commit reached memory: the alarm for the new deadlines, the events, the webhook deliveries. */
  private async show(committed: Committed): Promise<void> {
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
