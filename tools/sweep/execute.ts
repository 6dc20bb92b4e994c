// Carries out a sweep plan: gas top-ups from the funder, then each address's token transfers, then its native
// sweep of whatever balance is left. Signs locally, broadcasts raw, waits for receipts; a failure stops only the
// steps of its own address.

import { encodeFunctionData, erc20Abi, type Address, type Hash, type Hex, type PrivateKeyAccount, type PublicClient } from "viem";
import { mapLimit } from "./map-limit";
import { TRANSFER_GAS, type AddressPlan, type GasPricing, type SweepPlan } from "./plan";

export type StepKind = "top-up" | "token" | "native";

export interface StepResult {
  kind: StepKind;
  index: number;
  /** The address swept (for a top-up: the one funded). */
  address: Address;
  /** The native coin moved (value), or the token amount for a token step. */
  amount: bigint;
  token: Address | null;
  status: "success" | "failed" | "skipped";
  hash: Hash | null;
  /** gasUsed × effectiveGasPrice from the receipt. */
  fee: bigint | null;
  /** Why it failed or was skipped. */
  reason: string | null;
}

export interface ExecuteContext {
  client: PublicClient;
  chainId: number;
  /** The signer of a plan address (by its index). */
  signer(index: number): PrivateKeyAccount;
  funder: PrivateKeyAccount | null;
  receiptTimeoutMs: number;
  /** One line per tx sent, for progress on stderr. */
  onStep(result: StepResult, done: number): void;
}

/** Sweep addresses sending at once; each address's own txs go one after another. */
const CONCURRENCY = 8;

export async function executeSweep(plan: SweepPlan, ctx: ExecuteContext): Promise<StepResult[]> {
  const results: StepResult[] = [];
  let done = 0;
  const record = (r: StepResult) => {
    results.push(r);
    ctx.onStep(r, ++done);
    return r;
  };
  const active = plan.addresses.filter((a) => !a.blocked);
  const failed = new Map<number, string>();

  // 1. Top-ups, one funder nonce after another; then their receipts, together.
  const needing = active.filter((a) => a.topUp > 0n);
  if (needing.length > 0) {
    if (!ctx.funder) throw new Error("the plan has gas top-ups but no funder was given");
    const funder = ctx.funder;
    let nonce = await ctx.client.getTransactionCount({ address: funder.address, blockTag: "pending" });
    const sent: { plan: AddressPlan; hash: Hash | null; error: string | null }[] = [];
    for (const a of needing) {
      try {
        const hash = await sendSigned(ctx, funder, plan.pricing, { nonce, to: a.address, value: a.topUp, gas: TRANSFER_GAS });
        nonce++;
        sent.push({ plan: a, hash, error: null });
      } catch (error) {
        // A rejected tx took no nonce: the next top-up reuses it.
        sent.push({ plan: a, hash: null, error: describe(error) });
      }
    }
    await mapLimit(sent, CONCURRENCY, async ({ plan: a, hash, error }) => {
      const step = { kind: "top-up" as const, index: a.index, address: a.address, amount: a.topUp, token: null };
      const r = record(hash ? await settle(ctx, step, hash) : { ...step, status: "failed", hash: null, fee: null, reason: error });
      if (r.status !== "success") failed.set(a.index, `its gas top-up failed`);
    });
  }

  // 2. Each address's token transfers, then 3. its native sweep of the balance that is left.
  await mapLimit(active, CONCURRENCY, async (a) => {
    let nonce = await ctx.client.getTransactionCount({ address: a.address, blockTag: "pending" });
    const signer = ctx.signer(a.index);
    if (signer.address !== a.address) throw new Error(`index ${a.index}: the key derives ${signer.address}, not ${a.address}`);
    for (const t of a.tokenTransfers) {
      const step = { kind: "token" as const, index: a.index, address: a.address, amount: t.amount, token: t.token };
      const blockedBy = failed.get(a.index);
      if (blockedBy) {
        record({ ...step, status: "skipped", hash: null, fee: null, reason: blockedBy });
        continue;
      }
      const data = encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [plan.to, t.amount] });
      const r = record(await sendAndSettle(ctx, signer, plan.pricing, { nonce, to: t.token, value: 0n, gas: t.gas, data }, step));
      if (r.hash) nonce++;
      if (r.status !== "success") failed.set(a.index, "a token sweep of this address failed; its native coin stays to pay a retry");
    }

    // The balance now, after the receipts: refunds and late payments make it differ from the plan's prediction.
    const blockedBy = failed.get(a.index);
    const balance = await ctx.client.getBalance({ address: a.address, blockTag: "latest" });
    const fee = plan.nativeGas * plan.pricing.perGas;
    const step = { kind: "native" as const, index: a.index, address: a.address, amount: balance > fee ? balance - fee : 0n, token: null };
    if (blockedBy) {
      if (a.nativeTransfer) record({ ...step, status: "skipped", hash: null, fee: null, reason: blockedBy });
      return;
    }
    if (balance <= fee) {
      // Dust: less than the fee of moving it. Only worth a line if the plan meant to move something.
      if (a.nativeTransfer) record({ ...step, status: "skipped", hash: null, fee: null, reason: `balance ${balance} wei no longer covers the fee` });
      return;
    }
    record(await sendAndSettle(ctx, signer, plan.pricing, { nonce, to: plan.to, value: step.amount, gas: plan.nativeGas }, step));
  });
  return results;
}

interface TxFields {
  nonce: number;
  to: Address;
  value: bigint;
  gas: bigint;
  data?: Hex;
}

type Step = Pick<StepResult, "kind" | "index" | "address" | "amount" | "token">;

async function sendSigned(ctx: ExecuteContext, account: PrivateKeyAccount, pricing: GasPricing, tx: TxFields): Promise<Hash> {
  const fees =
    pricing.type === "eip1559"
      ? { type: "eip1559" as const, maxFeePerGas: pricing.perGas, maxPriorityFeePerGas: pricing.perGas }
      : { type: "legacy" as const, gasPrice: pricing.perGas };
  const serializedTransaction = await account.signTransaction({ chainId: ctx.chainId, ...tx, ...fees });
  return ctx.client.sendRawTransaction({ serializedTransaction });
}

async function sendAndSettle(ctx: ExecuteContext, account: PrivateKeyAccount, pricing: GasPricing, tx: TxFields, step: Step): Promise<StepResult> {
  let hash: Hash;
  try {
    hash = await sendSigned(ctx, account, pricing, tx);
  } catch (error) {
    return { ...step, status: "failed", hash: null, fee: null, reason: describe(error) };
  }
  return settle(ctx, step, hash);
}

async function settle(ctx: ExecuteContext, step: Step, hash: Hash): Promise<StepResult> {
  try {
    const receipt = await ctx.client.waitForTransactionReceipt({ hash, timeout: ctx.receiptTimeoutMs });
    const fee = receipt.gasUsed * receipt.effectiveGasPrice;
    if (receipt.status !== "success") return { ...step, status: "failed", hash, fee, reason: "reverted" };
    return { ...step, status: "success", hash, fee, reason: null };
  } catch (error) {
    return { ...step, status: "failed", hash, fee: null, reason: `no receipt: ${describe(error)}` };
  }
}

/** The first line of an error: viem's messages go on for a page. */
function describe(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string };
  return (e.shortMessage ?? e.message ?? String(error)).split("\n")[0]!;
}
