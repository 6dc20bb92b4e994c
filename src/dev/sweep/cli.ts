// The sweep command (EVM chains; `ton` goes to ./ton/cli): options, secrets, chain check, survey, plan; then, with --send (and a yes), the broadcast.
// The plan goes to stdout, progress and errors to stderr; the exit code says whether every transaction made it.

import { createPublicClient, http, type Address, type PrivateKeyAccount } from "viem";
import { runCommand } from "./command";
import { executeSweep } from "./execute";
import { NATIVE_SYMBOL, parseSweepArgs, USAGE, type SweepOptions } from "./options";
import { buildSweepPlan } from "./plan";
import { formatNative, formatOutcome, formatPlan, formatStep, formatToken, shortAddress, type Units } from "./report";
import { confirm, readSecret, StdinLines } from "./secrets";
import { checkChainId, nativeTransferGas, readGasPricing, readTokenInfo, surveyHoldings, type TokenInfo } from "./survey";
import { fundingAccount, MerchantWallet } from "./wallet";

import { EXIT_FAILED, EXIT_OK, EXIT_REFUSED } from "./exit-codes";
import { runTonSweep } from "./ton/cli";

export { EXIT_FAILED, EXIT_OK, EXIT_REFUSED };

export interface CliIo {
  stdin: NodeJS.ReadableStream;
  out(line: string): void;
  err(line: string): void;
}

const processIo: CliIo = {
  stdin: process.stdin,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export async function runSweep(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  // TON is another kind of chain (one key, wallet contracts, toncenter): its own command line after the name.
  if (argv[0] === "ton") return runTonSweep(argv.slice(1), io);
  return runCommand({ name: "sweep", usage: USAGE, parse: parseSweepArgs, run: sweep }, argv, io);
}

async function sweep(opts: SweepOptions, io: CliIo): Promise<number> {
  const client = createPublicClient({ transport: http(opts.rpcUrl, { batch: { batchSize: 100 } }), cacheTime: 0, pollingInterval: 1_000 });
  // The chain first: no secret is asked for a node of the wrong chain.
  const chainId = await checkChainId(client, opts.chain, opts.chainId);

  const stdin = new StdinLines(io.stdin);
  const mnemonic = await readSecret(opts.mnemonic, "mnemonic", stdin);
  const passphrase = opts.passphrase ? await readSecret(opts.passphrase, "BIP39 passphrase", stdin) : "";
  const wallet = new MerchantWallet(mnemonic, passphrase);
  let funder: PrivateKeyAccount | null = null;
  if (opts.gasFunder?.kind === "index") funder = wallet.invoiceAccount(opts.gasFunder.index);
  if (opts.gasFunder?.kind === "key") funder = fundingAccount(await readSecret(opts.gasFunder.source, "gas funding key", stdin));

  const accounts = new Map(opts.indices.map((index) => [index, wallet.invoiceAccount(index)]));
  const tokenInfo = new Map<Address, TokenInfo>();
  for (const token of opts.tokens) tokenInfo.set(token, await readTokenInfo(client, token));
  const units: Units = { native: NATIVE_SYMBOL[opts.chain], tokens: tokenInfo };

  const pricing = await readGasPricing(client);
  const total = opts.indices.length;
  const holdings = await surveyHoldings(
    client,
    opts.indices.map((index) => ({ index, address: accounts.get(index)!.address })),
    opts.tokens,
    opts.to,
    (h, done) => {
      const tokens = h.tokens.map((t) => `, ${formatToken(t.balance, t.token, units)}`).join("");
      io.err(`[${done}/${total}] #${h.index} ${shortAddress(h.address)} ${formatNative(h.native, units)}${tokens}`);
    },
  );
  const richest = holdings.reduce<(typeof holdings)[number] | null>((best, h) => (!best || h.native > best.native ? h : best), null);
  const nativeGas = await nativeTransferGas(client, opts.to, richest && richest.native > 0n ? richest.address : null);
  const funderHolding = funder ? { address: funder.address, native: await client.getBalance({ address: funder.address }) } : null;
  const plan = buildSweepPlan({ to: opts.to, pricing, nativeGas, holdings, funder: funderHolding });

  io.out(`Chain ${opts.chain} (chain id ${chainId}), ${total} addresses surveyed.`);
  io.out(formatPlan(plan, units));
  if (!opts.send) {
    io.out("Dry run: nothing was sent. Add --send to broadcast this plan.");
    return EXIT_OK;
  }
  if (plan.problems.length > 0) {
    io.err("sweep: not sending, the plan has problems (listed above).");
    return EXIT_REFUSED;
  }
  if (plan.totals.transactions === 0) return EXIT_OK;
  if (!opts.yes && !(await confirm(`Broadcast ${plan.totals.transactions} transactions?`))) {
    io.err("sweep: not confirmed (answer y at the prompt, or pass --yes), nothing was sent.");
    return EXIT_REFUSED;
  }

  const results = await executeSweep(plan, {
    client,
    chainId,
    signer: (index) => accounts.get(index)!,
    funder,
    receiptTimeoutMs: opts.receiptTimeoutMs,
    onStep: (r, done) => io.err(formatStep(r, done, plan.totals.transactions, units)),
  });
  for (const r of results) {
    const amount = r.token ? formatToken(r.amount, r.token, units) : formatNative(r.amount, units);
    const fee = r.fee === null ? "" : ` fee ${formatNative(r.fee, units)}`;
    io.out(`${r.status.padEnd(7)} ${r.kind.padEnd(6)} #${r.index} ${r.address} ${amount}${fee} ${r.hash ?? ""}${r.reason ? ` (${r.reason})` : ""}`);
  }
  io.out(formatOutcome(results));
  return results.every((r) => r.status === "success") ? EXIT_OK : EXIT_FAILED;
}
