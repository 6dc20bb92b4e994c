// Following a chain: blocks in order and never skipped, reorgs of every shape, and the pool's new,
// mined, dropped and double-spent txs. The chain here is an in-memory model of a node's view.
import { describe, expect, it } from "vitest";
import { emptyCursor, followChain, type ChainCursor } from "../../src/chains/follow";
import { ModelChain } from "../support/model-chain";

/** Follows step by step, keeping the cursor as the watcher does after a successful delivery. */
function follower(chain: ModelChain, maxBlocks = 20, maxPoolTxs?: number) {
  let cursor: ChainCursor = emptyCursor();
  let clock = 1000;
  return {
    get cursor() {
      return cursor;
    },
    async step() {
      chain.calls = [];
      const r = await followChain(chain, cursor, { now: (clock += 1000), maxBlocks, depth: 20, maxPoolTxs });
      cursor = r.cursor;
      return { ...r.step, behind: r.behind, heights: r.step.blocks.map((b) => b.height), pool: r.step.mempool.map((t) => t.hash) };
    },
  };
}

describe("followChain", () => {
  it("starts with the last `depth` blocks up to the tip, and reads the pool", async () => {
    const chain = new ModelChain();
    chain.mine(5);
    chain.send("t1");
    const f = follower(chain);
    const s = await f.step();
    expect(s).toMatchObject({ heights: [0, 1, 2, 3, 4, 5], pool: ["t1"], tipHeight: 5, orphanedAbove: null, scannedThrough: 2000, observedAfter: 0 });
  });

  it("reads a pool larger than a step allows over several steps, each tx once, and moves the scan time only once it was read whole", async () => {
    const chain = new ModelChain();
    chain.mine(2);
    for (let i = 0; i < 25; i++) chain.send(`p${i}`);
    const f = follower(chain, 20, 10);
    const steps = [await f.step(), await f.step(), await f.step()];
    expect(steps.map((s) => s.pool.length)).toEqual([10, 10, 5]);
    expect(new Set(steps.flatMap((s) => s.pool)).size).toBe(25);
    expect(steps.map((s) => s.scannedThrough)).toEqual([0, 0, 4000]);
    // Pool payments read late are dated at the last complete look, as if read at once.
    expect(steps.map((s) => s.observedAfter)).toEqual([0, 0, 0]);
    expect((await f.step()).pool).toEqual([]);
  });

  it("delivers every new block once, in order, catching up in bounded steps", async () => {
    const chain = new ModelChain();
    const f = follower(chain, 20);
    await f.step();
    chain.mine(45);
    const a = await f.step();
    const b = await f.step();
    const c = await f.step();
    expect([a.heights, b.heights, c.heights]).toEqual([range(1, 20), range(21, 40), range(41, 45)]);
    // Behind the tip: no pool, and scannedThrough stays where it was until level again.
    expect([a.scannedThrough, b.scannedThrough, c.scannedThrough]).toEqual([2000, 2000, 5000]);
    expect(c.observedAfter).toBe(2000);
    expect(a.pool).toEqual([]);
    expect((await f.step()).heights).toEqual([]);
  });

  it("finds a reorg to a longer chain by parent hash and re-delivers from the fork", async () => {
    const chain = new ModelChain();
    chain.mine(10);
    const f = follower(chain);
    await f.step();
    chain.mine(2);
    await f.step();
    chain.pop(3);
    chain.mine(5);
    const s = await f.step();
    expect(s.orphanedAbove).toBe(9);
    expect(s.heights).toEqual([10, 11, 12, 13, 14]);
    expect(f.cursor.blocks.at(-1)!.hash).toBe(chain.blocks[14]!.hash);
  });

  it("finds a reorg to a chain of the same height (no new block to show it)", async () => {
    const chain = new ModelChain();
    chain.mine(10);
    const f = follower(chain);
    await f.step();
    chain.pop(2);
    chain.mine(2);
    const s = await f.step();
    expect(s.orphanedAbove).toBe(8);
    expect(s.heights).toEqual([9, 10]);
  });

  it("tells a reorg to a shorter chain from a node that is behind by the hashes, not by the height", async () => {
    const chain = new ModelChain();
    chain.mine(10);
    const f = follower(chain);
    await f.step();
    chain.pop(3);
    // The node's top, 7, is our block 7: all it says is that it is behind us.
    const behind = await f.step();
    expect([behind.orphanedAbove, behind.heights, behind.behind]).toEqual([null, [], "the node's tip 7 is below 10, seen before"]);
    chain.mine(1);
    // Its top, 8, is not our block 8: its chain is another one, shorter than ours.
    const reorged = await f.step();
    expect([reorged.orphanedAbove, reorged.heights, reorged.tipHeight, reorged.behind]).toEqual([7, [8], 8, null]);
    expect(reorged.scannedThrough).toBe(4000);
    chain.mine(1);
    expect((await f.step()).heights).toEqual([9]);
  });

  it("finds the fork of a deep reorg to a shorter chain", async () => {
    const chain = new ModelChain();
    chain.mine(10);
    const f = follower(chain);
    await f.step();
    chain.pop(5);
    chain.mine(3);
    const s = await f.step();
    expect([s.orphanedAbove, s.heights, s.tipHeight]).toEqual([5, [6, 7, 8], 8]);
  });

  it("re-delivers as pool txs the txs of orphaned blocks that went back to the pool", async () => {
    const chain = new ModelChain();
    const f = follower(chain);
    await f.step();
    chain.send("pay");
    expect((await f.step()).pool).toEqual(["pay"]);
    chain.mine(1);
    const mined = await f.step();
    expect(mined.blocks[0]!.txs.map((t) => t.hash)).toEqual(["pay"]);
    expect(mined.gone).toEqual([]);
    chain.pop(1);
    chain.mine(1, { fromPool: false }); // a competing block at that height, without it
    const back = await f.step();
    expect([back.orphanedAbove, back.heights, back.pool, back.gone]).toEqual([0, [1], ["pay"], []]);
  });

  it("reports a delivered pool tx that vanished without being mined as gone", async () => {
    const chain = new ModelChain();
    const f = follower(chain);
    await f.step();
    chain.send("pay");
    await f.step();
    chain.pool.delete("pay");
    expect((await f.step()).gone).toEqual(["pay"]);
    expect((await f.step()).gone).toEqual([]);
  });

  it("reports the tx of an orphaned block as gone when it did not come back", async () => {
    const chain = new ModelChain();
    const f = follower(chain);
    await f.step();
    chain.send("pay");
    chain.mine(1);
    await f.step();
    chain.pop(1);
    chain.pool.delete("pay");
    chain.mine(2);
    const s = await f.step();
    expect([s.orphanedAbove, s.heights, s.gone]).toEqual([0, [1, 2], ["pay"]]);
  });

  it("never delivers a tx flagged as a double spend, and delivers it once the flag is gone", async () => {
    const chain = new ModelChain();
    const f = follower(chain);
    await f.step();
    chain.send("ds", true);
    chain.send("ok");
    expect((await f.step()).pool).toEqual(["ok"]);
    expect((await f.step()).pool).toEqual([]);
    chain.pool.get("ds")!.doubleSpend = false;
    expect((await f.step()).pool).toEqual(["ds"]);
  });

  it("takes back a delivered tx whose double spend was mined instead", async () => {
    const chain = new ModelChain();
    const f = follower(chain);
    await f.step();
    chain.send("pay");
    await f.step();
    chain.pool.delete("pay"); // the conflicting tx won
    chain.send("conflict");
    chain.mine(1);
    const s = await f.step();
    expect([s.heights, s.gone]).toEqual([[1], ["pay"]]);
  });

  it("re-delivers deeper than it remembers when the fork is below its window", async () => {
    const chain = new ModelChain();
    chain.mine(60);
    const f = follower(chain);
    await f.step(); // remembers 41..60
    chain.pop(30);
    chain.mine(31);
    const s = await f.step();
    expect(s.orphanedAbove).toBe(20);
    expect(s.heights).toEqual(range(21, 40));
  });

  it("leaves its input cursor untouched, so a failed delivery repeats the same step", async () => {
    const chain = new ModelChain();
    chain.mine(5);
    chain.send("a");
    chain.send("b");
    const f = follower(chain);
    await f.step(); // blocks 0..5 and pool txs a, b delivered
    const before = f.cursor;
    const snapshot = structuredClone(before);
    chain.pool.delete("a"); // a vanishes
    chain.pop(2);
    chain.mine(3); // a reorg below our top; b is mined
    chain.send("c");
    const step = () => followChain(chain, before, { now: 99_000, maxBlocks: 20, depth: 20 });
    const first = await step();
    expect(first.step).toMatchObject({ orphanedAbove: 3, gone: ["a"], scannedThrough: 99_000 }); // a step that changes everything
    expect(first.step.blocks.map((b) => b.height)).toEqual([4, 5, 6]);
    expect(before).toEqual(snapshot);
    expect(await step()).toEqual(first);
  });

  it("keeps source calls per step fixed: 2 when nothing happened (the tip carries its hash), 1 per new block", async () => {
    const chain = new ModelChain();
    chain.mine(3);
    const f = follower(chain);
    await f.step();
    await f.step();
    expect(chain.calls).toEqual(["tip", "poolHashes"]);
    chain.mine(2);
    await f.step();
    expect(chain.calls).toEqual(["tip", "block", "block", "poolHashes"]);
  });

  describe("never advances scanned_through on the word of a node that is behind", () => {
    it("behind the cursor: nothing orphaned, no pool read, scanned_through kept; nothing lost once it is back", async () => {
      const chain = new ModelChain();
      chain.mine(8);
      chain.send("pay");
      chain.mine(2); // "pay" is in block 9
      const f = follower(chain);
      await f.step();
      chain.shownUpTo = 7; // say, failover to a node still at 7
      chain.send("late");
      const s = await f.step();
      expect(s).toMatchObject({ orphanedAbove: null, heights: [], pool: [], gone: [], scannedThrough: 2000, behind: "the node's tip 7 is below 10, seen before" });
      expect(chain.calls).not.toContain("poolHashes");
      expect(f.cursor.blocks.at(-1)).toMatchObject({ height: 10, hash: chain.blocks[10]!.hash });
      chain.shownUpTo = null;
      chain.mine(1);
      const back = await f.step();
      expect(back).toMatchObject({ orphanedAbove: null, heights: [11], scannedThrough: 4000, observedAfter: 2000, behind: null });
      expect(back.blocks[0]!.txs.map((t) => t.hash)).toEqual(["late"]);
    });

    it("below the best tip seen, which the cursor keeps while it catches up", async () => {
      const chain = new ModelChain();
      const f = follower(chain, 20);
      await f.step();
      chain.mine(40);
      await f.step(); // 1..20 of 40
      expect(f.cursor.bestTip).toBe(40);
      chain.shownUpTo = 30; // a node at 30, above our cursor but below what we saw
      chain.send("t1");
      const s = await f.step();
      expect(s).toMatchObject({ heights: [], pool: [], scannedThrough: 2000, behind: "the node's tip 30 is below 40, seen before" });
      chain.shownUpTo = null;
      const next = await f.step();
      expect([next.heights, next.pool, next.scannedThrough]).toEqual([range(21, 40), ["t1"], 5000]);
    });

    it("that says it is still syncing", async () => {
      const chain = new ModelChain();
      chain.mine(5);
      const f = follower(chain);
      await f.step();
      chain.syncing = true;
      chain.mine(1);
      chain.send("t1");
      const s = await f.step();
      expect(s).toMatchObject({ heights: [], pool: [], scannedThrough: 2000, behind: "the node says it is still syncing" });
      chain.syncing = false;
      expect(await f.step()).toMatchObject({ heights: [6], pool: ["t1"], scannedThrough: 4000 });
    });

    it("asks for a node at or above the best tip seen", async () => {
      const chain = new ModelChain();
      chain.mine(12);
      const f = follower(chain);
      await f.step();
      const asked: number[] = [];
      const tip = chain.tip.bind(chain);
      chain.tip = (atLeast?: number) => (asked.push(atLeast ?? -1), tip());
      await f.step();
      expect(asked).toEqual([12]);
    });
  });

  it("remembers only the last `depth` blocks", async () => {
    const chain = new ModelChain();
    const f = follower(chain);
    await f.step();
    chain.mine(30);
    await f.step();
    await f.step();
    expect(f.cursor.blocks.map((b) => b.height)).toEqual(range(11, 30));
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
