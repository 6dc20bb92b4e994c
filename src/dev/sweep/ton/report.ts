// How a TON sweep reads to a person: the plan (per wallet its balance, state and what is sent), then one line per
// sweep's outcome. Amounts are nanoton bigints throughout, formatted only here.

import { fromNano } from "@ton/core";
import { DUST_NANO, SWEEP_FEE_ESTIMATE_NANO, type TonSweepPlan } from "./plan";

export const formatTon = (nano: bigint) => `${fromNano(nano)} TON`;

export interface SweepOutcome {
  index: number;
  friendly: string;
  balance: bigint;
  status: "swept" | "failed" | "timeout";
  reason: string | null;
}

export function formatTonPlan(plan: TonSweepPlan, destination: string): string {
  const lines = [`Sweep to ${destination} (bounce off): each wallet sends all it holds and is destroyed (mode 128+32).`];
  for (const s of plan.sweeps) {
    const how = s.withInit ? "seqno 0, deploys with its StateInit" : `seqno ${s.seqno}`;
    lines.push(`#${s.index} ${s.friendly}  ${formatTon(s.balance)}  ${s.state}  sweep all (${how})`);
  }
  for (const l of plan.left) lines.push(`#${l.index} ${l.friendly}  ${formatTon(l.balance)}  ${l.state}  ${l.reason}`);
  if (plan.empty > 0) lines.push(`${plan.empty} empty ${plan.empty === 1 ? "wallet" : "wallets"} skipped.`);
  if (plan.sweeps.length === 0) lines.push("Nothing to sweep.");
  lines.push(
    `Totals: ${formatTon(plan.totals.balance)} in ${plan.sweeps.length} sweeps; fees about ${formatTon(plan.totals.estimatedFees)} ` +
      `(≈${formatTon(SWEEP_FEE_ESTIMATE_NANO)} each, taken from the amount sent); dust under ${formatTon(DUST_NANO)} is left.`,
  );
  for (const p of plan.problems) lines.push(`PROBLEM: ${p}`);
  return lines.join("\n");
}

export function formatOutcomeLine(o: SweepOutcome): string {
  return `${o.status.padEnd(7)} #${o.index} ${o.friendly} ${formatTon(o.balance)}${o.reason ? ` (${o.reason})` : ""}`;
}

export function formatTonOutcome(outcomes: readonly SweepOutcome[]): string {
  const count = (status: SweepOutcome["status"]) => outcomes.filter((o) => o.status === status).length;
  return `Done: ${count("swept")} swept, ${count("failed")} failed, ${count("timeout")} not confirmed in time.`;
}
