// Per-coin watcher progress, shared through D1: the user accounts read it before expiring an
// invoice, /healthz reports it.

import { eq } from "drizzle-orm";
import type { Coin } from "../domain/coins";
import { query, type Db } from "./client";
import { chainState } from "./schema";

export type ChainStateRow = typeof chainState.$inferSelect;

export async function readChainState(db: Db, coin: Coin): Promise<ChainStateRow | undefined> {
  return query("read chain state", () => db.select().from(chainState).where(eq(chainState.coin, coin)).get());
}

export async function readAllChainStates(db: Db): Promise<ChainStateRow[]> {
  return query("read chain states", () => db.select().from(chainState).all());
}

export type ChainStatePatch = Partial<Omit<ChainStateRow, "coin" | "updatedAt">>;

/** Sets the given fields of a coin's row (created on first use); the others keep their values. */
export async function writeChainState(db: Db, coin: Coin, patch: ChainStatePatch, now = Date.now()): Promise<void> {
  await query("write chain state", () =>
    db
      .insert(chainState)
      .values({ ...patch, coin, updatedAt: now })
      .onConflictDoUpdate({ target: chainState.coin, set: { ...patch, updatedAt: now } }),
  );
}
