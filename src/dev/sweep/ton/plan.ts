// The TON sweep plan, from what toncenter reported and nothing else: which invoice wallets send everything they
// hold to the destination (and with which seqno, and whether the StateInit goes along), which are left and why.
// Pure: no API, no keys, no clock.

import type { Address } from "@ton/core";
import type { TonAccountState } from "./toncenter-v2";

/** 0.01 TON. A sweep costs about 0.0055 TON (measured: v4r2, seqno 0 with StateInit, mode 128+32); less is left. */
export const DUST_NANO = 10_000_000n;
/** What the plan counts per sweep for its fee total: the measured ≈0.0054 TON, rounded up. The real fee comes off the sent value. */
export const SWEEP_FEE_ESTIMATE_NANO = 6_000_000n;

export interface TonHolding {
  index: number;
  address: Address;
  /** Non-bounceable friendly form, as the invoices show it. */
  friendly: string;
  balance: bigint;
  state: TonAccountState;
  /** The wallet's seqno when active (read with the seqno get-method); null otherwise. */
  seqno: number | null;
}

export interface TonSweep extends TonHolding {
  /** The seqno the transfer is signed for: 0 for an undeployed wallet. */
  seqno: number;
  /** Whether the external message carries the StateInit (seqno 0: it deploys the wallet in the same transaction). */
  withInit: boolean;
}

export interface TonLeft extends TonHolding {
  reason: string;
}

export interface TonSweepPlan {
  to: Address;
  sweeps: readonly TonSweep[];
  /** Wallets holding something that is not swept (dust, frozen). */
  left: readonly TonLeft[];
  /** How many surveyed wallets hold nothing. */
  empty: number;
  totals: { balance: bigint; estimatedFees: bigint };
  /** Reasons not to broadcast this plan; empty when it can go. */
  problems: readonly string[];
}

export function buildTonSweepPlan(to: Address, holdings: readonly TonHolding[]): TonSweepPlan {
  const sweeps: TonSweep[] = [];
  const left: TonLeft[] = [];
  const problems: string[] = [];
  let empty = 0;
  for (const h of holdings) {
    if (h.address.equals(to)) {
      problems.push(`index ${h.index} is the destination ${h.friendly} itself`);
      continue;
    }
    if (h.balance === 0n) {
      empty++;
      continue;
    }
    if (h.state === "frozen") {
      left.push({ ...h, reason: "frozen: it must be unfrozen (storage debt paid with its StateInit) before it can send" });
      continue;
    }
    if (h.balance < DUST_NANO) {
      left.push({ ...h, reason: "dust, left: under 0.01 TON, about what a sweep costs" });
      continue;
    }
    if (h.state === "active" && h.seqno === null) {
      problems.push(`index ${h.index} (${h.friendly}) is an active wallet whose seqno could not be read`);
      continue;
    }
    const seqno = h.state === "active" ? h.seqno! : 0;
    sweeps.push({ ...h, seqno, withInit: seqno === 0 });
  }
  const balance = sweeps.reduce((sum, s) => sum + s.balance, 0n);
  return { to, sweeps, left, empty, totals: { balance, estimatedFees: BigInt(sweeps.length) * SWEEP_FEE_ESTIMATE_NANO }, problems };
}
