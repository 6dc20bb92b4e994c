// Worker entry: the Hono app for requests, the cron watchdog that keeps every enabled coin's
// watcher polling, and the Durable Object classes.

import { app } from "./app";
import { enabledCoins } from "./config";
import { coinInfo } from "./domain/coins";
import { chainWatcherOf } from "./durable/chain-watcher";
import type { Env } from "./env";

export { ChainWatcher } from "./durable/chain-watcher";
export { StreamHub } from "./durable/stream-hub";
export { UserAccount } from "./durable/user-account";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    // Wakes each watcher, whose tick then looks at the node (tip and network check) even while nothing is watched.
    for (const coin of enabledCoins(env)) {
      ctx.waitUntil(chainWatcherOf(env, coin).ensurePolling(coin).catch((e: unknown) => console.error(`cron could not wake ${coinInfo(coin).ticker}`, e)));
    }
  },
} satisfies ExportedHandler<Env>;
