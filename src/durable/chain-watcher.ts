// ChainWatcher: one Durable Object per coin that polls the coin's node while anything is watched.
// Each tick reads new blocks (bounded, never skipping one), detects reorgs by parent hash, reads new
// pool txs and hands everything to the user accounts that watch invoices of the coin.

import { DurableObject } from "cloudflare:workers";
import type { ChainBatch, ChainBlock, ChainSource, ChainTx } from "../chains/adapter";
import { chainSource, pollIntervalMs } from "../chains/registry";
import { monitoringMs } from "../config";
import { readChainState, writeChainState } from "../db/chain-state";
import { database, type Db } from "../db/client";
import { watchedUsers } from "../db/invoices";
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

interface CursorBlock {
  height: number;
  hash: string;
  txs: string[];
}

/** The chain position this watcher has fully delivered, kept in DO storage. */
interface Cursor {
  /** Oldest first; the last entry is the highest fully processed block. */
  blocks: CursorBlock[];
  /** Pool txs already delivered. */
  poolSeen: string[];
  /** Start time of the last tick that was caught up with the tip and the pool. */
  scannedThrough: number;
}

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
      const keepPolling = await this.queue.run(() => this.tick(coin));
      await this.ctx.storage.delete(FAILURES_KEY);
      if (keepPolling) await this.ctx.storage.setAlarm(Date.now() + interval);
    } catch (cause) {
      const failures = ((await this.ctx.storage.get<number>(FAILURES_KEY)) ?? 0) + 1;
      await this.ctx.storage.put(FAILURES_KEY, failures);
      console.error(`${Coin[coin]} watcher tick failed (${failures} in a row)`, cause);
      await this.recordError(coin, cause);
      await this.ctx.storage.setAlarm(Date.now() + Math.min(MAX_BACKOFF_MS, interval * 2 ** Math.min(failures, 6)));
    }
  }

  /** One poll. Returns whether to keep polling (something is watched). */
  async tick(coin: Coin): Promise<boolean> {
    const tickStart = Date.now();
    const users = await watchedUsers(this.db, coin, tickStart - monitoringMs(this.env));
    const source = chainSource(this.env, coin);
    if (users.length === 0 || !source) {
      // Nothing to watch: forget the position; payments to invoices created later can only come later.
      await this.ctx.storage.delete(CURSOR_KEY);
      return false;
    }
    const tip = await source.tipHeight();
    const stored = await this.ctx.storage.get<Cursor>(CURSOR_KEY);
    const cursor: Cursor = stored ?? { blocks: [], poolSeen: [], scannedThrough: 0 };
    const blocks: ChainBlock[] = [];
    let orphanedAbove: number | null = null;
    const suspects = new Set<string>();
    const rollBack = async () => {
      const fork = await this.findFork(source, cursor, tip);
      for (const b of cursor.blocks) if (b.height > fork) b.txs.forEach((t) => suspects.add(t));
      cursor.blocks = cursor.blocks.filter((b) => b.height <= fork);
      while (blocks.length > 0 && blocks.at(-1)!.height > fork) blocks.pop();
      orphanedAbove = Math.min(orphanedAbove ?? fork, fork);
      return fork + 1;
    };

    // A reorg to a chain no longer than ours shows no new block: compare our top with the node's.
    const top = cursor.blocks.at(-1);
    if (top && (top.height > tip || (top.height === tip && (await source.blockHash(tip)) !== top.hash))) await rollBack();
    // A fresh start begins at the tip block: payments to invoices created now can only come now.
    let next = (cursor.blocks.at(-1)?.height ?? tip - 1) + 1;
    while (next <= tip && blocks.length < MAX_BLOCKS_PER_TICK) {
      const block = await source.block(next);
      const parent = cursor.blocks.at(-1);
      if (parent && parent.hash !== block.prevHash) {
        next = await rollBack();
        continue;
      }
      blocks.push(block);
      cursor.blocks.push({ height: block.height, hash: block.hash, txs: block.txs.map((t) => t.hash) });
      next += 1;
    }
    for (const b of blocks) b.txs.forEach((t) => suspects.delete(t.hash));
    const caughtUp = next > tip;

    // The pool only makes sense against a chain we are level with.
    let mempool: ChainTx[] = [];
    let gone: string[] = [];
    let poolSeen = cursor.poolSeen;
    if (caughtUp) {
      const pool = await source.poolHashes();
      const poolSet = new Set(pool);
      const seen = new Set(cursor.poolSeen);
      const fresh = pool.filter((h) => !seen.has(h) || suspects.has(h));
      const { txs, doubtful } = await source.poolTxs(fresh);
      mempool = txs;
      const minedNow = new Set(blocks.flatMap((b) => b.txs.map((t) => t.hash)));
      const vanished = [...new Set([...cursor.poolSeen, ...suspects])].filter((h) => !poolSet.has(h) && !minedNow.has(h));
      const status = await source.txStatus(vanished);
      gone = vanished.filter((h) => status.get(h) === "missing");
      // Double-spend-flagged txs are looked at again next tick; they never count while flagged.
      const doubtfulSet = new Set(doubtful);
      poolSeen = pool.filter((h) => !doubtfulSet.has(h) && (seen.has(h) || txs.some((t) => t.hash === h)));
      gone.push(...doubtful.filter((h) => seen.has(h)));
    }

    const batch: ChainBatch = {
      coin,
      tipHeight: tip,
      orphanedAbove,
      blocks,
      mempool,
      gone,
      scannedThrough: caughtUp ? tickStart : cursor.scannedThrough,
      observedAfter: cursor.scannedThrough,
    };
    await this.deliver(users, batch);

    cursor.blocks = cursor.blocks.slice(-CURSOR_DEPTH);
    cursor.poolSeen = poolSeen;
    cursor.scannedThrough = batch.scannedThrough;
    await this.ctx.storage.put(CURSOR_KEY, cursor);
    await writeChainState(this.db, {
      coin,
      tipHeight: tip,
      cursorHeight: cursor.blocks.at(-1)?.height ?? null,
      scannedThrough: cursor.scannedThrough,
      lastError: null,
      updatedAt: Date.now(),
    });
    return true;
  }

  /** Highest height at which our stored hash is still on the node's chain. */
  private async findFork(source: ChainSource, cursor: Cursor, tip: number): Promise<number> {
    for (let i = cursor.blocks.length - 1; i >= 0; i--) {
      const b = cursor.blocks[i]!;
      if (b.height <= tip && (await source.blockHash(b.height)) === b.hash) return b.height;
    }
    // Deeper than we remember: re-process from just below the oldest remembered block.
    return (cursor.blocks[0]?.height ?? 1) - 1;
  }

  /** Every user must take the batch; one failure fails the tick so nothing advances past it. */
  private async deliver(users: UserId[], batch: ChainBatch): Promise<void> {
    const quiet = batch.blocks.length === 0 && batch.mempool.length === 0 && batch.gone.length === 0 && batch.orphanedAbove === null;
    const last = await readChainState(this.db, batch.coin);
    // Nothing new and the tip unchanged: the users learn the scan time from D1 when they need it.
    if (quiet && last?.tipHeight === batch.tipHeight) return;
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

  private async recordError(coin: Coin, cause: unknown): Promise<void> {
    try {
      const state = await readChainState(this.db, coin);
      await writeChainState(this.db, {
        coin,
        tipHeight: state?.tipHeight ?? null,
        cursorHeight: state?.cursorHeight ?? null,
        scannedThrough: state?.scannedThrough ?? 0,
        lastError: String((cause as Error)?.message ?? cause).slice(0, 500),
        updatedAt: Date.now(),
      });
    } catch {
      // already logged; health shows the stale state
    }
  }
}
