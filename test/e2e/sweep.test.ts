// The sweep tool against a real anvil: a merchant's invoice addresses (another mnemonic than anvil's) are funded
// with ETH and the 6-decimal test token, then swept by the CLI (mnemonic on stdin) and by its functions directly.
import { randomBytes } from "node:crypto";
import { createPublicClient, erc20Abi, getAddress, http, type Address, type Hash, type PublicClient } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeSweep } from "../../src/dev/sweep/execute";
import { buildSweepPlan, TRANSFER_GAS } from "../../src/dev/sweep/plan";
import { readGasPricing, surveyHoldings } from "../../src/dev/sweep/survey";
import { MerchantWallet } from "../../src/dev/sweep/wallet";
import { startAnvil, type Anvil } from "./support/anvil";
import { runSweepCli } from "./support/sweep-cli";

/** The 12-word BIP39 test vector: not anvil's mnemonic, so its addresses start empty. Never for real funds. */
const MERCHANT_MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const ETH = 10n ** 18n;
const USD = 10n ** 6n;

let anvil: Anvil;
let token: Address;
let client: PublicClient;

beforeAll(async () => {
  anvil = await startAnvil();
  token = await anvil.deployToken();
  // Every send is mined on arrival, so the tool's receipts come at once.
  await anvil.rpc("anvil_setAutomine", [true]);
  client = createPublicClient({ transport: http(anvil.url), cacheTime: 0, pollingInterval: 50 });
}, 60_000);

afterAll(async () => {
  await anvil?.stop();
}, 30_000);

const merchant = (index: number) => mnemonicToAccount(MERCHANT_MNEMONIC, { addressIndex: index }).address;
const freshAddress = (): Address => getAddress(`0x${randomBytes(20).toString("hex")}`);
const balance = (address: Address) => client.getBalance({ address });
const tokenBalance = (address: Address) => client.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [address] });

async function fund(index: number, wei: bigint, usd: bigint): Promise<void> {
  if (wei > 0n) await anvil.send(1, merchant(index), wei);
  if (usd > 0n) await anvil.transferToken(0, merchant(index), usd);
}

async function receiptOf(hash: Hash) {
  const receipt = await client.getTransactionReceipt({ hash });
  const tx = await client.getTransaction({ hash });
  const fee = receipt.gasUsed * receipt.effectiveGasPrice;
  return { fee, value: tx.value, gas: tx.gas, gasPrice: receipt.effectiveGasPrice, status: receipt.status };
}

const runCli = runSweepCli;

const baseArgs = (to: Address, indices: string) => ["eth", "--rpc", anvil.url, "--to", to, "--indices", indices];

describe("sweep CLI", () => {
  it("dry-runs by default: prints each address's transfers and the totals, and sends nothing", async () => {
    await fund(100, 2n * ETH, 0n);
    await fund(101, 0n, 7n * USD);
    const to = freshAddress();
    const before = await Promise.all([100, 101, 150].map((i) => balance(merchant(i))));
    const head = await client.getBlockNumber();

    const run = await runCli([...baseArgs(to, "100-102"), "--token", token, "--gas-from", "150", "--mnemonic-stdin"], `${MERCHANT_MNEMONIC}\n`);
    expect(run.stderr).not.toContain("abandon");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`#100 ${merchant(100)}  holds 2 ETH`);
    expect(run.stdout).toMatch(/gas top-up  [\d.]+ ETH from the funder\n {4}token {7}7 TUSD  fee ≤ [\d.]+ ETH \(gas \d+\)/);
    expect(run.stdout).toContain("Dry run: nothing was sent.");
    expect(run.stdout).toMatch(/Totals: 1\.9999\d+ ETH to the destination, 7 TUSD; fees [\d.]+ ETH; 3 transactions/);
    // The gas funder is empty, so the plan names the problem (and --send would refuse it).
    expect(run.stdout).toContain("PROBLEM: the gas funder");
    // Progress, one line per address surveyed (in the order the node answered).
    for (const i of [100, 101, 102]) expect(run.stderr).toMatch(new RegExp(`\\[[1-3]/3\\] #${i} ${merchant(i).slice(0, 6)}…`));

    expect(await client.getBlockNumber()).toBe(head);
    expect(await Promise.all([100, 101, 150].map((i) => balance(merchant(i))))).toEqual(before);
    expect(await tokenBalance(merchant(101))).toBe(7n * USD);
    expect(await balance(to)).toBe(0n);
  });

  it("--send moves every coin and token to the destination, the funder paying exactly the token gas", async () => {
    // #200 ETH only, #201 ETH and tokens, #202 tokens only (needs a top-up), #203 nothing; #250 funds the gas.
    await fund(200, 3n * ETH, 0n);
    await fund(201, ETH, 5n * USD);
    await fund(202, 0n, 12_345_678n);
    await fund(250, ETH, 0n);
    const to = freshAddress();
    const funderBefore = await balance(merchant(250));

    const run = await runCli(
      [...baseArgs(to, "200-203"), "--token", token, "--gas-from", "250", "--mnemonic-stdin", "--send", "--yes"],
      `${MERCHANT_MNEMONIC}\n`,
    );
    expect(run.code, run.stderr).toBe(0);
    const sent = run.stdout.split("\n").filter((l) => l.startsWith("success"));
    expect(run.stdout).toContain(`Done: ${sent.length} sent, 0 failed, 0 skipped.`);
    expect(run.stderr).toContain(`[${sent.length}/5] `);
    const step = async (kind: string, index: number) => {
      const hash = sent.find((l) => l.includes(` ${kind.padEnd(6)} #${index} `))?.match(/0x[0-9a-f]{64}/)?.[0] as Hash | undefined;
      return hash ? receiptOf(hash) : null;
    };
    const topUp = (await step("top-up", 202))!;
    const token201 = (await step("token", 201))!;
    const token202 = (await step("token", 202))!;
    const native200 = (await step("native", 200))!;
    const native201 = (await step("native", 201))!;
    // The estimate of #202's transfer assumed an empty destination slot; #201's transfer filled it first, so #202
    // used less gas than its limit and may have enough left for a native sweep of its own.
    const native202 = await step("native", 202);
    const swept = [topUp, token201, token202, native200, native201, ...(native202 ? [native202] : [])];
    expect(swept.every((r) => r.status === "success")).toBe(true);
    expect(sent).toHaveLength(swept.length);
    expect(await step("native", 203)).toBeNull();

    // Native sweeps pay exactly gas × perGas (max fee = priority fee), so the addresses end at zero.
    const nativeFee = native200.fee;
    expect(nativeFee).toBe(TRANSFER_GAS * native200.gasPrice);
    expect(native200.value + native200.fee).toBe(3n * ETH);
    expect(native201.value + native201.fee + token201.fee).toBe(ETH);
    expect(await balance(merchant(200))).toBe(0n);
    expect(await balance(merchant(201))).toBe(0n);
    // #202 got exactly its token transfer's gas limit × price; what the gas refund left is dust below a native fee.
    expect(topUp.value).toBe(token202.gas * token202.gasPrice);
    const dust = topUp.value - token202.fee - (native202 ? native202.value + native202.fee : 0n);
    expect(await balance(merchant(202))).toBe(dust);
    expect(dust).toBeLessThan(nativeFee);

    expect(await balance(to)).toBe(native200.value + native201.value + (native202?.value ?? 0n));
    expect(await tokenBalance(to)).toBe(5n * USD + 12_345_678n);
    expect(await tokenBalance(merchant(201))).toBe(0n);
    expect(await tokenBalance(merchant(202))).toBe(0n);
    expect(funderBefore - (await balance(merchant(250)))).toBe(topUp.value + topUp.fee);
    expect(await balance(merchant(203))).toBe(0n);
  });

  it("refuses a node whose chain id is not the chain's, before asking for the mnemonic", async () => {
    const wrongBnb = await runCli(["bnb", "--rpc", anvil.url, "--to", freshAddress(), "--indices", "0", "--chain-id", "56"], "");
    expect(wrongBnb.code).toBe(2);
    expect(wrongBnb.stderr).toContain("reports chain id 31337, but bnb expects 56");

    const mainnet = await startAnvil({ chainId: 1 });
    try {
      const run = await runCli(["bnb", "--rpc", mainnet.url, "--to", freshAddress(), "--indices", "0", "--mnemonic-stdin"], `${MERCHANT_MNEMONIC}\n`);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("reports chain id 1, but bnb expects 56 or 97 or 31337 or 1337");
      expect(run.stdout).toBe("");
    } finally {
      await mainnet.stop();
    }
  });

  it("refuses a mnemonic given as an argument, without echoing it, and sends nothing", async () => {
    await fund(300, ETH, 0n);
    const to = freshAddress();
    for (const args of [
      [...baseArgs(to, "300"), "--mnemonic", MERCHANT_MNEMONIC, "--send", "--yes"],
      [...baseArgs(to, "300"), `--mnemonic=${MERCHANT_MNEMONIC}`, "--send", "--yes"],
      [...baseArgs(to, "300"), ...MERCHANT_MNEMONIC.split(" "), "--send", "--yes"],
    ]) {
      const run = await runCli(args, "");
      expect(run.code).toBe(2);
      expect(run.stderr).not.toContain("abandon");
      expect(run.stdout).toBe("");
    }
    expect(await balance(merchant(300))).toBe(ETH);
    expect(await balance(to)).toBe(0n);
  });
});

describe("sweep functions", () => {
  it("survey, plan and execute sweep a token holder after topping it up, and report each tx's fee", async () => {
    await fund(400, ETH / 10n, 0n);
    await fund(401, 0n, 99n * USD);
    await fund(450, ETH, 0n);
    const wallet = new MerchantWallet(MERCHANT_MNEMONIC);
    expect(wallet.invoiceAccount(401).address).toBe(merchant(401));
    const to = freshAddress();
    const funder = wallet.invoiceAccount(450);
    const pricing = await readGasPricing(client);
    expect(pricing.type).toBe("eip1559");

    const holdings = await surveyHoldings(client, [400, 401].map((index) => ({ index, address: merchant(index) })), [token], to);
    expect(holdings.map((h) => [h.native, h.tokens.map((t) => t.balance)])).toEqual([
      [ETH / 10n, []],
      [0n, [99n * USD]],
    ]);
    const plan = buildSweepPlan({ to, pricing, nativeGas: TRANSFER_GAS, holdings, funder: { address: funder.address, native: await balance(funder.address) } });
    expect(plan.problems).toEqual([]);
    const [a400, a401] = plan.addresses;
    expect(a400?.nativeTransfer).toEqual({ value: ETH / 10n - TRANSFER_GAS * pricing.perGas, fee: TRANSFER_GAS * pricing.perGas });
    expect(a401?.topUp).toBe(holdings[1]!.tokens[0]!.transferGas * pricing.perGas);

    const results = await executeSweep(plan, {
      client,
      chainId: anvil.chainId,
      signer: (index) => wallet.invoiceAccount(index),
      funder,
      receiptTimeoutMs: 10_000,
      onStep: () => {},
    });
    expect(results.map((r) => [r.kind, r.index, r.status])).toEqual(
      expect.arrayContaining([
        ["top-up", 401, "success"],
        ["token", 401, "success"],
        ["native", 400, "success"],
      ]),
    );
    expect(results).toHaveLength(3);
    const native = results.find((r) => r.kind === "native")!;
    expect(native.amount + native.fee!).toBe(ETH / 10n);
    expect(await balance(merchant(400))).toBe(0n);
    expect(await balance(to)).toBe(native.amount);
    const tokenStep = results.find((r) => r.kind === "token")!;
    expect(await balance(merchant(401))).toBe(a401!.topUp - tokenStep.fee!);
    expect(await tokenBalance(to)).toBe(99n * USD);
  });

  it("goes on with the other addresses when a transaction fails, and keeps the failed address's native coin", async () => {
    await fund(500, ETH / 10n, 3n * USD);
    await fund(501, ETH / 10n, 0n);
    const wallet = new MerchantWallet(MERCHANT_MNEMONIC);
    const to = freshAddress();
    const pricing = await readGasPricing(client);
    const holdings = await surveyHoldings(client, [500, 501].map((index) => ({ index, address: merchant(index) })), [token], to);
    const plan = buildSweepPlan({ to, pricing, nativeGas: TRANSFER_GAS, holdings, funder: null });
    // More than #500 holds: its transfer reverts on chain (the gas limit is given, so nothing estimates it first).
    const tampered = {
      ...plan,
      addresses: plan.addresses.map((a) => (a.index === 500 ? { ...a, tokenTransfers: a.tokenTransfers.map((t) => ({ ...t, amount: t.amount + 1n })) } : a)),
    };

    const results = await executeSweep(tampered, {
      client,
      chainId: anvil.chainId,
      signer: (index) => wallet.invoiceAccount(index),
      funder: null,
      receiptTimeoutMs: 10_000,
      onStep: () => {},
    });
    const byStep = Object.fromEntries(results.map((r) => [`${r.kind} ${r.index}`, r]));
    expect(byStep["token 500"]).toMatchObject({ status: "failed", reason: "reverted" });
    expect(byStep["token 500"]?.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(byStep["native 500"]).toMatchObject({ status: "skipped", reason: expect.stringMatching(/token sweep .* failed/) });
    expect(byStep["native 501"]).toMatchObject({ status: "success" });
    expect(results).toHaveLength(3);

    expect(await balance(merchant(500))).toBe(ETH / 10n - byStep["token 500"]!.fee!);
    expect(await tokenBalance(merchant(500))).toBe(3n * USD);
    expect(await balance(merchant(501))).toBe(0n);
    expect(await balance(to)).toBe(byStep["native 501"]!.amount);
  });
});
