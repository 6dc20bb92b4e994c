// The Worker's bindings and configuration, typed once. Secrets come from `wrangler secret put`
// in production and from .dev.vars locally; plain settings from [vars] in wrangler.toml.

import type { ChainWatcher } from "./durable/chain-watcher";
import type { StreamHub } from "./durable/stream-hub";
import type { UserAccount } from "./durable/user-account";

export interface Env {
  DB: D1Database;
  USER_ACCOUNT: DurableObjectNamespace<UserAccount>;
  STREAM_HUB: DurableObjectNamespace<StreamHub>;
  CHAIN_WATCHER: DurableObjectNamespace<ChainWatcher>;
  /** Bearer token every RPC must present. Unset = every RPC refused. */
  API_TOKEN?: string;
  /** 32 bytes, base64 or hex: seals private view keys at rest (AES-256-GCM). */
  KEYS_ENCRYPTION_KEY?: string;
  XMR_NETWORK?: string;
  /** Comma-separated monerod RPC URLs (failover order); unset = XMR disabled. */
  XMR_DAEMON_URL?: string;
  XMR_DAEMON_USER?: string;
  XMR_DAEMON_PASS?: string;
  XMR_POLL_SECONDS?: string;
  MONITORING_SECONDS?: string;
}
