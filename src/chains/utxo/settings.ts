// Bitcoin's and Litecoin's settings, each under its own prefix (BTC_*, LTC_*, as GoiPay names them):
// a coin is enabled exactly when its node is configured and its network is one it has.

import { secretSetting, seconds, setting } from "../../config";
import type { Env } from "../../env";
import { parseNodeUrls } from "./core-rpc";
import { utxoNetwork, type UtxoCoin, type UtxoNetwork } from "./networks";

export interface UtxoSettings {
  network: UtxoNetwork;
  nodeUrls: string[];
  user?: string;
  pass?: string;
  pollMs: number;
}

/** The network `<COIN>_NETWORK` names (mainnet when unset), or null for a name the coin does not have. */
export function utxoNetworkSetting(env: Env, coin: UtxoCoin): UtxoNetwork | null {
  return utxoNetwork(coin, (setting(env, `${coin}_NETWORK`) ?? "mainnet").toLowerCase());
}

/** Null when the coin is not enabled: no node, or a `<COIN>_NETWORK` it would have to guess about. */
export function utxoSettings(env: Env, coin: UtxoCoin): UtxoSettings | null {
  const network = utxoNetworkSetting(env, coin);
  const nodeUrls = parseNodeUrls(setting(env, `${coin}_DAEMON_URL`));
  if (!network || nodeUrls.length === 0) return null;
  return {
    network,
    nodeUrls,
    user: secretSetting(env, `${coin}_DAEMON_USER`),
    pass: secretSetting(env, `${coin}_DAEMON_PASS`),
    pollMs: seconds(setting(env, `${coin}_POLL_SECONDS`), 10) * 1000,
  };
}
