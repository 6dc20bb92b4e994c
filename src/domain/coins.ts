// The coins the API names (crypto.v1.CoinType) and their fixed facts: decimals and caps.
// Chain-specific behaviour lives in src/chains; this file is only what every layer agrees on.

/** Numbers equal crypto.v1.CoinType on the wire. */
export enum Coin {
  XMR = 0,
  BTC = 1,
  LTC = 2,
  ETH = 3,
  TON = 4,
}

export interface CoinInfo {
  readonly coin: Coin;
  readonly ticker: string;
  /** Atomic units per coin = 10^decimals. */
  readonly decimals: number;
  /** Highest confirmation count an invoice may ask for. */
  readonly maxConfirmations: number;
}

const COINS: Record<Coin, CoinInfo> = {
  [Coin.XMR]: { coin: Coin.XMR, ticker: "XMR", decimals: 12, maxConfirmations: 60 },
  [Coin.BTC]: { coin: Coin.BTC, ticker: "BTC", decimals: 8, maxConfirmations: 100 },
  [Coin.LTC]: { coin: Coin.LTC, ticker: "LTC", decimals: 8, maxConfirmations: 200 },
  [Coin.ETH]: { coin: Coin.ETH, ticker: "ETH", decimals: 18, maxConfirmations: 200 },
  [Coin.TON]: { coin: Coin.TON, ticker: "TON", decimals: 9, maxConfirmations: 50 },
};

export function coinInfo(coin: Coin): CoinInfo {
  return COINS[coin];
}

/** Narrows a wire number to a Coin, or null for values outside the enum. */
export function parseCoin(value: number): Coin | null {
  return Object.hasOwn(COINS, value) ? (value as Coin) : null;
}
