// Worker entry: the Hono app for requests, the cron watchdog that keeps every enabled coin's
// watcher polling, and the Durable Object classes.

import { app } from "./app";
import { enabledCoins } from "./config";
import { coinInfo } from "./domain/coins";
import type { Env } from "./env";

export { ChainWatcher } from "./durable/chain-watcher";
export { StreamHub } from "./durable/stream-hub";
export { UserAccount } from "./durable/user-account";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    for (const coin of enabledCoins(env)) {
      const watcher = env.CHAIN_WATCHER.get(env.CHAIN_WATCHER.idFromName(coinInfo(coin).ticker));
      ctx.waitUntil(watcher.ensurePolling(coin).catch((e: unknown) => console.error(`cron could not wake ${coinInfo(coin).ticker}`, e)));
    }
  },
} satisfies ExportedHandler<Env>;
