// Settings read from the environment, parsed once per use with safe defaults.
// A coin is enabled exactly when its node is configured.

import { Coin } from "./domain/coins";
import type { XmrNetwork } from "./chains/xmr/address";
import { parseDaemonUrls } from "./chains/xmr/daemon";
import type { Env } from "./env";

export interface XmrConfig {
  /** Null when XMR_NETWORK is set to something else: XMR stays disabled rather than guess. */
  network: XmrNetwork | null;
  daemonUrls: string[];
  user?: string;
  pass?: string;
  pollMs: number;
}

export function xmrConfig(env: Env): XmrConfig {
  const network = env.XMR_NETWORK?.trim().toLowerCase() || "mainnet";
  return {
    network: network === "mainnet" || network === "stagenet" || network === "testnet" ? network : null,
    daemonUrls: parseDaemonUrls(env.XMR_DAEMON_URL),
    user: env.XMR_DAEMON_USER || undefined,
    pass: env.XMR_DAEMON_PASS || undefined,
    pollMs: seconds(env.XMR_POLL_SECONDS, 5) * 1000,
  };
}

export function monitoringMs(env: Env): number {
  return seconds(env.MONITORING_SECONDS, 24 * 60 * 60) * 1000;
}

export function isCoinEnabled(env: Env, coin: Coin): boolean {
  if (coin !== Coin.XMR) return false;
  const cfg = xmrConfig(env);
  return cfg.network !== null && cfg.daemonUrls.length > 0;
}

export function enabledCoins(env: Env): Coin[] {
  return [Coin.XMR].filter((c) => isCoinEnabled(env, c));
}

function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}
