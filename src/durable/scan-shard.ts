// ScanShard: one Durable Object per shard of a coin's watching users. The watcher hands it each step
// once; it scans the step's txs with its users' view keys (each tx once per user, pool sightings
// remembered when mined), calls only the accounts with a hit or with open payments the step can
// change, and keeps, per account, what it could not deliver yet: retried on its own, in order,
// while that account's expiry is held back (scan_holds), so the other accounts move on.

import { DurableObject } from "cloudflare:workers";
import { findPaymentsForKeys, withOnlyTxs, type ChainAdapter, type ChainBatch, type ChainTx, type KeysToScan, type OpenKeySet } from "../chains/adapter";
import { chainAdapter } from "../chains/registry";
import { subrequestBudget } from "../config";
import { database, type Db } from "../db/client";
import type { WatchedKeys } from "../db/invoices";
import { keySetsByIds } from "../db/key-sets";
import { holdScans, otherShardsHolds, releaseScans } from "../db/scan-holds";
import type { Coin } from "../domain/coins";
import { messageOf } from "../domain/errors";
import { fnv1a } from "../domain/hash";
import type { UserId } from "../domain/ids";
import type { Env } from "../env";
import { Keyring } from "./account/keyring";
import { FANOUT, fanOut } from "./fan-out";
import { retryDelayMs } from "./retry-delay";
import { SerialQueue } from "./serial";

/** What the watcher hands a shard for one step. */
export interface ShardWork {
  coin: Coin;
  /** The shard's own name (its holds carry it). */
  shard: string;
  /** The step's whole batch, scanned here for `scan`'s users; null when only `direct` batches are delivered. */
  batch: ChainBatch | null;
  /** Users found by view key: their key set and watched match keys. */
  scan: WatchedKeys[];
  /** Users with open payments: called with the step's news (tip, blocks, reorg, vanished txs) even without a hit. */
  affected: UserId[];
  /** Batches the watcher already matched by address, one per user, delivered as they are. */
  direct: [UserId, ChainBatch][];
}

/** D1 queries a take makes besides account calls (key sets, other shards' holds, holds, releases). */
const D1_QUERIES = 5;
/** Pool txs scanned and remembered per shard, so a tx is not scanned again when it is mined. */
const SCANNED_TXS = 20_000;
/** An account that did not take its batch is retried after this (doubling, see retryDelayMs). */
const RETRY_BASE_MS = 5_000;

const QUEUE_PREFIX = "q:";
const COIN_KEY = "coin";
const NAME_KEY = "name";

interface Queued {
  /** Batches not yet taken by the account, oldest first. */
  batches: ChainBatch[];
  failures: number;
  retryAt: number;
}

export class ScanShard extends DurableObject<Env> {
  private readonly db: Db;
  private readonly serial = new SerialQueue();
  private readonly keyring: Keyring;
  private readonly keys = new Map<number, OpenKeySet>();
  /** txHash -> key set id -> signature of the match keys it was scanned against, for txs with no hit. */
  private readonly missed = new Map<string, Map<number, number>>();
  /** Since the object started: (tx, user) scans made, and skipped as already scanned. */
  private readonly counts = { scans: 0, skipped: 0 };
  /** Whether this instance has stored its coin and name. */
  private named = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = database(env.DB);
    this.keyring = new Keyring(env.KEYS_ENCRYPTION_KEY);
  }

  /**
   * Takes one step: once this returns, every account of the shard either took its batch or has it
   * queued here with its expiry held, so the watcher may move on. `subrequests` (tests) stands for
   * SUBREQUEST_BUDGET.
   */
  async take(work: ShardWork, subrequests = subrequestBudget(this.env)): Promise<{ called: number; queued: number }> {
    return this.serial.run(async () => {
      if (!this.named) {
        // For the alarm, which has no work to read them from; a shard's coin and name never change.
        await this.ctx.storage.put({ [COIN_KEY]: work.coin, [NAME_KEY]: work.shard });
        this.named = true;
      }
      const due = new Map<UserId, ChainBatch>(work.direct);
      if (work.batch) {
        const adapter = chainAdapter(this.env, work.coin);
        if (!adapter) throw new Error(`coin ${work.coin} is not enabled here`);
        const { hits, unscanned } = await this.scan(adapter, work.batch, work.scan);
        const affected = new Set(work.affected);
        for (const { userId } of work.scan) {
          const mine = hits.get(userId);
          if (mine || affected.has(userId)) due.set(userId, withOnlyTxs(work.batch, mine ?? new Set()));
        }
        // Keys this shard could not open: the account gets the whole batch and scans it itself (or
        // fails, and its batch waits here with its expiry held).
        for (const userId of unscanned) due.set(userId, work.batch);
        for (const userId of affected) if (!due.has(userId)) due.set(userId, withOnlyTxs(work.batch, new Set()));
      }
      const room = Math.max(0, subrequests - D1_QUERIES);
      return this.deliver(work.coin, work.shard, due, room);
    });
  }

  override async alarm(): Promise<void> {
    const coin = await this.ctx.storage.get<Coin>(COIN_KEY);
    const name = await this.ctx.storage.get<string>(NAME_KEY);
    if (coin === undefined || name === undefined) return;
    await this.serial.run(() => this.retry(coin, name, Math.max(1, subrequestBudget(this.env) - D1_QUERIES)));
  }

  /** What this shard did since it started (tests and benches). */
  stats(): { scans: number; skipped: number } {
    return { ...this.counts };
  }

  /** Accounts with batches queued here (tests and health). */
  async queuedUsers(): Promise<UserId[]> {
    return [...(await this.queues()).keys()];
  }

  // ---- internals ----

  /**
   * Users with a hit in the batch, with the hashes of their txs, and users whose keys could not be
   * opened here. Each (tx, key set) is scanned once.
   */
  private async scan(
    adapter: ChainAdapter,
    batch: ChainBatch,
    users: readonly WatchedKeys[],
  ): Promise<{ hits: Map<UserId, Set<string>>; unscanned: Set<UserId> }> {
    const txs: ChainTx[] = [...batch.blocks.flatMap((b) => b.txs), ...batch.mempool];
    const hits = new Map<UserId, Set<string>>();
    const unscanned = new Set<UserId>();
    if (txs.length === 0 || users.length === 0) return { hits, unscanned };
    const failed = await this.openKeys(users.map((u) => u.keySetId));
    const ready: { user: WatchedKeys; scan: KeysToScan<true>; signature: number }[] = [];
    for (const user of users) {
      if (failed.has(user.keySetId)) {
        unscanned.add(user.userId);
        continue;
      }
      const keys = this.keys.get(user.keySetId);
      if (!keys) continue; // a key set no longer in D1: nothing of it is watched
      const watched = new Map(user.matchKeys.map((k) => [k, true] as const));
      ready.push({ user, scan: { keys, watched }, signature: signatureOf(user.matchKeys) });
    }
    for (const tx of txs) {
      // All of a tx's scans in one call: a view-key chain shares the tx key's work between them.
      const due = ready.filter((r) => this.missed.get(tx.hash)?.get(r.user.keySetId) !== r.signature);
      this.counts.skipped += ready.length - due.length;
      this.counts.scans += due.length;
      if (due.length === 0) continue;
      findPaymentsForKeys(adapter, tx, due.map((r) => r.scan)).forEach((found, i) => {
        const { user, signature } = due[i]!;
        if (found.length > 0) (hits.get(user.userId) ?? hits.set(user.userId, new Set()).get(user.userId)!).add(tx.hash);
        else this.remember(tx.hash, user.keySetId, signature);
      });
    }
    return { hits, unscanned };
  }

  private remember(txHash: string, keySetId: number, signature: number): void {
    let entry = this.missed.get(txHash);
    if (!entry) {
      // Oldest first out: a Map iterates in insertion order.
      if (this.missed.size >= SCANNED_TXS) this.missed.delete(this.missed.keys().next().value!);
      entry = new Map();
      this.missed.set(txHash, entry);
    }
    entry.set(keySetId, signature);
  }

  /** Opens the key sets not open yet; returns those that could not be unsealed (one user's damaged key fails only that user). */
  private async openKeys(ids: readonly number[]): Promise<Set<number>> {
    const failed = new Set<number>();
    const missing = [...new Set(ids)].filter((id) => !this.keys.has(id));
    if (missing.length === 0) return failed;
    for (const row of await keySetsByIds(this.db, missing)) {
      try {
        this.keys.set(row.id, await this.keyring.opened(row));
      } catch (cause) {
        console.warn(`scan shard: key set ${row.id} could not be opened (${messageOf(cause)}); its account scans for itself`);
        failed.add(row.id);
      }
    }
    return failed;
  }

  /**
   * Calls the accounts, at most `room`, FANOUT at a time. An account with batches already queued
   * gets the new one queued behind them (an account takes batches in order); one that fails or does
   * not fit is queued, its expiry held from the batch's start, and retried by the alarm.
   */
  private async deliver(coin: Coin, shard: string, due: Map<UserId, ChainBatch>, room: number): Promise<{ called: number; queued: number }> {
    const queues = await this.queues();
    // Whatever another shard still owes an account is older than this step.
    const elsewhere = due.size > 0 ? await otherShardsHolds(this.db, coin, shard, [...due.keys()]) : new Map<UserId, number>();
    const now: [UserId, ChainBatch][] = [];
    const later = new Map<UserId, ChainBatch>();
    for (const [user, batch] of due) {
      if (queues.has(user) || elsewhere.has(user) || now.length >= room) later.set(user, batch);
      else now.push([user, batch]);
    }
    const failed = await fanOut(now, ([user]) => user, ([user, batch]) => this.account(user).applyChainBatch(user, batch));
    for (const [user, batch] of now) if (failed.has(user)) later.set(user, batch);
    if (later.size > 0) {
      // The hold is in D1 before the watcher moves the chain's scan time past this step.
      const clock = Date.now();
      await holdScans(this.db, coin, shard, [...later].map(([user, batch]) => [user, batch.observedAfter] as const), clock);
      const writes: Record<string, Queued> = {};
      for (const [user, batch] of later) {
        const q = queues.get(user) ?? { batches: [], failures: 0, retryAt: clock };
        q.batches.push(batch);
        if (failed.has(user)) {
          q.failures += 1;
          q.retryAt = clock + retryDelayMs(RETRY_BASE_MS, q.failures);
        }
        writes[QUEUE_PREFIX + user] = q;
        queues.set(user, q);
      }
      await this.ctx.storage.put(writes);
      await this.armAlarm(queues);
      for (const [user, why] of failed) console.warn(`scan shard: account ${user} did not take its batch (${messageOf(why)}); retried on its own`);
    }
    return { called: now.length, queued: later.size };
  }

  /** Delivers queued batches, oldest first per account, to accounts due for a try, within `room` calls. */
  private async retry(coin: Coin, shard: string, room: number): Promise<void> {
    const queues = await this.queues();
    const clock = Date.now();
    let calls = 0;
    const released: UserId[] = [];
    const ready = [...queues].filter(([, q]) => q.retryAt <= clock);
    // An account another shard owes older steps than this shard's oldest waits for them.
    const holds = ready.length > 0 ? await otherShardsHolds(this.db, coin, shard, ready.map(([u]) => u)) : new Map<UserId, number>();
    const waits = ([user, q]: [UserId, Queued]) => (holds.get(user) ?? Infinity) < q.batches[0]!.observedAfter;
    for (const entry of ready) if (waits(entry)) entry[1].retryAt = clock + RETRY_BASE_MS;
    const due = ready.filter((entry) => !waits(entry));
    // One round of calls per batch depth: every due account's oldest batch, then the next.
    for (let i = 0; i < due.length && calls < room; i += FANOUT) {
      const group = due.slice(i, Math.min(i + FANOUT, i + room - calls));
      await Promise.all(
        group.map(async ([user, q]) => {
          while (q.batches.length > 0 && calls < room) {
            calls += 1;
            try {
              await this.account(user).applyChainBatch(user, q.batches[0]!);
              q.batches.shift();
              q.failures = 0;
            } catch (why) {
              q.failures += 1;
              q.retryAt = Date.now() + retryDelayMs(RETRY_BASE_MS, q.failures);
              console.warn(`scan shard: account ${user} still does not take its batch (${messageOf(why)}); ${q.failures} failures`);
              break;
            }
          }
          if (q.batches.length === 0) released.push(user);
        }),
      );
    }
    const writes: Record<string, Queued> = {};
    for (const [user, q] of ready) if (q.batches.length > 0) writes[QUEUE_PREFIX + user] = q;
    if (Object.keys(writes).length > 0) await this.ctx.storage.put(writes);
    if (released.length > 0) {
      // The queue goes first: a hold with no queue behind it would hold the account's expiry forever.
      await this.ctx.storage.delete(released.map((u) => QUEUE_PREFIX + u));
      await releaseScans(this.db, coin, shard, released);
      for (const user of released) queues.delete(user);
    }
    await this.armAlarm(queues);
  }

  private account(user: UserId) {
    return this.env.USER_ACCOUNT.get(this.env.USER_ACCOUNT.idFromName(user));
  }

  private async queues(): Promise<Map<UserId, Queued>> {
    const stored = await this.ctx.storage.list<Queued>({ prefix: QUEUE_PREFIX });
    return new Map([...stored].map(([key, q]) => [key.slice(QUEUE_PREFIX.length) as UserId, q]));
  }

  /** The alarm at the earliest retry of `queues` (what is queued now), or none. */
  private async armAlarm(queues: ReadonlyMap<UserId, Queued>): Promise<void> {
    if (queues.size === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const next = Math.max(Date.now(), Math.min(...[...queues.values()].map((q) => q.retryAt)));
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }
}

/** A scan's result holds while the user watches the same keys. */
const signatureOf = (keys: readonly string[]): number => fnv1a(keys.join(","));
