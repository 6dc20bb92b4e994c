// ChainWatcher: one Durable Object per coin that polls the coin's node while anything is watched.
// Each tick reads new blocks (bounded, never skipping one), detects reorgs by block hashes, reads new
// pool txs and hands each step to the scan shards of the users that watch invoices of the coin (the
// shards call the accounts). It takes nothing from a node on another network or behind what it saw,
// and looks at the node even when idle.

import { DurableObject } from "cloudflare:workers";
import { withOnlyTxs, type ChainBatch, type ChainSource, type NodeTip } from "../chains/adapter";
import { nodeBehind } from "../chains/follow";
import { blockFollower, type ChainFollower } from "../chains/follower";
import { WrongNetworkError } from "../chains/network-check";
import { NodeError } from "../chains/node-error";
import { chainAdapter, coinModule, coinRuntime, pollIntervalMs } from "../chains/registry";
import { monitoringMs, scanShardUsers, subrequestBudget } from "../config";
import { writeChainState, type ChainStatePatch } from "../db/chain-state";
import { database, type Db } from "../db/client";
import { anyWatchedInvoice, usersWithOpenPayments, watchedAddresses, watchedKeys, watchedMatchKeys, type WatchedKeys } from "../db/invoices";
import { Coin, parseCoin, tickerOf } from "../domain/coins";
import { ApiError, messageOf } from "../domain/errors";
import type { UserId } from "../domain/ids";
import type { Env } from "../env";
import { deleteChunked, getChunked, putChunked } from "./chunked-storage";
import { NodeWait } from "./node-wait";
import { retryDelayMs } from "./retry-delay";
import { fanOut } from "./fan-out";
import { SerialQueue } from "./serial";
import { byShard, shardCount, shardOf } from "./shards";
import { countTicks } from "./tick-stats";

/**
 * Following a node block by block: catch-up after downtime proceeds over several ticks of 20 blocks, the
 * last 20 are remembered for reorg detection, and a big pool is read 1,000 new txs per tick (10 batches).
 */
const BLOCKS = { maxBlocks: 20, depth: 20, maxPoolTxs: 1000 };

/** D1 queries a tick makes at most besides shard calls (watched?, whom, open payments, chain_state, failure). */
const D1_QUERIES_PER_TICK = 8;

/** The cursor (chunked-storage: a node's pool can make it bigger than one storage value). */
const CURSOR_KEY = "cursor";
/** A step not yet taken by every shard it is for (PendingStep). */
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
   * `subrequests` and `usersPerShard` (tests) stand for the SUBREQUEST_BUDGET and SCAN_SHARD_USERS settings.
   */
  async tick(coin: Coin, source?: ChainSource, subrequests = subrequestBudget(this.env), usersPerShard = scanShardUsers(this.env)): Promise<boolean> {
    return this.queue.run(async () => {
      const follower = source ? blockFollower(this.wait.watch(source), BLOCKS) : this.followerFor(coin);
      if (!follower) return false;
      const state = { watching: true };
      const callsBefore = this.wait.calls;
      // What is left for shard calls once the node and D1 had theirs; at least one, so every tick moves on.
      const room = () => Math.max(1, subrequests - D1_QUERIES_PER_TICK - (this.wait.calls - callsBefore));
      this.more = false;
      try {
        return await this.look(coin, follower, state, room, usersPerShard);
      } catch (cause) {
        await this.recordFailure(coin, cause);
        throw new TickFailed(cause, follower.node(), state.watching);
      }
    });
  }

  private async look(coin: Coin, follower: ChainFollower, state: { watching: boolean }, room: () => number, usersPerShard: number): Promise<boolean> {
    // A step some shards have not taken yet comes first: the chain is read again only after it.
    const pending = storedStep(await getChunked(this.ctx.storage, PENDING_KEY));
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
    const { batches, tasks } = await this.shardTasks(coin, { coin, ...step }, tipMoved, closedAfter, listed, usersPerShard);
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
      tasks,
    };
    return this.deliverStep(coin, whole, room(), true);
  }

  /**
   * Calls as many of the step's shards as `room` allows. The cursor and chain_state move only once
   * every shard took the step (a shard has taken it once each of its accounts either took its batch
   * or has it queued in the shard with its expiry held); until then the rest (and any shard that
   * failed) is kept under PENDING_KEY and the next tick goes on with it, before it reads the chain
   * again. Nothing is skipped, and one account that cannot take a batch holds back nobody else.
   */
  private async deliverStep(coin: Coin, step: PendingStep, room: number, fresh: boolean): Promise<boolean> {
    const now = step.tasks.slice(0, room);
    const later = step.tasks.slice(room);
    // A fresh step that does not fit is stored whole first: an interrupted tick then loses nobody.
    if (fresh && later.length > 0) await putChunked(this.ctx.storage, PENDING_KEY, step);
    const failed = await this.deliver(coin, step, now);
    const left = [...now.filter((t) => failed.has(t.shard)), ...later];
    if (left.length === 0) {
      await putChunked(this.ctx.storage, CURSOR_KEY, step.cursor);
      if (!fresh || later.length > 0) await deleteChunked(this.ctx.storage, PENDING_KEY);
      await writeChainState(this.db, coin, step.state);
      return true;
    }
    await putChunked(this.ctx.storage, PENDING_KEY, { ...step, tasks: left } satisfies PendingStep);
    if (failed.size > 0) throw new DeliveryFailed([...failed.values()], now.length);
    this.more = true;
    return true;
  }

  /**
   * Who gets what of a step, as one task per shard with work. By view key, every shard of a watching
   * user scans the step's txs for its users, and gets, without txs to scan, only the users whose open
   * payments the step's news (new blocks, reorg, vanished txs) can change. By address, the outputs are
   * matched here against the watched match keys, and a shard gets only its users with a paying tx or
   * open payments, each with only its txs. Calls grow with shards that have work, never with users.
   */
  private async shardTasks(
    coin: Coin,
    batch: ChainBatch,
    tipMoved: boolean,
    closedAfter: number,
    listed: Map<string, UserId> | null,
    usersPerShard: number,
  ): Promise<{ batches: ChainBatch[]; tasks: ShardTask[] }> {
    const news = tipMoved || batch.blocks.length > 0 || batch.gone.length > 0 || batch.orphanedAbove !== null;
    const txs = batch.mempool.length + batch.blocks.reduce((n, b) => n + b.txs.length, 0);
    // Nothing new on the chain and in the pool: the accounts learn the new scan time from D1 when
    // their expiry needs it.
    if (!news && batch.mempool.length === 0) return { batches: [], tasks: [] };
    const adapter = chainAdapter(this.env, coin);
    const affected = news ? await usersWithOpenPayments(this.db, coin) : [];
    const tasks = new Map<number, ShardTask>();
    const taskOf = (k: number, count: number): ShardTask =>
      tasks.get(k) ?? tasks.set(k, { shard: this.shardName(k, count), whole: null, scan: [], affected: [], direct: [] }).get(k)!;

    if (coinModule(coin)?.matching !== "address" || !adapter?.outputMatchKeys) {
      const watched = await watchedKeys(this.db, coin, closedAfter);
      const watching = new Set(watched.map((w) => w.userId));
      const count = shardCount(watching.size, usersPerShard);
      // Every shard scans the txs, if there are any; the news alone goes only where it matters.
      if (txs > 0) for (const [k, users] of byShard(watched, count)) taskOf(k, count).scan.push(...users);
      for (const user of affected) if (watching.has(user)) taskOf(shardOf(user, count), count).affected.push(user);
      for (const t of tasks.values()) t.whole = 0;
      return { batches: tasks.size > 0 ? [batch] : [], tasks: [...tasks.values()] };
    }

    const watched = listed ?? (await watchedMatchKeys(this.db, coin, closedAfter));
    const count = shardCount(new Set(watched.values()).size, usersPerShard);
    const paid = new Map<UserId, Set<string>>();
    for (const tx of [...batch.blocks.flatMap((b) => b.txs), ...batch.mempool]) {
      for (const key of adapter.outputMatchKeys(tx)) {
        const user = watched.get(key);
        if (user) (paid.get(user) ?? paid.set(user, new Set()).get(user)!).add(tx.hash);
      }
    }
    const batches: ChainBatch[] = [];
    for (const user of new Set([...paid.keys(), ...affected])) {
      batches.push(withOnlyTxs(batch, paid.get(user) ?? new Set()));
      taskOf(shardOf(user, count), count).direct.push([user, batches.length - 1]);
    }
    return { batches, tasks: [...tasks.values()] };
  }

  /** Hands each task to its shard; returns the shards that did not take it, with why. */
  private deliver(coin: Coin, step: PendingStep, tasks: readonly ShardTask[]): Promise<Map<string, unknown>> {
    return fanOut(
      tasks,
      (t) => t.shard,
      (t) =>
        this.env.SCAN_SHARD.get(this.env.SCAN_SHARD.idFromName(t.shard)).take({
          coin,
          shard: t.shard,
          batch: t.whole === null ? null : step.batches[t.whole]!,
          scan: t.scan,
          affected: t.affected,
          direct: t.direct.map(([user, k]) => [user, step.batches[k]!]),
        }),
    );
  }

  /** A shard's name: this watcher's own id (one per coin), the shard and the count it is one of. */
  private shardName(k: number, count: number): string {
    return `${this.ctx.id.toString()}:${k}/${count}`;
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

/** A followed step, with the shards that have yet to take it and what to store once they all have. */
interface PendingStep {
  cursor: StoredCursor;
  state: ChainStatePatch;
  /** The step's batches: the whole one by view key, one per user by address. */
  batches: ChainBatch[];
  tasks: ShardTask[];
}

/** One shard's part of a step (batches by index into PendingStep.batches). */
interface ShardTask {
  shard: string;
  /** By view key: the batch the shard scans for `scan`'s users and cuts for `affected`'s. */
  whole: number | null;
  scan: WatchedKeys[];
  affected: UserId[];
  /** By address: each user's own batch. */
  direct: [UserId, number][];
}

/**
 * A pending step as stored. One stored before shards (accounts called directly, `deliveries`) becomes
 * one task with those accounts' batches, delivered by a shard like any other: nobody is skipped.
 */
function storedStep(stored: unknown): PendingStep | undefined {
  if (stored === undefined || stored === null) return undefined;
  const step = stored as PendingStep & { deliveries?: [UserId, number][] };
  if (step.tasks) return step;
  return { ...step, tasks: [{ shard: "upgrade:0/1", whole: null, scan: [], affected: [], direct: step.deliveries ?? [] }] };
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

/** Shards that did not take a step; each is retried with the whole tick. */
class DeliveryFailed extends Error {
  constructor(reasons: unknown[], of: number) {
    super(`${reasons.length} of ${of} shards did not take the step (first: ${messageOf(reasons[0])})`);
    this.name = "DeliveryFailed";
  }
}

/** Failures that are part of running against nodes and accounts: logged as one line, no stack. */
function isExpected(cause: unknown): boolean {
  return cause instanceof NodeError || cause instanceof DeliveryFailed || cause instanceof ApiError;
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
