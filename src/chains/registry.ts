// Which adapter and node source serve each enabled coin, built from the environment.
// Adding a chain adds a case here and a folder beside this file.

import { xmrConfig } from "../config";
import { Coin } from "../domain/coins";
import type { Env } from "../env";
import type { ChainAdapter, ChainSource } from "./adapter";
import { xmrAdapter } from "./xmr/adapter";
import { createMoneroDaemon } from "./xmr/daemon";
import { xmrSource } from "./xmr/source";

export function chainAdapter(env: Env, coin: Coin): ChainAdapter | null {
  if (coin === Coin.XMR) return xmrAdapter(xmrConfig(env).network) as ChainAdapter;
  return null;
}

export function chainSource(env: Env, coin: Coin): ChainSource | null {
  if (coin !== Coin.XMR) return null;
  const cfg = xmrConfig(env);
  if (cfg.daemonUrls.length === 0) return null;
  return xmrSource(createMoneroDaemon({ urls: cfg.daemonUrls, user: cfg.user, pass: cfg.pass }));
}

export function pollIntervalMs(env: Env, coin: Coin): number {
  return coin === Coin.XMR ? xmrConfig(env).pollMs : 5000;
}
