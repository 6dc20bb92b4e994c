// ChainWatcher: one Durable Object per coin that polls the coin's node while anything is watched.
// Each tick reads new blocks (bounded, never skipping one), detects reorgs by parent hash, reads new
// pool txs and hands everything to the user accounts that watch invoices of the coin.

import { DurableObject } from "cloudflare:workers";
import type { ChainBatch, ChainSource, NodeTip } from "../chains/adapter";
import { emptyCursor, followChain, type ChainCursor } from "../chains/follow";
import { WrongNetworkError } from "../chains/network-check";
import { chainSource, pollIntervalMs } from "../chains/registry";
import { monitoringMs } from "../config";
import { writeChainState, type ChainStatePatch } from "../db/chain-state";
import { database, type Db } from "../db/client";
import { anyWatchedInvoice, watchedUsers } from "../db/invoices";
import { Coin, parseCoin } from "../domain/coins";
import type { UserId } from "../domain/ids";
import type { Env } from "../env";
import { SerialQueue } from "./serial";

/** Blocks read per tick at most: catch-up after downtime proceeds over several ticks. */
const MAX_BLOCKS_PER_TICK = 20;
/** Recent blocks remembered for reorg detection. */
const CURSOR_DEPTH = 20;
const MAX_BACKOFF_MS = 60_000;
/** User accounts called at once (Workers allow 6 open connections per invocation). */
const FANOUT = 6;

const CURSOR_KEY = "cursor";
const COIN_KEY = "coin";
const FAILURES_KEY = "failures";

export class ChainWatcher extends DurableObject<Env> {
  private readonly db: Db;
  private readonly queue = new SerialQueue();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = database(env.DB);
  }

  /** Idempotent "make sure you are polling": called on invoice creation and by the cron watchdog. */
  async ensurePolling(coin: Coin): Promise<void> {
    await this.ctx.storage.put(COIN_KEY, coin);
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null) await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const coin = parseCoin((await this.ctx.storage.get<number>(COIN_KEY)) ?? -1);
    if (coin === null) return;
    const interval = pollIntervalMs(this.env, coin);
    try {
      const keepPolling = await this.tick(coin);
      await this.ctx.storage.delete(FAILURES_KEY);
      if (keepPolling) await this.ctx.storage.setAlarm(Date.now() + interval);
    } catch (cause) {
      const failures = ((await this.ctx.storage.get<number>(FAILURES_KEY)) ?? 0) + 1;
      await this.ctx.storage.put(FAILURES_KEY, failures);
      console.error(`${Coin[coin]} watcher tick failed (${failures} in a row)`, cause);
      await this.ctx.storage.setAlarm(Date.now() + Math.min(MAX_BACKOFF_MS, interval * 2 ** Math.min(failures, 6)));
    }
  }

  /**
   * One look at the chain, one at a time; what it saw, or why it failed, goes to chain_state.
   * Returns whether to keep polling (something is watched).
   */
  async tick(coin: Coin, source: ChainSource | null = chainSource(this.env, coin)): Promise<boolean> {
    return this.queue.run(async () => {
      try {
        return await this.look(coin, source);
      } catch (cause) {
        await this.recordFailure(coin, cause);
        throw cause;
      }
    });
  }

  private async look(coin: Coin, source: ChainSource | null): Promise<boolean> {
    if (!source) return false;
    const startedAt = Date.now();
    const closedAfter = startedAt - monitoringMs(this.env);
    if (!(await anyWatchedInvoice(this.db, coin, closedAfter))) {
      // Nothing to watch: forget the position (payments to invoices created later can only come
      // later), but look at the node, so /healthz and CreateInvoice know whether it may be followed.
      await this.ctx.storage.delete(CURSOR_KEY);
      const node = await source.tip();
      await writeChainState(this.db, coin, { ...nodeAnswered(node, startedAt), cursorHeight: null });
      return false;
    }
    const stored = (await this.ctx.storage.get<ChainCursor>(CURSOR_KEY)) ?? emptyCursor();
    const { step, cursor, node } = await followChain(source, stored, { now: startedAt, maxBlocks: MAX_BLOCKS_PER_TICK, depth: CURSOR_DEPTH });
    // Whom to deliver to is read only now: a user whose first invoice was created while the chain was
    // being read may already have its payer's tx in this step's pool, which is never delivered again.
    const users = await watchedUsers(this.db, coin, closedAfter);
    await this.deliver(users, { coin, ...step });
    await this.ctx.storage.put(CURSOR_KEY, cursor);
    await writeChainState(this.db, coin, {
      ...nodeAnswered(node, startedAt),
      cursorHeight: cursor.blocks.at(-1)?.height ?? null,
      scannedThrough: cursor.scannedThrough,
    });
    return true;
  }

  /** Every user must take the batch; one failure fails the tick so nothing advances past it. */
  private async deliver(users: UserId[], batch: ChainBatch): Promise<void> {
    // No block, no reorg and no pool change means the tip is the one already delivered: the
    // accounts learn the new scan time from D1 when their expiry needs it.
    const quiet = batch.blocks.length === 0 && batch.mempool.length === 0 && batch.gone.length === 0 && batch.orphanedAbove === null;
    if (quiet) return;
    const failures: unknown[] = [];
    for (let i = 0; i < users.length; i += FANOUT) {
      const group = users.slice(i, i + FANOUT);
      const results = await Promise.allSettled(
        group.map((u) => this.env.USER_ACCOUNT.get(this.env.USER_ACCOUNT.idFromName(u)).applyChainBatch(u, batch)),
      );
      for (const r of results) if (r.status === "rejected") failures.push(r.reason);
    }
    if (failures.length > 0) throw new AggregateError(failures, `${failures.length} of ${users.length} accounts did not take the batch`);
  }

  private async recordFailure(coin: Coin, cause: unknown): Promise<void> {
    const patch: ChainStatePatch =
      cause instanceof WrongNetworkError
        ? { network: cause.network, expectedNetwork: cause.expected, checkedAt: Date.now(), lastError: null }
        : { lastError: String((cause as Error)?.message ?? cause).slice(0, 500) };
    // A D1 failure is logged where it happens; /healthz then shows the state before it.
    await writeChainState(this.db, coin, patch).catch(() => undefined);
  }
}

/** What a node's answer to a look says: its tip, and that it passed the network check. */
function nodeAnswered(node: NodeTip, at: number): ChainStatePatch {
  return { tipHeight: node.height, checkedAt: at, network: node.network, expectedNetwork: null, lastError: null };
}
