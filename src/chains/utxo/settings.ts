// Bitcoin's and Litecoin's settings, each under its own prefix (BTC_*, LTC_*, as GoiPay names them):
// a coin is enabled exactly when its node is configured and its network is one it has.

import { secretSetting, seconds, setting } from "../../config";
import type { Env } from "../../env";
import { parseNodeUrls } from "./core-rpc";
import { utxoNetwork, type UtxoCoin, type UtxoNetwork } from "./networks";

/** Where the chain is read: a Bitcoin Core-compatible node, or an Esplora explorer polled per address. */
export type UtxoBackend =
  | { kind: "core"; urls: string[]; user?: string; pass?: string }
  | { kind: "esplora"; urls: string[]; requestsPerTick: number };

export interface UtxoSettings {
  network: UtxoNetwork;
  backend: UtxoBackend;
  pollMs: number;
}

/** Esplora requests per tick by default: within the free plan's 50 subrequests per invocation, with room for D1 and the accounts. */
export const DEFAULT_ESPLORA_REQUESTS = 30;

/** The network `<COIN>_NETWORK` names (mainnet when unset), or null for a name the coin does not have. */
export function utxoNetworkSetting(env: Env, coin: UtxoCoin): UtxoNetwork | null {
  return utxoNetwork(coin, (setting(env, `${coin}_NETWORK`) ?? "mainnet").toLowerCase());
}

/**
 * Null when the coin is not enabled: no backend, or a `<COIN>_NETWORK` it would have to guess about. A
 * node (`<COIN>_DAEMON_URL`) is preferred to an explorer (`<COIN>_ESPLORA_URL`) when both are set.
 */
export function utxoSettings(env: Env, coin: UtxoCoin): UtxoSettings | null {
  const network = utxoNetworkSetting(env, coin);
  if (!network) return null;
  const nodeUrls = parseNodeUrls(setting(env, `${coin}_DAEMON_URL`));
  const esploraUrls = parseNodeUrls(setting(env, `${coin}_ESPLORA_URL`));
  let backend: UtxoBackend;
  if (nodeUrls.length > 0) {
    backend = { kind: "core", urls: nodeUrls, user: secretSetting(env, `${coin}_DAEMON_USER`), pass: secretSetting(env, `${coin}_DAEMON_PASS`) };
  } else if (esploraUrls.length > 0) {
    const requests = Number(setting(env, `${coin}_ESPLORA_REQUESTS_PER_TICK`) ?? DEFAULT_ESPLORA_REQUESTS);
    // Fewer than 4 leaves no room to list an address after the tip and a reorg check.
    backend = { kind: "esplora", urls: esploraUrls, requestsPerTick: Number.isSafeInteger(requests) && requests >= 4 ? requests : DEFAULT_ESPLORA_REQUESTS };
  } else {
    return null;
  }
  return { network, backend, pollMs: seconds(setting(env, `${coin}_POLL_SECONDS`), 10) * 1000 };
}
