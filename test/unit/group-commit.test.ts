// Group commit: requests that arrive while a group is being written wait together and become the next
// group, in arrival order, at most `maxGroup` at a time, each answered with its own result.
import { describe, expect, it } from "vitest";
import { GroupCommit, settle, type Settled } from "../../src/durable/account/group-commit";
import { SerialQueue } from "../../src/durable/serial";

/** A write that waits until the test lets it finish, recording every group it was given. */
function heldWrites() {
  const groups: number[][] = [];
  const releases: (() => void)[] = [];
  const commit = async (group: readonly number[]): Promise<Settled<string>[]> => {
    groups.push([...group]);
    await new Promise<void>((resolve) => releases.push(resolve));
    return group.map((n) => ({ status: "fulfilled", value: `#${n}` }));
  };
  /** Lets the oldest held write finish, then lets the next group reach the write. */
  const release = async () => {
    releases.shift()!();
    await ticks();
  };
  return { groups, commit, release };
}

const ticks = async (n = 10) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

function groupCommit(commit: (group: readonly number[]) => Promise<Settled<string>[]>, maxGroup = 50, queue = new SerialQueue()) {
  return new GroupCommit<number, string>({ schedule: (work) => queue.run(work), commit, maxGroup });
}

describe("GroupCommit", () => {
  it("writes the requests that queued behind a running write as one group, in arrival order", async () => {
    const writes = heldWrites();
    const gc = groupCommit(writes.commit);
    const first = gc.submit(1);
    await ticks();
    const rest = [2, 3, 4, 5].map((n) => gc.submit(n));
    await ticks();
    expect(writes.groups).toEqual([[1]]);
    await writes.release();
    expect(writes.groups).toEqual([[1], [2, 3, 4, 5]]);
    await writes.release();
    expect(await Promise.all([first, ...rest])).toEqual(["#1", "#2", "#3", "#4", "#5"]);
  });

  it("takes at most maxGroup requests into one write; the rest form the next groups", async () => {
    const writes = heldWrites();
    const gc = groupCommit(writes.commit, 3);
    const all = [1, 2, 3, 4, 5, 6, 7].map((n) => gc.submit(n));
    await ticks();
    for (let i = 0; i < 3; i++) await writes.release();
    expect(writes.groups).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(await Promise.all(all)).toEqual(["#1", "#2", "#3", "#4", "#5", "#6", "#7"]);
  });

  it("answers each request with its own result: one refused request does not fail the others", async () => {
    const gc = groupCommit(async (group) =>
      group.map((n): Settled<string> => (n % 2 === 0 ? { status: "rejected", reason: new Error(`refused ${n}`) } : { status: "fulfilled", value: `#${n}` })),
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => gc.submit(n)));
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual(["#1", "refused 2", "#3"]);
  });

  it("fails every request of a group whose write throws, and writes the next group afterwards", async () => {
    const groups: number[][] = [];
    const gc = groupCommit(async (group) => {
      groups.push([...group]);
      if (groups.length === 1) throw new Error("batch failed");
      return group.map((n) => ({ status: "fulfilled" as const, value: `#${n}` }));
    }, 2);
    const results = await Promise.allSettled([1, 2, 3].map((n) => gc.submit(n)));
    expect(groups).toEqual([[1, 2], [3]]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual(["batch failed", "batch failed", "#3"]);
  });

  it("runs each group as one unit of the object's serial work, never beside other work", async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const gc = groupCommit(
      async (group) => {
        log.push(`write ${group.join(",")} start`);
        await ticks(3);
        log.push(`write ${group.join(",")} end`);
        return group.map((n) => ({ status: "fulfilled" as const, value: `#${n}` }));
      },
      50,
      queue,
    );
    const other = (name: string) =>
      queue.run(async () => {
        log.push(`${name} start`);
        await ticks(3);
        log.push(`${name} end`);
      });
    await Promise.all([other("alarm"), gc.submit(1), gc.submit(2), other("keys"), gc.submit(3)]);
    expect(log).toEqual(["alarm start", "alarm end", "write 1,2,3 start", "write 1,2,3 end", "keys start", "keys end"]);
  });
});

describe("settle", () => {
  it("turns a promise into its settled result, never a throw", async () => {
    expect(await settle(Promise.resolve(1))).toEqual({ status: "fulfilled", value: 1 });
    const error = new Error("no");
    expect(await settle(Promise.reject(error))).toEqual({ status: "rejected", reason: error });
  });
});
