// `sweep ton`: options, network check, the merchant's key, survey of the invoice wallets, plan; then, with --send
// (and a yes), one signed external message per wallet and a wait until each account is empty; or, with --out,
// the signed messages written to a file. The plan goes to stdout, progress and errors to stderr.

import { access, readFile, writeFile } from "node:fs/promises";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Address } from "@ton/core";
import type { KeyPair } from "@ton/crypto";
import { GLOBAL_IDS } from "../../../chains/ton/settings";
import { deriveInvoiceWallet, type TonNetwork } from "../../../chains/ton/wallet";
import type { CliIo } from "../cli";
import { runCommand } from "../command";
import { EXIT_FAILED, EXIT_OK, EXIT_REFUSED } from "../exit-codes";
import { UsageError } from "../options";
import { confirm, readSecret, StdinLines } from "../secrets";
import { ChainMismatchError } from "../survey";
import { SecretError } from "../wallet";
import { merchantKeyPair } from "./merchant-key";
import { parseTonSweepArgs, TON_USAGE, type TonSweepOptions } from "./options";
import { buildTonSweepPlan, type TonHolding, type TonSweep } from "./plan";
import { formatOutcomeLine, formatTon, formatTonOutcome, formatTonPlan, type SweepOutcome } from "./report";
import { createToncenterV2, ToncenterError, type ToncenterV2 } from "./toncenter-v2";
import { signSweep } from "./transfer";

/** A signed sweep is valid this long: enough to broadcast a file of them, short enough that a lost one expires. */
const VALID_FOR_S = 3600;
const POLL_MS = 2_000;

export function runTonSweep(argv: readonly string[], io: CliIo): Promise<number> {
  return runCommand({ name: "sweep ton", usage: TON_USAGE, parse: parseTonSweepArgs, run: sweepTon }, argv, io);
}

async function sweepTon(opts: TonSweepOptions, io: CliIo): Promise<number> {
  if (opts.outFile !== null && (await access(opts.outFile).then(() => true, () => false))) {
    throw new UsageError(`--out: the file exists (${opts.outFile}); signed sweeps are never written over`);
  }
  const apiKey = opts.apiKeyFile ? (await readFile(opts.apiKeyFile, "utf8")).trim() : (process.env.TONCENTER_API_KEY?.trim() || null);
  const api = createToncenterV2(opts.apiUrl, apiKey);
  // The network first: no secret is asked for an API of the wrong network.
  await checkNetwork(api, opts.network);

  // With --public-key, a dry run needs no secret; anything that signs does.
  const signs = opts.send || opts.outFile !== null;
  let keyPair: KeyPair | null = null;
  if (signs || !opts.publicKey) {
    keyPair = await merchantKeyPair(await readSecret(opts.secret, "TON mnemonic or key", new StdinLines(io.stdin)));
    if (opts.publicKey && !keyPair.publicKey.equals(Buffer.from(opts.publicKey))) {
      throw new SecretError(`the secret derives public key ${bytesToHex(keyPair.publicKey)}, not the --public-key given`);
    }
  }
  const publicKey = keyPair?.publicKey ?? Buffer.from(opts.publicKey!);
  io.out(`TON ${opts.network} (global id ${GLOBAL_IDS[opts.network]}), merchant public key ${bytesToHex(publicKey)}`);

  const holdings = await survey(api, publicKey, opts, (h, done) =>
    io.err(`[${done}/${opts.indices.length}] #${h.index} ${h.friendly} ${formatTon(h.balance)} ${h.state}`),
  );
  const destination = opts.to.toString({ urlSafe: true, bounceable: false, testOnly: opts.network === "testnet" });
  const plan = buildTonSweepPlan(opts.to, holdings);
  io.out(`${holdings.length} invoice wallets surveyed.`);
  io.out(formatTonPlan(plan, destination));

  if (!signs) {
    io.out("Dry run: nothing was sent. Add --send to broadcast this plan, or --out <file> to sign it for broadcasting elsewhere.");
    return EXIT_OK;
  }
  if (plan.problems.length > 0) {
    io.err("sweep ton: not signing, the plan has problems (listed above).");
    return EXIT_REFUSED;
  }
  if (plan.sweeps.length === 0) return EXIT_OK;

  const validUntil = Math.floor(Date.now() / 1000) + VALID_FOR_S;
  const signed = plan.sweeps.map((s) => ({ sweep: s, boc: signSweep({ keyPair: keyPair!, index: s.index, seqno: s.seqno, to: opts.to, validUntil, network: opts.network }) }));

  if (opts.outFile !== null) {
    // "wx": an earlier file of signed sweeps is never overwritten.
    await writeFile(opts.outFile, signed.map((s) => `${s.boc}\n`).join(""), { flag: "wx", mode: 0o600 });
    signed.forEach((s, i) => io.out(`line ${i + 1}: #${s.sweep.index} ${s.sweep.friendly} ${formatTon(s.sweep.balance)}`));
    io.out(`Wrote ${signed.length} signed sweeps to ${opts.outFile}, valid until ${new Date(validUntil * 1000).toISOString()}; nothing was sent.`);
    return EXIT_OK;
  }

  if (!opts.yes && !(await confirm(`Broadcast ${signed.length} sweeps of ${formatTon(plan.totals.balance)}?`))) {
    io.err("sweep ton: not confirmed (answer y at the prompt, or pass --yes), nothing was sent.");
    return EXIT_REFUSED;
  }
  const outcomes = await broadcast(api, signed, opts.confirmTimeoutMs, io);
  for (const o of outcomes) io.out(formatOutcomeLine(o));
  io.out(formatTonOutcome(outcomes));
  return outcomes.every((o) => o.status === "swept") ? EXIT_OK : EXIT_FAILED;
}

async function checkNetwork(api: ToncenterV2, network: TonNetwork): Promise<void> {
  const id = await api.globalId();
  if (id !== GLOBAL_IDS[network]) {
    const name = Object.entries(GLOBAL_IDS).find(([, v]) => v === id)?.[0] ?? "an unknown network";
    throw new ChainMismatchError(`the API at --api serves ${name} (global id ${id}), but --network is ${network} (${GLOBAL_IDS[network]})`);
  }
}

/** Balance and state of each index's wallet (one request at a time: toncenter's rate limit), and the seqno of active ones. */
async function survey(api: ToncenterV2, publicKey: Buffer, opts: TonSweepOptions, onEach: (h: TonHolding, done: number) => void): Promise<TonHolding[]> {
  const holdings: TonHolding[] = [];
  for (const index of opts.indices) {
    const wallet = deriveInvoiceWallet(publicKey, index, opts.network);
    const account = await api.account(wallet.address);
    const seqno = account.state === "active" && account.balance > 0n ? await api.seqno(wallet.address).catch(() => null) : null;
    const holding: TonHolding = { index, address: wallet.address, friendly: wallet.friendly, ...account, seqno };
    holdings.push(holding);
    onEach(holding, holdings.length);
  }
  return holdings;
}

/** sendBoc each sweep, then poll until every sent wallet reads balance 0 (destroyed: nonexist) or the time is up. */
async function broadcast(api: ToncenterV2, signed: readonly { sweep: TonSweep; boc: string }[], timeoutMs: number, io: CliIo): Promise<SweepOutcome[]> {
  const outcomes = new Map<number, SweepOutcome>();
  const pending = new Map<number, { sweep: TonSweep; address: Address }>();
  let done = 0;
  const record = (o: SweepOutcome) => {
    outcomes.set(o.index, o);
    io.err(`[${++done}/${signed.length}] ${formatOutcomeLine(o)}`);
  };
  for (const { sweep, boc } of signed) {
    try {
      await api.sendBoc(boc);
      io.err(`sent #${sweep.index} ${sweep.friendly}`);
      pending.set(sweep.index, { sweep, address: sweep.address });
    } catch (error) {
      if (!(error instanceof ToncenterError)) throw error;
      record({ index: sweep.index, friendly: sweep.friendly, balance: sweep.balance, status: "failed", reason: `sendBoc refused: ${error.message}` });
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0) {
    for (const [index, { sweep, address }] of pending) {
      const account = await api.account(address).catch(() => null);
      if (account && account.balance === 0n && account.state === "uninitialized") {
        pending.delete(index);
        record({ index, friendly: sweep.friendly, balance: sweep.balance, status: "swept", reason: null });
      }
    }
    if (pending.size === 0) break;
    if (Date.now() >= deadline) {
      for (const [index, { sweep }] of pending) {
        record({ index, friendly: sweep.friendly, balance: sweep.balance, status: "timeout", reason: "the account still holds a balance; check it before sending again" });
      }
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return signed.map(({ sweep }) => outcomes.get(sweep.index)!);
}
