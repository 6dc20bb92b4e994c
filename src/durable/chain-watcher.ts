// ChainWatcher: one Durable Object per coin that polls the coin's node while anything is watched.
// Each tick reads new blocks (bounded, never skipping one), detects reorgs by block hashes, reads new
// pool txs and hands everything to the user accounts that watch invoices of the coin. It takes nothing
// from a node on another network or behind what it saw, and looks at the node even when idle.

import { DurableObject } from "cloudflare:workers";
import type { ChainBatch, ChainSource, NodeTip } from "../chains/adapter";
import { nodeBehind } from "../chains/follow";
import { blockFollower, type ChainFollower } from "../chains/follower";
import { WrongNetworkError } from "../chains/network-check";
import { NodeError } from "../chains/node-error";
import { chainAdapter, coinModule, coinRuntime, pollIntervalMs } from "../chains/registry";
import { monitoringMs, subrequestBudget } from "../config";
import { writeChainState, type ChainStatePatch } from "../db/chain-state";
import { database, type Db } from "../db/client";
import { anyWatchedInvoice, usersWithOpenPayments, watchedAddresses, watchedMatchKeys, watchedUsers } from "../db/invoices";
import { Coin, parseCoin, tickerOf } from "../domain/coins";
import { ApiError } from "../domain/errors";
import type { UserId } from "../domain/ids";
import type { Env } from "../env";
import { deleteChunked, getChunked, putChunked } from "./chunked-storage";
import { NodeWait } from "./node-wait";
import { retryDelayMs } from "./retry-delay";
import { SerialQueue } from "./serial";
import { countTicks } from "./tick-stats";

/**
 * Following a node block by block: catch-up after downtime proceeds over several ticks of 20 blocks, the
 * last 20 are remembered for reorg detection, and a big pool is read 1,000 new txs per tick (10 batches).
 */
const BLOCKS = { maxBlocks: 20, depth: 20, maxPoolTxs: 1000 };
/** User accounts called at once (Workers allow 6 open connections per invocation). */
const FANOUT = 6;

/** D1 queries a tick makes at most besides account calls (watched?, whom, open payments, chain_state, failure). */
const D1_QUERIES_PER_TICK = 8;

/** The cursor (chunked-storage: a node's pool can make it bigger than one storage value). */
const CURSOR_KEY = "cursor";
/** A step not yet taken by every account it is for (PendingStep). */
const PENDING_KEY = "pending";
const COIN_KEY = "coin";
const FAILURES_KEY = "failures";

/** What the watcher is doing right now, for /healthz. */
export interface WatcherStatus {
  /** Start of the node call it is waiting on (ms since the epoch); null when none. */
  waitingSince: number | null;
}

/** The watcher of a coin. */
export function chainWatcherOf(env: Env, coin: Coin): DurableObjectStub<ChainWatcher> {
  return env.CHAIN_WATCHER.get(env.CHAIN_WATCHER.idFromName(tickerOf(coin)));
}

export class ChainWatcher extends DurableObject<Env> {
  private readonly db: Db;
  private readonly queue = new SerialQueue();
  private readonly wait = new NodeWait();
  /** Kept across ticks: a source remembers which of several nodes answered well. */
  private readonly followers = new Map<Coin, ChainFollower | null>();
  /** The last tick's reason for not following the node, to log changes only. */
  private behind: string | null = null;
  /** The last tick left accounts to call: the next one comes at once, not after the poll interval. */
  private more = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = database(env.DB);
    countTicks(this, ctx, env); // BENCH_COUNTERS=true only (bench/scale.ts): one log line per alarm
  }

  /** Idempotent "make sure you are polling": called on invoice creation and by the cron watchdog. */
  async ensurePolling(coin: Coin): Promise<void> {
    await this.ctx.storage.put(COIN_KEY, coin);
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null) await this.ctx.storage.setAlarm(Date.now());
  }

  status(): WatcherStatus {
    return { waitingSince: this.wait.since };
  }

  override async alarm(): Promise<void> {
    const coin = parseCoin((await this.ctx.storage.get<number>(COIN_KEY)) ?? -1);
    if (coin === null) return;
    const interval = pollIntervalMs(this.env, coin);
    try {
      const keepPolling = await this.tick(coin);
      await this.ctx.storage.delete(FAILURES_KEY);
      if (keepPolling) await this.ctx.storage.setAlarm(Date.now() + (this.more ? 0 : interval));
    } catch (error) {
      const failures = ((await this.ctx.storage.get<number>(FAILURES_KEY)) ?? 0) + 1;
      await this.ctx.storage.put(FAILURES_KEY, failures);
      const failed = error instanceof TickFailed ? error : new TickFailed(error, "?", true);
      // While nothing is watched the cron's next run is soon enough to look again.
      const retryAt = failed.watching ? Date.now() + retryDelayMs(interval, failures) : null;
      if (retryAt !== null) await this.ctx.storage.setAlarm(retryAt);
      const next = retryAt === null ? "at the next cron run" : `at ${new Date(retryAt).toISOString()}`;
      const line = `${tickerOf(coin)} watcher at ${failed.node}: ${failed.message}; next try ${next} (${failures} ${failures === 1 ? "failure" : "failures"} in a row)`;
      if (isExpected(failed.cause)) console.warn(line);
      else console.error(line, failed.cause);
    }
  }

  /**
   * One look at the chain, one at a time; what it saw, or why it failed, goes to chain_state.
   * Returns whether to keep polling (something is watched); a failure is thrown as TickFailed.
   * `subrequests` (tests) stands for the SUBREQUEST_BUDGET setting.
   */
  async tick(coin: Coin, source?: ChainSource, subrequests = subrequestBudget(this.env)): Promise<boolean> {
    return this.queue.run(async () => {
      const follower = source ? blockFollower(this.wait.watch(source), BLOCKS) : this.followerFor(coin);
      if (!follower) return false;
      const state = { watching: true };
      const callsBefore = this.wait.calls;
      // What is left for account calls once the node and D1 had theirs; at least one, so every tick moves on.
      const room = () => Math.max(1, subrequests - D1_QUERIES_PER_TICK - (this.wait.calls - callsBefore));
      this.more = false;
      try {
        return await this.look(coin, follower, state, room);
      } catch (cause) {
        await this.recordFailure(coin, cause);
        throw new TickFailed(cause, follower.node(), state.watching);
      }
    });
  }

  private async look(coin: Coin, follower: ChainFollower, state: { watching: boolean }, room: () => number): Promise<boolean> {
    // A step some accounts have not taken yet comes first: the chain is read again only after it.
    const pending = (await getChunked(this.ctx.storage, PENDING_KEY)) as PendingStep | undefined;
    if (pending) return this.deliverStep(coin, pending, room(), false);
    const startedAt = Date.now();
    const closedAfter = startedAt - monitoringMs(this.env);
    state.watching = await anyWatchedInvoice(this.db, coin, closedAfter);
    if (!state.watching) {
      // Nothing to watch: forget the position (payments to invoices created later can only come
      // later), but look at the node, so /healthz and CreateInvoice know whether it may be followed.
      await deleteChunked(this.ctx.storage, CURSOR_KEY);
      const node = await follower.tip();
      const behind = nodeBehind(node, -1, []);
      this.noteBehind(coin, follower, behind);
      await writeChainState(this.db, coin, { ...nodeAnswered(node, startedAt, behind), bestTipHeight: null, cursorHeight: null });
      return false;
    }
    const from = cursorOf(await getChunked(this.ctx.storage, CURSOR_KEY), follower.kind);
    // A follower that lists addresses reads them before it reads the chain: what it listed is whom it found paid.
    let listed: Map<string, UserId> | null = null;
    const { step, tipMoved, cursor, position, node, behind } = await follower.follow(from, {
      now: startedAt,
      watched: async () => {
        const rows = await watchedAddresses(this.db, coin, closedAfter);
        listed = new Map(rows.map((w) => [w.matchKey, w.userId]));
        return rows;
      },
    });
    this.noteBehind(coin, follower, behind);
    // Whom to deliver to is read only now: a user whose first invoice was created while the chain was
    // being read may already have its payer's tx in this step's pool, which is never delivered again.
    const byUser = await this.deliveries(coin, { coin, ...step }, tipMoved, closedAfter, listed);
    // By view key every account gets the same batch: kept once, not once per account.
    const batches = [...new Set(byUser.values())];
    const index = new Map(batches.map((b, i) => [b, i]));
    const whole: PendingStep = {
      cursor: { kind: follower.kind, cursor },
      state: {
        ...nodeAnswered(node, startedAt, behind),
        bestTipHeight: position.bestTip,
        cursorHeight: position.height,
        scannedThrough: position.scannedThrough,
        ...(step.finalizedHeight !== undefined ? { finalizedHeight: step.finalizedHeight } : {}),
      },
      batches,
      deliveries: [...byUser].map(([user, batch]) => [user, index.get(batch)!]),
    };
    return this.deliverStep(coin, whole, room(), true);
  }

  /**
   * Calls as many of the step's accounts as `room` allows. The cursor and chain_state move only once
   * every account took the step; until then the rest (and any account that failed) is kept under
   * PENDING_KEY and the next tick goes on with it, before it reads the chain again. Nothing is skipped.
   */
  private async deliverStep(coin: Coin, step: PendingStep, room: number, fresh: boolean): Promise<boolean> {
    const now = step.deliveries.slice(0, room);
    const later = step.deliveries.slice(room);
    // A fresh step that does not fit is stored whole first: an interrupted tick then loses nobody.
    if (fresh && later.length > 0) await putChunked(this.ctx.storage, PENDING_KEY, step);
    const failed = await this.deliver(now.map(([user, i]) => [user, step.batches[i]!] as const));
    const left = [...now.filter(([user]) => failed.has(user)), ...later];
    if (left.length === 0) {
      await putChunked(this.ctx.storage, CURSOR_KEY, step.cursor);
      if (!fresh || later.length > 0) await deleteChunked(this.ctx.storage, PENDING_KEY);
      await writeChainState(this.db, coin, step.state);
      return true;
    }
    const keep = [...new Set(left.map(([, i]) => i))];
    const renumber = new Map(keep.map((i, k) => [i, k]));
    const rest: PendingStep = { ...step, batches: keep.map((i) => step.batches[i]!), deliveries: left.map(([user, i]) => [user, renumber.get(i)!]) };
    await putChunked(this.ctx.storage, PENDING_KEY, rest);
    if (failed.size > 0) throw new DeliveryFailed([...failed.values()], now.length);
    this.more = true;
    return true;
  }

  /**
   * Who gets what of a step. By view key, every watching account scans the whole batch with its own
   * key. By address, the outputs are matched here against the watched match keys: an account gets
   * only the txs that pay it, and the step's news (new blocks, reorg, vanished txs) reaches only the
   * accounts whose open payments it can change. Calls grow with accounts that have news, never with users.
   */
  private async deliveries(coin: Coin, batch: ChainBatch, tipMoved: boolean, closedAfter: number, listed: Map<string, UserId> | null): Promise<Map<UserId, ChainBatch>> {
    const out = new Map<UserId, ChainBatch>();
    const news = tipMoved || batch.blocks.length > 0 || batch.gone.length > 0 || batch.orphanedAbove !== null;
    // Nothing new on the chain and in the pool: the accounts learn the new scan time from D1 when
    // their expiry needs it.
    if (!news && batch.mempool.length === 0) return out;
    const adapter = chainAdapter(this.env, coin);
    if (coinModule(coin)?.matching !== "address" || !adapter?.outputMatchKeys) {
      for (const user of await watchedUsers(this.db, coin, closedAfter)) out.set(user, batch);
      return out;
    }
    const watched = listed ?? (await watchedMatchKeys(this.db, coin, closedAfter));
    const paid = new Map<UserId, Set<string>>();
    for (const tx of [...batch.blocks.flatMap((b) => b.txs), ...batch.mempool]) {
      for (const key of adapter.outputMatchKeys(tx)) {
        const user = watched.get(key);
        if (user) (paid.get(user) ?? paid.set(user, new Set()).get(user)!).add(tx.hash);
      }
    }
    const affected = news ? await usersWithOpenPayments(this.db, coin) : [];
    for (const user of new Set([...paid.keys(), ...affected])) {
      const mine = paid.get(user) ?? new Set<string>();
      out.set(user, {
        ...batch,
        blocks: batch.blocks.map((b) => ({ ...b, txs: b.txs.filter((t) => mine.has(t.hash)) })),
        mempool: batch.mempool.filter((t) => mine.has(t.hash)),
      });
    }
    return out;
  }

  /** Calls each account with its batch; returns the accounts that did not take it, with why. */
  private async deliver(deliveries: readonly (readonly [UserId, ChainBatch])[]): Promise<Map<UserId, unknown>> {
    const failed = new Map<UserId, unknown>();
    for (let i = 0; i < deliveries.length; i += FANOUT) {
      const group = deliveries.slice(i, i + FANOUT);
      const results = await Promise.allSettled(group.map(([u, batch]) => this.env.USER_ACCOUNT.get(this.env.USER_ACCOUNT.idFromName(u)).applyChainBatch(u, batch)));
      results.forEach((r, k) => {
        if (r.status === "rejected") failed.set(group[k]![0], r.reason);
      });
    }
    return failed;
  }

  private async recordFailure(coin: Coin, cause: unknown): Promise<void> {
    const patch: ChainStatePatch =
      cause instanceof WrongNetworkError
        ? { network: cause.network, expectedNetwork: cause.expected, checkedAt: Date.now(), lastError: null }
        : { lastError: messageOf(cause).slice(0, 500) };
    // A D1 failure is logged where it happens; /healthz then shows the state before it.
    await writeChainState(this.db, coin, patch).catch(() => undefined);
  }

  /** Logs when the watcher starts or stops taking the node's word, not on every tick in between. */
  private noteBehind(coin: Coin, source: ChainFollower, behind: string | null): void {
    if (behind === this.behind) return;
    const ticker = tickerOf(coin);
    if (behind !== null) console.warn(`${ticker} watcher at ${source.node()}: ${behind}; nothing is taken from it until it catches up`);
    else console.info(`${ticker} watcher at ${source.node()}: the node caught up`);
    this.behind = behind;
  }

  private followerFor(coin: Coin): ChainFollower | null {
    if (!this.followers.has(coin)) {
      const runtime = coinRuntime(this.env, coin);
      // Every HTTP request to the node is timed (for /healthz) and counted (for the subrequest budget).
      const timed = <R>(call: () => Promise<R>) => this.wait.time(call);
      const source = runtime?.source?.(timed);
      this.followers.set(coin, runtime?.follower?.(timed) ?? (source ? blockFollower(source, BLOCKS) : null));
    }
    return this.followers.get(coin)!;
  }
}

/** A followed step, with the accounts that have yet to take it and what to store once they all have. */
interface PendingStep {
  cursor: StoredCursor;
  state: ChainStatePatch;
  /** The step's batches: one for every account by view key, one per account by address. */
  batches: ChainBatch[];
  /** Each account still to call, with the index of its batch. */
  deliveries: [UserId, number][];
}

/** The cursor as stored, with the kind of follower that wrote it. */
interface StoredCursor {
  kind: string;
  cursor: unknown;
}

/**
 * The stored cursor if `kind` wrote it; undefined for a fresh start. Cursors stored before kinds existed
 * are block cursors: a watcher upgraded while behind goes on where it was, skipping nothing.
 */
function cursorOf(stored: unknown, kind: string): unknown {
  if (stored === undefined || stored === null) return undefined;
  if (typeof stored === "object" && "kind" in stored && "cursor" in stored) return stored.kind === kind ? stored.cursor : undefined;
  return kind === "blocks" ? stored : undefined;
}

/** A tick that did not complete: why, at which node, and whether anything was watched. */
class TickFailed extends Error {
  constructor(
    override readonly cause: unknown,
    readonly node: string,
    readonly watching: boolean,
  ) {
    super(messageOf(cause));
    this.name = "TickFailed";
  }
}

/** Accounts that did not take a batch; each is retried with the whole tick. */
class DeliveryFailed extends Error {
  constructor(reasons: unknown[], of: number) {
    super(`${reasons.length} of ${of} accounts did not take the batch (first: ${messageOf(reasons[0])})`);
    this.name = "DeliveryFailed";
  }
}

/** Failures that are part of running against nodes and accounts: logged as one line, no stack. */
function isExpected(cause: unknown): boolean {
  return cause instanceof NodeError || cause instanceof DeliveryFailed || cause instanceof ApiError;
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** What a node's answer to a look says: its tip, that it passed the network check, and whether it is behind. */
function nodeAnswered(node: NodeTip, at: number, behind: string | null): ChainStatePatch {
  return {
    tipHeight: node.height,
    checkedAt: at,
    network: node.network,
    expectedNetwork: null,
    nodeBehind: behind,
    lastError: null,
    features: node.features ? JSON.stringify(node.features) : null,
  };
}
