// TON's settings (TON_*): the chain is enabled exactly when a toncenter API is configured and its
// network is one it can name.

import { secretSetting, seconds, setting } from "../../config";
import type { Env } from "../../env";

import type { TonNetwork } from "./wallet";

export type { TonNetwork };

/** Each network's global id (ConfigParam 19), what the network check compares. */
export const GLOBAL_IDS: Record<TonNetwork, number> = { mainnet: -239, testnet: -3 };

export interface TonSettings {
  network: TonNetwork;
  /** toncenter API bases (`https://toncenter.com/api`), in failover order. */
  urls: string[];
  apiKey?: string;
  pollMs: number;
}

/** The network `TON_NETWORK` names (mainnet when unset), or null for anything else. */
export function tonNetworkSetting(env: Env): TonNetwork | null {
  const name = (setting(env, "TON_NETWORK") ?? "mainnet").toLowerCase();
  return name === "mainnet" || name === "testnet" ? name : null;
}

export function tonSettings(env: Env): TonSettings | null {
  const network = tonNetworkSetting(env);
  if (!network) return null;
  const urls = (setting(env, "TON_API_URL") ?? "")
    .split(",")
    .map((u) => u.trim().replace(/\/+$/, ""))
    .filter((u) => u.length > 0);
  if (urls.length === 0) return null;
  // A masterchain block comes about every 2.5-5 s.
  return { network, urls, apiKey: secretSetting(env, "TON_API_KEY"), pollMs: seconds(setting(env, "TON_POLL_SECONDS"), 5) * 1000 };
}
