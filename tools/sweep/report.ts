// How a sweep reads to a person: the plan (per address what moves and its fee, then totals), one progress line per
// step, and the outcome of each transaction. Amounts are bigints throughout, formatted only here.

import { formatUnits, type Address } from "viem";
import type { StepResult } from "./execute";
import type { SweepPlan } from "./plan";
import type { TokenInfo } from "./survey";

const NATIVE_DECIMALS = 18;

export interface Units {
  native: string;
  tokens: ReadonlyMap<Address, TokenInfo>;
}

export function formatNative(wei: bigint, units: Units): string {
  return `${formatUnits(wei, NATIVE_DECIMALS)} ${units.native}`;
}

export function formatToken(amount: bigint, token: Address, units: Units): string {
  const info = units.tokens.get(token);
  return info ? `${formatUnits(amount, info.decimals)} ${info.symbol}` : `${amount} (base units of ${token})`;
}

/** "0xabcd…1234": enough to tell addresses apart on a progress line. */
export function shortAddress(address: Address): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

export function formatPlan(plan: SweepPlan, units: Units): string {
  const lines: string[] = [];
  const price = `${formatUnits(plan.pricing.perGas, 9)} gwei per gas (${plan.pricing.type === "eip1559" ? "EIP-1559, max fee = priority fee" : "legacy gasPrice"})`;
  lines.push(`Sweep to ${plan.to}, ${price}`);
  if (plan.funder) {
    lines.push(`Gas funder ${plan.funder.address}: holds ${formatNative(plan.funder.native, units)}, ` +
      `sends ${formatNative(plan.funder.topUps, units)} in top-ups, fees ${formatNative(plan.funder.fees, units)}`);
  }
  if (plan.addresses.length === 0) lines.push("Nothing to sweep.");
  for (const a of plan.addresses) {
    lines.push(`#${a.index} ${a.address}  holds ${formatNative(a.native, units)}`);
    if (a.blocked) {
      lines.push(`    BLOCKED: ${a.blocked}`);
      continue;
    }
    if (a.topUp > 0n) lines.push(`    gas top-up  ${formatNative(a.topUp, units)} from the funder`);
    for (const t of a.tokenTransfers) {
      lines.push(`    token       ${formatToken(t.amount, t.token, units)}  fee ≤ ${formatNative(t.fee, units)} (gas ${t.gas})`);
    }
    if (a.nativeTransfer) lines.push(`    native      ${formatNative(a.nativeTransfer.value, units)}  fee ${formatNative(a.nativeTransfer.fee, units)}`);
    else lines.push(`    native      none (${formatNative(a.dust, units)} left does not cover the fee)`);
  }
  lines.push(`Totals: ${formatNative(plan.totals.native, units)} to the destination` +
    [...plan.totals.tokens].map(([token, amount]) => `, ${formatToken(amount, token, units)}`).join("") +
    `; fees ${formatNative(plan.totals.fees, units)}; ${plan.totals.transactions} transactions`);
  for (const p of plan.problems) lines.push(`PROBLEM: ${p}`);
  return lines.join("\n");
}

/** "[37/500] native 0xabcd…1234 1.25 ETH ok 0x…" */
export function formatStep(r: StepResult, done: number, total: number, units: Units): string {
  const amount = r.token ? formatToken(r.amount, r.token, units) : formatNative(r.amount, units);
  const outcome = r.status === "success" ? `ok ${r.hash}` : `${r.status.toUpperCase()}${r.hash ? ` ${r.hash}` : ""}: ${r.reason}`;
  return `[${done}/${total}] ${r.kind.padEnd(6)} #${r.index} ${shortAddress(r.address)} ${amount} ${outcome}`;
}

export function formatOutcome(results: readonly StepResult[]): string {
  const count = (status: StepResult["status"]) => results.filter((r) => r.status === status).length;
  return `Done: ${count("success")} sent, ${count("failed")} failed, ${count("skipped")} skipped.`;
}
