// The ERC-20 and BEP-20 tokens edgepay knows: per coin, its chain, its decimals, and its contract on
// each network where it exists. `<CHAIN>_TOKENS` (JSON, coin name -> contract) overrides or adds
// contracts. The decimals are checked against the contract's decimals() before a token is followed.
// Contracts: the issuers' own deployments, the same table GoiPay v0.8 ships.

import { Coin } from "../../domain/coins";
import { normaliseAddress } from "./address";
import type { EvmChain, EvmNetwork } from "./networks";

export interface TokenSpec {
  readonly coin: Coin;
  readonly chain: EvmChain;
  readonly decimals: number;
  /** Contract per network name, EIP-55. */
  readonly contracts: Readonly<Record<string, string>>;
}

/** A token as configured here: its contract on the node's network. */
export interface Token {
  readonly coin: Coin;
  readonly decimals: number;
  /** Lowercase 40 hex digits, no 0x: the form logs and calls are compared in. */
  readonly contract: string;
}

const erc20 = (coin: Coin, decimals: number, mainnet: string, more: Record<string, string> = {}): TokenSpec => ({
  coin,
  chain: "ETH",
  decimals,
  contracts: { mainnet, ...more },
});
const bep20 = (coin: Coin, decimals: number, mainnet: string): TokenSpec => ({ coin, chain: "BNB", decimals, contracts: { mainnet } });

export const TOKENS: readonly TokenSpec[] = [
  erc20(Coin.USDT_ERC20, 6, "0xdAC17F958D2ee523a2206206994597C13D831ec7"),
  // Circle's own Sepolia USDC.
  erc20(Coin.USDC_ERC20, 6, "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", { sepolia: "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238" }),
  erc20(Coin.DAI_ERC20, 18, "0x6B175474E89094C44Da98b954EedeAC495271d0F"),
  erc20(Coin.WBTC_ERC20, 8, "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"),
  erc20(Coin.UNI_ERC20, 18, "0x1f9840a85d5aF5bf1D1762F925BDADdC4201F984"),
  // Chainlink's own Sepolia LINK (its faucet token).
  erc20(Coin.LINK_ERC20, 18, "0x514910771AF9Ca656af840dff83E8264EcF986CA", { sepolia: "0x779877A7B0D9E8603169DdbD7836e478b4624789" }),
  erc20(Coin.AAVE_ERC20, 18, "0x7Fc66500c84A76Ad7e9c93437bFc5Ac33E2DDaE9"),
  erc20(Coin.CRV_ERC20, 18, "0xD533a949740bb3306d119CC777fa900bA034cd52"),
  erc20(Coin.MATIC_ERC20, 18, "0x7D1AfA7B718fb893dB30A3aBc0Cfc608AaCfeBB0"),
  erc20(Coin.SHIB_ERC20, 18, "0x95aD61b0a150d79219dCF64E1E6Cc01f0B64C4cE"),
  erc20(Coin.BNB_ERC20, 18, "0xB8c77482e45F1F44dE1745F52C74426C631bDD52"),
  erc20(Coin.ATOM_ERC20, 6, "0x8D983cb9388EaC77af0474fA441C4815500Cb7BB"),
  erc20(Coin.ARB_ERC20, 18, "0xB50721BCf8d664c30412Cfbc6cf7a15145234ad1"),
  bep20(Coin.BSCUSD_BEP20, 18, "0x55d398326f99059fF775485246999027B3197955"),
  bep20(Coin.USDC_BEP20, 18, "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d"),
  bep20(Coin.DAI_BEP20, 18, "0x1AF3F329e8BE154074D8769D1FFa4eE058B1DBc3"),
  bep20(Coin.BUSD_BEP20, 18, "0xe9e7CEA3DedcA5984780Bafc599bD69ADd087D56"),
  bep20(Coin.WBTC_BEP20, 8, "0x0555E30da8f98308EdB960aa94C0Db47230d2B9c"),
  bep20(Coin.BTCB_BEP20, 18, "0x7130d2A12B9BCbFAe4f2634d864A1Ee1Ce3Ead9c"),
  bep20(Coin.UNI_BEP20, 18, "0xBf5140A22578168FD562DCcF235E5D43A02ce9B1"),
  bep20(Coin.LINK_BEP20, 18, "0xF8A0BF9cF54Bb92F17374d9e9A321E6a111a51bD"),
  bep20(Coin.AAVE_BEP20, 18, "0xfb6115445Bff7b52FeB98650C87f44907E58f802"),
  bep20(Coin.MATIC_BEP20, 18, "0xCC42724C6683B7E57334c4E856f4c9965ED682bD"),
  bep20(Coin.SHIB_BEP20, 18, "0x2859e4544C4bB03966803b044A93563Bd2D0DD4D"),
  bep20(Coin.ATOM_BEP20, 18, "0x0Eb3a705fc54725037CC9e008bDede697f62F335"),
  bep20(Coin.ARB_BEP20, 18, "0xa050FFb3eEb8200eEB7F61ce34FF644420FD3522"),
  bep20(Coin.ETH_BEP20, 18, "0x2170Ed0880ac9A755fd29B2688956BD959F933F8"),
  bep20(Coin.XRP_BEP20, 18, "0x1D2F0da169ceB9fC7B3144628dB156f3F6c60dBE"),
  bep20(Coin.ADA_BEP20, 18, "0x3EE2200Efb3400fAbB9AacF31297cBdD1d435D47"),
  bep20(Coin.TRX_BEP20, 6, "0xCE7de646e7208a4Ef112cb6ed5038FA6cC6b12e3"),
  bep20(Coin.DOGE_BEP20, 8, "0xbA2aE424d960c26247Dd6c32edC70B295c744C43"),
  bep20(Coin.LTC_BEP20, 18, "0x4338665CBB7B2485A8855A139b75D5e34AB0DB94"),
  bep20(Coin.BCH_BEP20, 18, "0x8fF795a6F4D97E7887C79beA79aba5cc76444aDf"),
  bep20(Coin.TWT_BEP20, 18, "0x4B0F1812e5Df2A09796481Ff14017e6005508003"),
  bep20(Coin.AVAX_BEP20, 18, "0x1CE0c2827e2eF14D5C4f29a091d735A204794041"),
  bep20(Coin.CAKE_BEP20, 18, "0x0E09FaBB73Bd3Ade0a17ECC321fD13a19e81cE82"),
];

export type TokenOverrides = { ok: true; contracts: ReadonlyMap<Coin, string> } | { ok: false; problem: string };

/**
 * `<CHAIN>_TOKENS`: a JSON object of coin names (the CoinType names, e.g. "USDT_ERC20") to contract
 * addresses, each a token of this chain. Anything else is refused whole, with the reason.
 */
export function parseTokenOverrides(chain: EvmChain, json: string | undefined): TokenOverrides {
  if (json === undefined) return { ok: true, contracts: new Map() };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { ok: false, problem: `${chain}_TOKENS is not JSON` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { ok: false, problem: `${chain}_TOKENS must be a JSON object of coin name -> contract address` };
  }
  const contracts = new Map<Coin, string>();
  for (const [name, value] of Object.entries(parsed)) {
    const spec = TOKENS.find((t) => Coin[t.coin] === name);
    if (!spec || spec.chain !== chain) return { ok: false, problem: `${chain}_TOKENS: ${name} is not a token of ${chain}` };
    const contract = typeof value === "string" ? normaliseAddress(value) : null;
    if (contract === null) return { ok: false, problem: `${chain}_TOKENS: ${name}'s contract is not an address` };
    contracts.set(spec.coin, contract);
  }
  return { ok: true, contracts };
}

/** The token `coin` as configured for `network`, or null where it has no contract there. */
export function tokenOn(spec: TokenSpec, network: EvmNetwork, overrides: ReadonlyMap<Coin, string>): Token | null {
  const given = overrides.get(spec.coin);
  // The shipped contracts exist on public networks only: a local chain has the tokens it is told of.
  const shipped = network.local ? undefined : spec.contracts[network.name];
  const contract = given ?? (shipped === undefined ? null : normaliseAddress(shipped));
  return contract === null ? null : { coin: spec.coin, decimals: spec.decimals, contract };
}
