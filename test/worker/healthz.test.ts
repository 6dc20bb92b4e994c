// /healthz tells the truth per coin, and CreateInvoice refuses a coin whose node must not be followed.
// The watcher's ticks read in-memory nodes (test/support/model-chain.ts); the real watcher of this
// file (its node is a closed port) is held off by an alarm far in the future.
import { Code } from "@connectrpc/connect";
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import type { ChainSource } from "../../src/chains/adapter";
import { Coin } from "../../src/domain/coins";
import type { Env } from "../../src/env";
import { ModelChain } from "../support/model-chain";
import { clients, failure, health, merchantUser, randomXmrKeys } from "./support";

const E = env as unknown as Env;
const c = clients("connect-json");
const HOLD_OFF_MS = 60 * 60_000;

const xmrWatcher = () => E.CHAIN_WATCHER.get(E.CHAIN_WATCHER.idFromName("XMR"));
/** While an alarm is set, CreateInvoice's wake-up is a no-op: only the test's ticks read a node. */
const holdOffRealTicks = () => runInDurableObject(xmrWatcher(), (_w, state) => state.storage.setAlarm(Date.now() + HOLD_OFF_MS));
/** The watcher as if it had never run: no cursor, nothing in chain_state. */
async function freshWatcher(): Promise<void> {
  await holdOffRealTicks();
  await runInDurableObject(xmrWatcher(), (_w, state) => state.storage.delete("cursor"));
  await E.DB.prepare("DELETE FROM chain_state").run();
}
const tickWith = (source: ChainSource) => runInDurableObject(xmrWatcher(), (w) => w.tick(Coin.XMR, source));
const storedCursor = () => runInDurableObject(xmrWatcher(), (_w, state) => state.storage.get("cursor"));
const invoice = (userId: string) => c.invoices.createInvoice({ userId, coin: CoinType.XMR, amount: 1, timeout: 600n, confirmations: 1 });

beforeAll(holdOffRealTicks);

describe("a node on another network", () => {
  it("is never followed: /healthz names both networks and CreateInvoice refuses until a good node answers", async () => {
    await freshWatcher();
    const userId = await merchantUser(c, randomXmrKeys());
    await invoice(userId); // something is watched, so the watcher follows the chain
    const stagenet = new ModelChain();
    stagenet.mine(3);
    stagenet.network = "stagenet";
    await expect(tickWith(stagenet)).rejects.toThrow(/stagenet/);

    const wrong = await health();
    expect(wrong.http).toBe(200);
    expect(wrong.body.status).toBe("degraded");
    expect(wrong.body.coins.XMR).toMatchObject({ ready: false, reason: "XMR node is on stagenet, expected mainnet", network: "stagenet", cursor: null });
    expect(await failure(invoice(userId))).toEqual({ code: Code.FailedPrecondition, message: "XMR node is on stagenet, expected mainnet" });
    expect(await storedCursor()).toBeUndefined();

    const mainnet = new ModelChain();
    mainnet.mine(3);
    await tickWith(mainnet);
    const good = await health();
    expect(good.body.status).toBe("ok");
    expect(good.body.coins.XMR).toMatchObject({ ready: true, reason: null, network: "mainnet", tip: 3, cursor: 3 });
    expect((await invoice(userId)).address).toMatch(/^8/);
  });
});
