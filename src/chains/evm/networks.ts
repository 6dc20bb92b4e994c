// The EVM chains edgepay serves (Ethereum, BNB Smart Chain) and their networks, told apart by the chain
// id a node answers to eth_chainId. Constants only; the rest of this folder takes an EvmNetwork.

export type EvmChain = "ETH" | "BNB";

export interface EvmNetwork {
  readonly chain: EvmChain;
  /** `mainnet`, `sepolia`, `testnet`, or the chain id itself for a network without a name here. */
  readonly name: string;
  readonly chainId: number;
  /** A local development node (anvil, hardhat): its chain is throwaway, and no shipped token exists on it. */
  readonly local: boolean;
}

const NAMED: Record<EvmChain, Record<string, number>> = {
  ETH: { mainnet: 1, sepolia: 11155111 },
  BNB: { mainnet: 56, testnet: 97 },
};

/** anvil's and hardhat's default chain ids (anvil 31337; hardhat's and ganache's 1337). */
const LOCAL_CHAIN_IDS = new Set([31337, 1337]);

/** The chain's mainnet: where a setting that names no network leaves a payment URI. */
export function evmMainnet(chain: EvmChain): EvmNetwork {
  return { chain, name: "mainnet", chainId: NAMED[chain].mainnet!, local: false };
}

/**
 * The network `text` names for `chain` (`<CHAIN>_NETWORK`): a name above, or a chain id in decimal
 * for any other network. Null for anything else, so a typo never guesses a network.
 */
export function evmNetwork(chain: EvmChain, text: string): EvmNetwork | null {
  const lower = text.trim().toLowerCase();
  const named = NAMED[chain][lower];
  if (named !== undefined) return { chain, name: lower, chainId: named, local: false };
  if (!/^[1-9][0-9]{0,15}$/.test(lower)) return null;
  const chainId = Number(lower);
  if (!Number.isSafeInteger(chainId)) return null;
  const name = Object.entries(NAMED[chain]).find(([, id]) => id === chainId)?.[0];
  return { chain, name: name ?? lower, chainId, local: LOCAL_CHAIN_IDS.has(chainId) };
}
