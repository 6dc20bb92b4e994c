// What the node says before a sweep is planned: its chain id, the price per gas, the tokens' decimals and
// symbols, each address's balances and the gas of each token transfer. Reads only; nothing is signed here.

import { erc20Abi, encodeFunctionData, type Address, type PublicClient } from "viem";
import { mapLimit } from "./map-limit";
import { KNOWN_CHAIN_IDS, type SweepChain } from "./options";
import { TRANSFER_GAS, type GasPricing, type Holding } from "./plan";

export interface TokenInfo {
  address: Address;
  symbol: string;
  decimals: number;
}

/** Parallel requests to the node; the http transport batches them. */
const CONCURRENCY = 16;

export class ChainMismatchError extends Error {
  override name = "ChainMismatchError";
}

/** The node's chain id, refused unless it is the expected one (or one of the chain's known ids). */
export async function checkChainId(client: PublicClient, chain: SweepChain, expected: number | null): Promise<number> {
  const actual = await client.getChainId();
  const accepted = expected === null ? KNOWN_CHAIN_IDS[chain] : [expected];
  if (!accepted.includes(actual)) {
    throw new ChainMismatchError(
      `the node at this --rpc reports chain id ${actual}, but ${chain} expects ${accepted.join(" or ")}` +
        (expected === null ? " (state another with --chain-id)" : ""),
    );
  }
  return actual;
}

/**
 * The price every sweep tx pays per gas. With a base fee: 1.2 × base fee + the node's suggested tip, as viem's
 * own estimate; headroom for the base fee to rise by two full blocks (12.5% each) before the txs are mined.
 * Without one (BSC): the node's gasPrice.
 */
export async function readGasPricing(client: PublicClient): Promise<GasPricing> {
  const block = await client.getBlock({ blockTag: "latest" });
  if (block.baseFeePerGas === null || block.baseFeePerGas === undefined) return { type: "legacy", perGas: await client.getGasPrice() };
  const tip = await client.estimateMaxPriorityFeePerGas();
  return { type: "eip1559", perGas: (block.baseFeePerGas * 12n) / 10n + tip };
}

export async function readTokenInfo(client: PublicClient, token: Address): Promise<TokenInfo> {
  const code = await client.getCode({ address: token });
  if (!code || code === "0x") throw new Error(`--token ${token} has no contract code on this chain`);
  const decimals = await client.readContract({ address: token, abi: erc20Abi, functionName: "decimals" });
  // Some old tokens (MKR) return symbol() as bytes32; the address then names it.
  const symbol = await client.readContract({ address: token, abi: erc20Abi, functionName: "symbol" }).catch(() => `${token.slice(0, 8)}…`);
  return { address: token, symbol, decimals };
}

/**
 * Gas limit of a native sweep to `to`. An account without code takes TRANSFER_GAS; a contract (a multisig's
 * receive function) more, so the transfer is estimated from an address that can pay it.
 */
export async function nativeTransferGas(client: PublicClient, to: Address, from: Address | null): Promise<bigint> {
  const code = await client.getCode({ address: to });
  if (!code || code === "0x") return TRANSFER_GAS;
  if (!from) return TRANSFER_GAS;
  return client.estimateGas({ account: from, to, value: 1n });
}

/** Each address's native balance, its non-zero token balances, and the gas of transferring each one to `to`. */
export async function surveyHoldings(
  client: PublicClient,
  addresses: readonly { index: number; address: Address }[],
  tokens: readonly Address[],
  to: Address,
  onEach: (holding: Holding, done: number) => void = () => {},
): Promise<Holding[]> {
  let done = 0;
  return mapLimit(addresses, CONCURRENCY, async ({ index, address }) => {
    const [native, ...tokenBalances] = await Promise.all([
      client.getBalance({ address, blockTag: "latest" }),
      ...tokens.map((token) => client.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [address] })),
    ]);
    const held = tokens.flatMap((token, i) => (tokenBalances[i]! > 0n ? [{ token, balance: tokenBalances[i]! }] : []));
    const withGas = await Promise.all(
      held.map(async (t) => ({
        ...t,
        // No fee fields: the node then skips the balance check, so an address without gas can still be estimated.
        transferGas: await client.estimateGas({
          account: address,
          to: t.token,
          data: encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [to, t.balance] }),
        }),
      })),
    );
    const holding: Holding = { index, address, native: native!, tokens: withGas };
    onEach(holding, ++done);
    return holding;
  });
}
