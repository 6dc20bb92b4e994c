// Which scan shard holds which user: as many shards as the users need, each user's shard fixed by
// its id, users spread evenly.
import { describe, expect, it } from "vitest";
import type { UserId } from "../../src/domain/ids";
import { byShard, shardCount, shardOf } from "../../src/durable/shards";

const users = (n: number) => Array.from({ length: n }, () => crypto.randomUUID() as UserId);

describe("scan shards", () => {
  it("runs ceil(users / per shard) shards, and at least one", () => {
    expect([shardCount(0, 200), shardCount(1, 200), shardCount(200, 200), shardCount(201, 200), shardCount(10_000, 200)]).toEqual([1, 1, 1, 2, 50]);
  });

  it("puts a user in the same shard every time, whoever else is watching", () => {
    const u = "5b0e7c1e-8a8e-4b52-9d43-0a3f0f4a2f11" as UserId;
    expect(shardOf(u, 50)).toBe(shardOf(u, 50));
    expect(shardOf(u, 1)).toBe(0);
    expect(shardOf(u, 50)).toBeGreaterThanOrEqual(0);
    expect(shardOf(u, 50)).toBeLessThan(50);
  });

  it("spreads 10,000 users over 50 shards within 30% of 200 each", () => {
    const groups = byShard(users(10_000).map((userId) => ({ userId })), 50);
    expect(groups.size).toBe(50);
    for (const g of groups.values()) {
      expect(g.length).toBeGreaterThan(140);
      expect(g.length).toBeLessThan(260);
    }
  });

  it("groups every user exactly once", () => {
    const all = users(1000);
    const groups = byShard(all.map((userId) => ({ userId })), 7);
    const flat = [...groups.values()].flat().map((x) => x.userId);
    expect(flat.sort()).toEqual([...all].sort());
    for (const [k, g] of groups) for (const { userId } of g) expect(shardOf(userId, 7)).toBe(k);
  });
});
