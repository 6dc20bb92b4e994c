// Which scan shard holds which user: ceil(users / per shard) shards, a user's shard fixed by a hash
// of its id, so a shard's users (and their keys in its memory) stay put while the count does.

import { fnv1a } from "../domain/hash";
import type { UserId } from "../domain/ids";

export function shardCount(users: number, perShard: number): number {
  return Math.max(1, Math.ceil(users / Math.max(1, perShard)));
}

/** By FNV-1a of the id: cheap, stable across deployments, spread evenly over UUIDs. */
export function shardOf(userId: UserId, count: number): number {
  return fnv1a(userId) % count;
}

/** The users grouped by shard index; shards with no user are left out. */
export function byShard<T extends { userId: UserId }>(items: readonly T[], count: number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const item of items) {
    const k = shardOf(item.userId, count);
    (out.get(k) ?? out.set(k, []).get(k)!).push(item);
  }
  return out;
}
