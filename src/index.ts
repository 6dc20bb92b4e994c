// Worker entry: the Hono app for requests, the cron watchdog that keeps every enabled coin's
// watcher polling and re-enqueues overdue webhook deliveries, the webhook Queue consumer, and the
// Durable Object classes.

import { app } from "./app";
import { enabledCoins } from "./chains/registry";
import { tickerOf } from "./domain/coins";
import { chainWatcherOf } from "./durable/chain-watcher";
import type { Env } from "./env";
import { consumeDeliveries } from "./webhooks/consumer";
import type { DeliveryMessage } from "./webhooks/queue";
import { sweepOverdueDeliveries } from "./webhooks/sweep";
import { deliveryDeps } from "./webhooks/wiring";

export { ChainWatcher } from "./durable/chain-watcher";
export { ScanShard } from "./durable/scan-shard";
export { StreamHub } from "./durable/stream-hub";
export { UserAccount } from "./durable/user-account";

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // Wakes each watcher, whose tick then looks at the node (tip and network check) even while nothing is watched.
    for (const coin of enabledCoins(env)) {
      ctx.waitUntil(chainWatcherOf(env, coin).ensurePolling(coin).catch((e: unknown) => console.error(`cron could not wake ${tickerOf(coin)}`, e)));
    }
    const now = typeof controller.scheduledTime === "number" ? controller.scheduledTime : Date.now();
    ctx.waitUntil(sweepOverdueDeliveries(env, Math.max(now, Date.now())).catch((e: unknown) => console.error("cron could not sweep webhook deliveries", e)));
  },
  async queue(batch, env) {
    await consumeDeliveries(batch, deliveryDeps(env));
  },
} satisfies ExportedHandler<Env, DeliveryMessage>;
