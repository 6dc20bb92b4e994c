// Which adapter and node source serve each enabled coin, built from the environment.
// Adding a chain adds a case here and a folder beside this file.

import { isCoinEnabled, xmrConfig } from "../config";
import { Coin } from "../domain/coins";
import type { Env } from "../env";
import type { ChainAdapter, ChainSource } from "./adapter";
import { xmrAdapter } from "./xmr/adapter";
import { createMoneroDaemon } from "./xmr/daemon";
import { xmrSource } from "./xmr/source";

export function chainAdapter(env: Env, coin: Coin): ChainAdapter | null {
  const network = coin === Coin.XMR ? xmrConfig(env).network : null;
  return network ? (xmrAdapter(network) as ChainAdapter) : null;
}

export function chainSource(env: Env, coin: Coin): ChainSource | null {
  // Never follow a chain whose payments could not be recognised: the cursor would move past them.
  if (coin !== Coin.XMR || !isCoinEnabled(env, coin)) return null;
  const cfg = xmrConfig(env);
  return xmrSource(createMoneroDaemon({ urls: cfg.daemonUrls, user: cfg.user, pass: cfg.pass, network: cfg.network ?? undefined }));
}

export function pollIntervalMs(env: Env, coin: Coin): number {
  return coin === Coin.XMR ? xmrConfig(env).pollMs : 5000;
}
