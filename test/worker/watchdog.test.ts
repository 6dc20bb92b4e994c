// The cron watchdog (src/index.ts scheduled) wakes each coin's watcher, and the watcher looks at the
// node (its tip and the network check) even while nothing is watched: /healthz knows from the start
// whether the node answers. Nothing in this file creates an invoice.
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { Coin } from "../../src/domain/coins";
import type { Env } from "../../src/env";
import { ModelChain } from "../support/model-chain";
import { health } from "./support";

const E = env as unknown as Env;
const xmrWatcher = () => E.CHAIN_WATCHER.get(E.CHAIN_WATCHER.idFromName("XMR"));
const lastError = async () => (await E.DB.prepare("SELECT last_error FROM chain_state WHERE coin = ?").bind(Coin.XMR).first<{ last_error: string | null }>())?.last_error ?? null;

async function cron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled!(createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" }), E, ctx);
  await waitOnExecutionContext(ctx);
}

describe("the cron watchdog", () => {
  it("looks at the node on every run, even while nothing is watched", async () => {
    await E.DB.prepare("DELETE FROM chain_state").run();
    expect((await health()).body.coins.XMR).toMatchObject({ ready: false, checkedAt: null, reason: "the watcher has not looked at the node yet" });
    await cron();
    // This suite's node is a closed port: the look fails, and /healthz says so.
    const deadline = Date.now() + 10_000;
    while ((await lastError()) === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await lastError()).toContain("127.0.0.1:9");
    expect((await health()).body.coins.XMR).toMatchObject({ ready: false, lastError: expect.stringContaining("127.0.0.1:9") });
  });

  it("shows what an idle look saw: the node's tip and network, and the coin ready", async () => {
    await E.DB.prepare("DELETE FROM chain_state").run();
    const node = new ModelChain();
    node.mine(7);
    expect(await runInDurableObject(xmrWatcher(), (w) => w.tick(Coin.XMR, node))).toBe(false); // nothing watched: no polling
    expect(node.calls).toEqual(["tip"]); // one look, no block read
    const xmr = (await health()).body.coins.XMR!;
    expect(xmr).toMatchObject({ ready: true, reason: null, tip: 7, network: "mainnet", cursor: null });
    expect(Date.now() - Date.parse(xmr.checkedAt as string)).toBeLessThan(60_000);
  });
});
