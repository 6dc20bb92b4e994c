// Watch-only key sets per user and coin. Rows are never deleted: a key set that comes back keeps
// its derivation counter, so no address is handed out twice.

import { and, eq, inArray } from "drizzle-orm";
import type { Coin } from "../domain/coins";
import type { UserId } from "../domain/ids";
import { inChunks, query, type Db } from "./client";
import { keySets } from "./schema";

export type KeySetRow = typeof keySets.$inferSelect;

export async function keySetByFingerprint(db: Db, coin: Coin, fingerprint: string): Promise<KeySetRow | undefined> {
  return query("find key set", () =>
    db
      .select()
      .from(keySets)
      .where(and(eq(keySets.coin, coin), eq(keySets.fingerprint, fingerprint)))
      .get(),
  );
}

export async function keySetsById(db: Db, userId: UserId): Promise<Map<number, KeySetRow>> {
  const rows = await query("list key sets", () => db.select().from(keySets).where(eq(keySets.userId, userId)).all());
  return new Map(rows.map((r) => [r.id, r]));
}

/** Statements that make `fingerprint` the user's active key set for the coin (insert or reactivate). */
export function activateKeySetStatements(
  db: Db,
  input: { userId: UserId; coin: Coin; fingerprint: string; publicKeys: string; sealedSecret: string | null; firstIndex: number; existingId?: number },
  now: number,
) {
  const deactivate = db
    .update(keySets)
    .set({ active: false, updatedAt: now })
    .where(and(eq(keySets.userId, input.userId), eq(keySets.coin, input.coin), eq(keySets.active, true)));
  const activate =
    input.existingId === undefined
      ? db.insert(keySets).values({
          userId: input.userId,
          coin: input.coin,
          fingerprint: input.fingerprint,
          publicKeys: input.publicKeys,
          sealedSecret: input.sealedSecret,
          nextIndex: input.firstIndex,
          active: true,
          createdAt: now,
          updatedAt: now,
        })
      : db
          .update(keySets)
          .set({ active: true, sealedSecret: input.sealedSecret, publicKeys: input.publicKeys, updatedAt: now })
          .where(eq(keySets.id, input.existingId));
  return [deactivate, activate] as const;
}

export function bumpNextIndexStatement(db: Db, keySetId: number, nextIndex: number, now: number) {
  return db.update(keySets).set({ nextIndex, updatedAt: now }).where(eq(keySets.id, keySetId));
}

/** Key set rows by id (a scan shard opening its users' keys). */
export function keySetsByIds(db: Db, ids: readonly number[]): Promise<KeySetRow[]> {
  return inChunks(ids, (chunk) => query("get key sets", () => db.select().from(keySets).where(inArray(keySets.id, chunk)).all()));
}
