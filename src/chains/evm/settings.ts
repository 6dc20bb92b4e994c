// Ethereum's and BNB Smart Chain's settings, each under its own prefix (ETH_*, BNB_*): a chain is enabled
// exactly when its node is configured and its network is one it can name.

import { seconds, setting } from "../../config";
import type { Env } from "../../env";
import { evmMainnet, evmNetwork, type EvmChain, type EvmNetwork } from "./networks";
import { parseTokenOverrides, type TokenOverrides } from "./tokens";

export interface EvmSettings {
  network: EvmNetwork;
  urls: string[];
  pollMs: number;
  tokens: TokenOverrides;
  /** `<CHAIN>_FINALITY=finalized`: a payment is confirmed once its block is final, whatever the confirmation count. */
  finality: boolean;
}

/** Seconds between looks by default: about a block on BNB Smart Chain (3 s), under one on Ethereum (12 s). */
const DEFAULT_POLL_SECONDS: Record<EvmChain, number> = { ETH: 6, BNB: 3 };

/** The network `<CHAIN>_NETWORK` names (mainnet when unset), or null for a name the chain does not have. */
export function evmNetworkSetting(env: Env, chain: EvmChain): EvmNetwork | null {
  return evmNetwork(chain, setting(env, `${chain}_NETWORK`) ?? "mainnet");
}

/**
 * The network a payment URI is written for: the one `<CHAIN>_NETWORK` names, or mainnet where it names
 * none (the chain is then off, but a URI is still asked of it).
 */
export function evmUriNetwork(env: Env, chain: EvmChain): EvmNetwork {
  return evmNetworkSetting(env, chain) ?? evmMainnet(chain);
}

/** `<CHAIN>_TOKENS`: the contracts it adds or overrides, or the reason it is refused. */
export function evmTokenSetting(env: Env, chain: EvmChain): TokenOverrides {
  return parseTokenOverrides(chain, setting(env, `${chain}_TOKENS`));
}

/** Null when the chain is not enabled: no `<CHAIN>_DAEMON_URL`, or a network it would have to guess about. */
export function evmSettings(env: Env, chain: EvmChain): EvmSettings | null {
  const network = evmNetworkSetting(env, chain);
  if (!network) return null;
  const urls = (setting(env, `${chain}_DAEMON_URL`) ?? "")
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  if (urls.length === 0) return null;
  // Anything but the two known words leaves the chain off rather than guessing how to confirm payments.
  const finality = (setting(env, `${chain}_FINALITY`) ?? "confirmations").toLowerCase();
  if (finality !== "confirmations" && finality !== "finalized") return null;
  return {
    network,
    urls,
    pollMs: seconds(setting(env, `${chain}_POLL_SECONDS`), DEFAULT_POLL_SECONDS[chain]) * 1000,
    tokens: evmTokenSetting(env, chain),
    finality: finality === "finalized",
  };
}
