// The sweep plan, computed from what the node reported and nothing else: per address the gas top-up it needs, its
// token transfers, and the native coin left to send once they are paid for. Pure: no node, no keys, no clock.

import { formatEther, type Address } from "viem";

/**
 * One price per gas for every sweep transaction. For EIP-1559 the tx is sent with maxFeePerGas =
 * maxPriorityFeePerGas = perGas, so it pays exactly perGas whatever the base fee (as long as the base fee stays
 * at or under it): a native sweep can then send balance − gas × perGas and leave the address at exactly zero.
 * Legacy (gasPrice) transactions, for nodes without a base fee (BSC), pay exactly their gasPrice anyway.
 */
export interface GasPricing {
  type: "eip1559" | "legacy";
  perGas: bigint;
}

/** Gas of a plain value transfer to an account without code. */
export const TRANSFER_GAS = 21_000n;

export interface TokenHolding {
  token: Address;
  balance: bigint;
  /** eth_estimateGas of transfer(to, balance) from the holder: the gas limit of its sweep. */
  transferGas: bigint;
}

export interface Holding {
  index: number;
  address: Address;
  native: bigint;
  /** Only tokens with a non-zero balance. */
  tokens: readonly TokenHolding[];
}

export interface FunderHolding {
  address: Address;
  native: bigint;
}

export interface PlanInput {
  to: Address;
  pricing: GasPricing;
  /** Gas limit of a native sweep to `to`: TRANSFER_GAS, or an estimate when `to` is a contract. */
  nativeGas: bigint;
  holdings: readonly Holding[];
  funder: FunderHolding | null;
}

export interface TokenTransfer {
  token: Address;
  amount: bigint;
  gas: bigint;
  /** gas × perGas: the most it costs (a refund can make it less). */
  fee: bigint;
}

export interface AddressPlan {
  index: number;
  address: Address;
  native: bigint;
  /** Native coin the funder sends first so the token transfers can pay their gas; 0 if the address has enough. */
  topUp: bigint;
  tokenTransfers: readonly TokenTransfer[];
  /** The native sweep, after the token transfers; null when what is left does not cover its fee. */
  nativeTransfer: { value: bigint; fee: bigint } | null;
  /** Native coin expected to stay behind: what is left after the token fees when it is too little to move. */
  dust: bigint;
  /** Why nothing at this address is swept, or null. */
  blocked: string | null;
}

export interface SweepPlan {
  to: Address;
  pricing: GasPricing;
  nativeGas: bigint;
  /** Only addresses with something to sweep (or blocked). */
  addresses: readonly AddressPlan[];
  funder: (FunderHolding & { topUps: bigint; fees: bigint }) | null;
  totals: {
    /** Native coin the destination receives. */
    native: bigint;
    /** Every fee: top-ups (paid by the funder), token and native sweeps. */
    fees: bigint;
    tokens: ReadonlyMap<Address, bigint>;
    transactions: number;
  };
  /** Reasons not to broadcast this plan; empty when it can go. */
  problems: readonly string[];
}

export function buildSweepPlan(input: PlanInput): SweepPlan {
  const { to, pricing, nativeGas, funder } = input;
  const problems: string[] = [];
  const addresses: AddressPlan[] = [];
  const tokenTotals = new Map<Address, bigint>();
  let native = 0n;
  let fees = 0n;
  let transactions = 0;
  let topUps = 0n;
  let topUpCount = 0n;

  for (const h of input.holdings) {
    if (h.address.toLowerCase() === to.toLowerCase()) {
      problems.push(`index ${h.index} is the destination ${to} itself`);
      continue;
    }
    if (funder && h.address.toLowerCase() === funder.address.toLowerCase()) {
      problems.push(`index ${h.index} is the gas funder ${funder.address}`);
      continue;
    }
    const tokenTransfers = h.tokens
      .filter((t) => t.balance > 0n)
      .map((t) => ({ token: t.token, amount: t.balance, gas: t.transferGas, fee: t.transferGas * pricing.perGas }));
    const tokenFees = tokenTransfers.reduce((sum, t) => sum + t.fee, 0n);
    const topUp = tokenFees > h.native ? tokenFees - h.native : 0n;
    if (topUp > 0n && !funder) {
      const blocked = `its token sweeps need a gas top-up and there is no funder (--gas-from or --gas-key-*)`;
      addresses.push({ index: h.index, address: h.address, native: h.native, topUp, tokenTransfers, nativeTransfer: null, dust: h.native, blocked });
      problems.push(`index ${h.index} (${h.address}): ${blocked}`);
      continue;
    }
    const left = h.native + topUp - tokenFees;
    const nativeFee = nativeGas * pricing.perGas;
    const nativeTransfer = left > nativeFee ? { value: left - nativeFee, fee: nativeFee } : null;
    if (tokenTransfers.length === 0 && !nativeTransfer) continue;

    addresses.push({ index: h.index, address: h.address, native: h.native, topUp, tokenTransfers, nativeTransfer, dust: nativeTransfer ? 0n : left, blocked: null });
    for (const t of tokenTransfers) tokenTotals.set(t.token, (tokenTotals.get(t.token) ?? 0n) + t.amount);
    fees += tokenFees + (nativeTransfer?.fee ?? 0n);
    native += nativeTransfer?.value ?? 0n;
    transactions += tokenTransfers.length + (nativeTransfer ? 1 : 0);
    if (topUp > 0n) {
      topUps += topUp;
      topUpCount++;
    }
  }

  let funderPlan: SweepPlan["funder"] = null;
  if (funder) {
    const topUpFees = topUpCount * TRANSFER_GAS * pricing.perGas;
    funderPlan = { ...funder, topUps, fees: topUpFees };
    fees += topUpFees;
    transactions += Number(topUpCount);
    if (funder.native < topUps + topUpFees) {
      problems.push(`the gas funder ${funder.address} holds ${formatEther(funder.native)}, the top-ups and their fees need ${formatEther(topUps + topUpFees)}`);
    }
  }
  return { to, pricing, nativeGas, addresses, funder: funderPlan, totals: { native, fees, tokens: tokenTotals, transactions }, problems };
}
