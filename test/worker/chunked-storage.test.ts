// Values bigger than one Durable Object storage value, as the watcher stores its cursor and pending step:
// in pieces, read back whole, with bigints, and no piece of a bigger earlier value left behind.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deleteChunked, getChunked, PIECE_CHARS, putChunked } from "../../src/durable/chunked-storage";
import type { Env } from "../../src/env";

const E = env as unknown as Env;
const inObject = <T>(name: string, run: (storage: DurableObjectStorage) => Promise<T>) =>
  runInDurableObject(E.CHAIN_WATCHER.get(E.CHAIN_WATCHER.idFromName(name)), (_w, state) => run(state.storage));

/** A pool of `n` txids, as a Bitcoin mainnet cursor holds them. */
const txids = (n: number) => Array.from({ length: n }, (_, i) => i.toString(16).padStart(64, "0"));

describe("chunked storage", () => {
  it("stores a cursor bigger than one storage value (a 100,000-tx pool) and reads it back whole", async () => {
    const cursor = { blocks: [], poolSeen: txids(100_000), scannedThrough: 5, bestTip: 7 };
    const back = await inObject("chunked-big", async (storage) => {
      await putChunked(storage, "cursor", cursor);
      return getChunked(storage, "cursor");
    });
    // Local workerd stores a 6.5 MB value whole (measured: it does not enforce Cloudflare's 2 MB per value),
    // so what is checked here is that no piece is bigger than PIECE_CHARS and the value survives.
    const sizes = await inObject("chunked-big", async (storage) => [...(await storage.list<string>({ prefix: "cursor:" })).values()].map((p) => p.length));
    expect(sizes.length).toBeGreaterThan(5);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(PIECE_CHARS);
    expect(back).toEqual(cursor);
  });

  it("keeps bigints, and leaves no piece of a bigger earlier value behind", async () => {
    const pieces = await inObject("chunked-shrink", async (storage) => {
      await putChunked(storage, "v", { ids: txids(100) }, 1000);
      const many = (await storage.list({ prefix: "v:" })).size;
      await putChunked(storage, "v", { unlock: 2n ** 70n }, 1000);
      return { many, few: (await storage.list({ prefix: "v:" })).size, value: await getChunked(storage, "v") };
    });
    expect(pieces.many).toBeGreaterThan(5);
    expect(pieces.few).toBe(1);
    expect(pieces.value).toEqual({ unlock: 2n ** 70n });
  });

  it("reads a value an older version stored whole as it is, and deletes every piece", async () => {
    const result = await inObject("chunked-legacy", async (storage) => {
      await storage.put("c", { blocks: [{ height: 1 }] });
      const legacy = await getChunked(storage, "c");
      await putChunked(storage, "c", { ids: txids(50) }, 500);
      await deleteChunked(storage, "c");
      return { legacy, left: (await storage.list({ prefix: "c" })).size };
    });
    expect(result).toEqual({ legacy: { blocks: [{ height: 1 }] }, left: 0 });
  });
});
