// The chain modules this server is built with, and per coin what its module offers under the
// environment's settings. Adding a chain = a folder beside this file + one line in MODULES.

import type { Coin } from "../domain/coins";
import type { Env } from "../env";
import type { ChainAdapter } from "./adapter";
import type { ChainModule, CoinFacts, CoinModule, CoinRuntime } from "./module";
import { evmModule } from "./evm/module";
import { tonModule } from "./ton/module";
import { utxoModule } from "./utxo/module";
import { xmrModule } from "./xmr/module";

const MODULES: readonly ChainModule[] = [xmrModule, utxoModule, evmModule, tonModule];

const byCoin = new Map<Coin, CoinModule>(MODULES.flatMap((m) => m.coins.map((c) => [c.facts.coin, c] as const)));

/** Every coin some module serves, enabled or not. */
export function coinModules(): CoinModule[] {
  return [...byCoin.values()];
}

export function coinModule(coin: Coin): CoinModule | null {
  return byCoin.get(coin) ?? null;
}

export function coinFacts(coin: Coin): CoinFacts | null {
  return byCoin.get(coin)?.facts ?? null;
}

/** The coin as configured here, or null when no module serves it or its node is not configured. */
export function coinRuntime(env: Env, coin: Coin): CoinRuntime | null {
  return byCoin.get(coin)?.configure(env) ?? null;
}

export function isCoinEnabled(env: Env, coin: Coin): boolean {
  return coinRuntime(env, coin) !== null;
}

/** Every enabled coin with its runtime, each configured once. */
export function configuredCoins(env: Env): { coin: Coin; runtime: CoinRuntime }[] {
  return coinModules().flatMap((m) => {
    const runtime = m.configure(env);
    return runtime ? [{ coin: m.facts.coin, runtime }] : [];
  });
}

export function enabledCoins(env: Env): Coin[] {
  return configuredCoins(env).map((c) => c.coin);
}

export function chainAdapter(env: Env, coin: Coin): ChainAdapter | null {
  return coinRuntime(env, coin)?.adapter ?? null;
}

export function pollIntervalMs(env: Env, coin: Coin): number {
  return coinRuntime(env, coin)?.pollMs ?? 5000;
}

/** The payment URI of `coin` for `address` and `amount`, or null when no module serves the coin. */
export function paymentUri(env: Env, coin: Coin, address: string, amount: bigint): string | null {
  return byCoin.get(coin)?.paymentUri(address, amount, env) ?? null;
}

/** The coin whose key set `coin`'s invoices use: a token's chain, else the coin itself. */
export function keysCoinOf(coin: Coin): Coin {
  return byCoin.get(coin)?.keysCoin ?? coin;
}
