// Scan holds: a user whose shard still owes its account batches. The account's expiry reads the
// earliest hold with the chain's scan time and never expires past it (see schema.scanHolds).

import { and, countDistinct, eq, inArray, min, ne } from "drizzle-orm";
import type { Coin } from "../domain/coins";
import type { UserId } from "../domain/ids";
import { inChunks, query, transaction, type Db } from "./client";
import { scanHolds } from "./schema";

/** Holds each user's expiry before its time, in one D1 batch; an existing, earlier hold of the shard stays. */
export async function holdScans(db: Db, coin: Coin, shard: string, holds: readonly (readonly [UserId, number])[], now: number): Promise<void> {
  if (holds.length === 0) return;
  const statements = holds.map(([userId, heldBefore]) =>
    db.insert(scanHolds).values({ coin, userId, shard, heldBefore, updatedAt: now }).onConflictDoNothing(),
  );
  await transaction("hold scans", () => db.batch(statements as unknown as Parameters<Db["batch"]>[0]));
}

export async function releaseScans(db: Db, coin: Coin, shard: string, users: readonly UserId[]): Promise<void> {
  if (users.length === 0) return;
  const statements = users.map((userId) =>
    db.delete(scanHolds).where(and(eq(scanHolds.coin, coin), eq(scanHolds.userId, userId), eq(scanHolds.shard, shard))),
  );
  await transaction("release scans", () => db.batch(statements as unknown as Parameters<Db["batch"]>[0]));
}

/**
 * Users that another shard still owes batches (they changed shard with the shard count), with the
 * earliest of those holds: this shard queues theirs behind older steps, so an account never takes
 * a newer step before an older one.
 */
export async function otherShardsHolds(db: Db, coin: Coin, shard: string, users: readonly UserId[]): Promise<Map<UserId, number>> {
  const rows = await inChunks(users, (chunk) =>
    query("read other shards' holds", () =>
      db
        .select({ userId: scanHolds.userId, heldBefore: min(scanHolds.heldBefore) })
        .from(scanHolds)
        .where(and(eq(scanHolds.coin, coin), ne(scanHolds.shard, shard), inArray(scanHolds.userId, chunk)))
        .groupBy(scanHolds.userId)
        .all(),
    ),
  );
  return new Map(rows.flatMap((r) => (r.heldBefore === null ? [] : [[r.userId as UserId, r.heldBefore] as const])));
}

/** The time before which everything reached the user's account, or null when nothing is held back. */
export async function scanHeldBefore(db: Db, coin: Coin, userId: UserId): Promise<number | null> {
  const row = await query("read scan hold", () =>
    db
      .select({ heldBefore: min(scanHolds.heldBefore) })
      .from(scanHolds)
      .where(and(eq(scanHolds.coin, coin), eq(scanHolds.userId, userId)))
      .get(),
  );
  return row?.heldBefore ?? null;
}

/** Per coin: how many accounts a shard still owes batches, and the earliest hold (for /healthz). */
export async function heldAccountsByCoin(db: Db): Promise<Map<Coin, { accounts: number; since: number }>> {
  const rows = await query("read scan holds per coin", () =>
    db
      .select({ coin: scanHolds.coin, accounts: countDistinct(scanHolds.userId), since: min(scanHolds.heldBefore) })
      .from(scanHolds)
      .groupBy(scanHolds.coin)
      .all(),
  );
  return new Map(rows.map((r) => [r.coin as Coin, { accounts: r.accounts, since: r.since ?? 0 }]));
}
