// The Worker's bindings and configuration, typed once. Secrets come from `wrangler secret put`
// in production and from .dev.vars locally; plain settings from [vars] in wrangler.toml.

import type { ChainWatcher } from "./durable/chain-watcher";
import type { ScanShard } from "./durable/scan-shard";
import type { StreamHub } from "./durable/stream-hub";
import type { UserAccount } from "./durable/user-account";
import type { DeliveryMessage } from "./webhooks/queue";

export interface Bindings {
  DB: D1Database;
  USER_ACCOUNT: DurableObjectNamespace<UserAccount>;
  STREAM_HUB: DurableObjectNamespace<StreamHub>;
  CHAIN_WATCHER: DurableObjectNamespace<ChainWatcher>;
  /** A coin's watching users in shards: scanning by view key and delivering to accounts (see durable/scan-shard.ts). */
  SCAN_SHARD: DurableObjectNamespace<ScanShard>;
  /** Webhook deliveries to attempt (producer and consumer: this Worker). */
  WEBHOOK_QUEUE: Queue<DeliveryMessage>;
  /** Bearer token every RPC must present. Unset = every RPC refused. */
  API_TOKEN?: string;
  /** 32 bytes, base64 or hex: seals secret watch-only keys at rest (AES-256-GCM). */
  KEYS_ENCRYPTION_KEY?: string;
  MONITORING_SECONDS?: string;
  /** Seconds between webhook attempts, a comma list (default 10,60,300,1800,7200,21600,43200,86400). */
  WEBHOOK_RETRY_SECONDS?: string;
  /** "true": webhook URLs may be http:// and loopback (local development and tests only). */
  WEBHOOK_ALLOW_INSECURE_URLS?: string;
  /** Public origin of the checkout pages (`https://pay.example.com`); default: the API request's origin. */
  CHECKOUT_BASE_URL?: string;
  /** "true": an invoice's redirectUrl may be http:// (local development and tests only). */
  CHECKOUT_ALLOW_INSECURE_REDIRECTS?: string;
  /** Users per scan shard (default 200). */
  SCAN_SHARD_USERS?: string;
}

/** Chain modules read their own settings by name, under their own prefix (see src/chains/<family>/settings.ts). */
export type Env = Bindings & { readonly [setting: string]: unknown };
