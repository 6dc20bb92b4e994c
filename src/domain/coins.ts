// The coins the API names: crypto.v1.CoinType, the wire enum itself. What each coin is (decimals,
// limits, keys, chain) belongs to its chain module (src/chains/registry.ts); this file knows names only.

import { CoinType } from "../../gen/crypto/v1/crypto_pb";

export { CoinType as Coin };
type Coin = CoinType;

/** The coin's name on the wire (its CoinType enum name). */
export function tickerOf(coin: Coin): string {
  return CoinType[coin] ?? `coin ${coin}`;
}

/** Narrows a wire number to a Coin, or null for values outside the enum. */
export function parseCoin(value: number): Coin | null {
  return typeof CoinType[value] === "string" ? (value as Coin) : null;
}
