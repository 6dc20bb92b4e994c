// The Worker's bindings and configuration, typed once. Secrets come from `wrangler secret put`
// in production and from .dev.vars locally; plain settings from [vars] in wrangler.toml.

import type { ChainWatcher } from "./durable/chain-watcher";
import type { StreamHub } from "./durable/stream-hub";
import type { UserAccount } from "./durable/user-account";

export interface Bindings {
  DB: D1Database;
  USER_ACCOUNT: DurableObjectNamespace<UserAccount>;
  STREAM_HUB: DurableObjectNamespace<StreamHub>;
  CHAIN_WATCHER: DurableObjectNamespace<ChainWatcher>;
  /** Bearer token every RPC must present. Unset = every RPC refused. */
  API_TOKEN?: string;
  /** 32 bytes, base64 or hex: seals secret watch-only keys at rest (AES-256-GCM). */
  KEYS_ENCRYPTION_KEY?: string;
  MONITORING_SECONDS?: string;
}

/** Chain modules read their own settings by name, under their own prefix (see src/chains/<family>/settings.ts). */
export type Env = Bindings & { readonly [setting: string]: unknown };
