// Monero's settings (XMR_*): enabled exactly when a node is configured and the network is known.

import { secretSetting, seconds, setting } from "../../config";
import type { Env } from "../../env";
import type { XmrNetwork } from "./address";
import { parseDaemonUrls } from "./daemon";

export interface XmrSettings {
  network: XmrNetwork;
  daemonUrls: string[];
  user?: string;
  pass?: string;
  pollMs: number;
}

const NETWORKS: readonly XmrNetwork[] = ["mainnet", "stagenet", "testnet"];

/** Null when XMR is not enabled: no node, or an XMR_NETWORK it would have to guess about. */
export function xmrSettings(env: Env): XmrSettings | null {
  const network = (setting(env, "XMR_NETWORK") ?? "mainnet").toLowerCase() as XmrNetwork;
  const daemonUrls = parseDaemonUrls(setting(env, "XMR_DAEMON_URL"));
  if (!NETWORKS.includes(network) || daemonUrls.length === 0) return null;
  return {
    network,
    daemonUrls,
    user: secretSetting(env, "XMR_DAEMON_USER"),
    pass: secretSetting(env, "XMR_DAEMON_PASS"),
    pollMs: seconds(setting(env, "XMR_POLL_SECONDS"), 5) * 1000,
  };
}
