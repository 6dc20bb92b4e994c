// `sweep ton` against the real TON emulator behind a toncenter-shaped server: a merchant's invoice wallets (v4r2,
// walletId 0x40000000 + i) are paid by the sandbox payer, then swept by the CLI (secret on stdin) to a fresh wallet.
// Amounts are checked exactly against the emulator's own transactions (v3 /transactions), not approximately.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Address, toNano } from "@ton/core";
import { keyPairFromSeed } from "@ton/crypto";
import { WalletContractV4 } from "@ton/ton";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveInvoiceWallet } from "../../src/chains/ton/wallet";
import { runSweepCli } from "./support/sweep-cli";
import { startTonSandbox, type TonSandbox } from "./support/ton-sandbox";

/** A throwaway TON mnemonic (made once with @ton/crypto mnemonicNew) and its public key. Never for real funds. */
const MNEMONIC = "wear eager off april sting job story napkin right sunset timber portion stadium oppose muffin feel arm flavor dawn alert cousin chuckle filter screen";
const PUBLIC_KEY = Buffer.from("928d33d667d6c75fbf068e94f37bd70fcc9685d9a7bfa3ac3f1b6b02212a78b6", "hex");

let ton: TonSandbox;
let scratch: string;

beforeAll(async () => {
  ton = await startTonSandbox();
  scratch = await mkdtemp(join(tmpdir(), "ton-sweep-"));
}, 60_000);

afterAll(async () => {
  await ton?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 30_000);

interface V3Tx {
  hash: string;
  orig_status: string;
  end_status: string;
  total_fees: string;
  in_msg: { value: string | null; source: string | null } | null;
  out_msgs: { value: string; fwd_fee: string; destination: string; bounce: boolean }[];
  description: { aborted: boolean; destroyed: boolean };
}

const invoice = (index: number) => deriveInvoiceWallet(PUBLIC_KEY, index, "mainnet");
/** An undeployed wallet of a fresh key, non-bounceable form: a merchant's own wallet, never used before. */
const freshDestination = () => WalletContractV4.create({ workchain: 0, publicKey: keyPairFromSeed(randomBytes(32)).publicKey }).address;
const userForm = (address: Address) => address.toString({ urlSafe: true, bounceable: false });

async function txs(address: Address): Promise<V3Tx[]> {
  const response = await fetch(`${ton.url}/v3/transactions?account=${address.toRawString()}&limit=1000&sort=asc`);
  return ((await response.json()) as { transactions: V3Tx[] }).transactions;
}

async function account(address: Address) {
  const contract = await ton.blockchain.getContract(address);
  return { balance: contract.balance, state: contract.accountState?.type ?? "non-existing" };
}

/** The CLI with no API key from the environment: the sandbox takes none. */
const runCli = (args: string[], stdin: string) => runSweepCli(["ton", ...args], stdin, { ...process.env, TONCENTER_API_KEY: "" });

const args = (to: Address, indices: string, ...more: string[]) => ["--api", ton.url, "--to", userForm(to), "--indices", indices, ...more];
const PAID = { 0: toNano("2.5"), 2: toNano("1.25"), 5: toNano("0.75") } as const;
const DUST = toNano("0.004");

describe("sweep ton", () => {
  it("sweeps paid invoice wallets to the destination: dry run first, then --send, exact to the nanoton", async () => {
    for (const [index, amount] of Object.entries(PAID)) await ton.pay({ to: invoice(Number(index)).friendly, amountNano: amount });
    await ton.pay({ to: invoice(4).friendly, amountNano: DUST });
    const to = freshDestination();

    // Dry run: the plan, and nothing sent.
    const tip = ton.tip();
    const dry = await runCli(args(to, "0-5", "--mnemonic-stdin"), `${MNEMONIC}\n`);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`merchant public key ${PUBLIC_KEY.toString("hex")}`);
    expect(dry.stdout).toContain(`#0 ${invoice(0).friendly}  2.5 TON  uninitialized  sweep all (seqno 0, deploys with its StateInit)`);
    expect(dry.stdout).toContain(`#2 ${invoice(2).friendly}  1.25 TON  uninitialized  sweep all`);
    expect(dry.stdout).toContain(`#5 ${invoice(5).friendly}  0.75 TON  uninitialized  sweep all`);
    expect(dry.stdout).toContain(`#4 ${invoice(4).friendly}  0.004 TON  uninitialized  dust, left`);
    expect(dry.stdout).toContain("2 empty wallets skipped.");
    expect(dry.stdout).toMatch(/Totals: 4.5 TON in 3 sweeps; fees about 0.018 TON/);
    expect(dry.stdout).toContain("Dry run: nothing was sent.");
    expect(dry.stderr).toContain(`[6/6] #5 ${invoice(5).friendly} 0.75 TON uninitialized`);
    expect(dry.stderr).not.toContain("wear");
    expect(ton.tip()).toBe(tip);
    // With the public key, a dry run needs no secret at all.
    const watchOnly = await runCli(args(to, "0-5", "--public-key", PUBLIC_KEY.toString("hex")), "");
    expect(watchOnly.code, watchOnly.stderr).toBe(0);
    expect(watchOnly.stdout).toContain("Totals: 4.5 TON in 3 sweeps");
    expect(ton.tip()).toBe(tip);

    // --send, the secret on stdin and the public key asserted.
    const run = await runCli(args(to, "0-5", "--mnemonic-stdin", "--public-key", PUBLIC_KEY.toString("hex"), "--send", "--yes"), `${MNEMONIC}\n`);
    expect(run.code, run.stderr).toBe(0);
    for (const index of [0, 2, 5]) expect(run.stdout).toContain(`swept   #${index} ${invoice(index).friendly}`);
    expect(run.stdout).toContain("Done: 3 swept, 0 failed, 0 not confirmed in time.");

    let fees = 0n;
    let received = 0n;
    for (const [index, amount] of Object.entries(PAID)) {
      const wallet = invoice(Number(index)).address;
      expect(await account(wallet)).toEqual({ balance: 0n, state: "non-existing" });
      const [payment, sweep, ...more] = await txs(wallet);
      expect(more).toEqual([]);
      expect(payment!.in_msg!.value).toBe(amount.toString());
      // One transaction deploys the wallet (StateInit), sends all and destroys it.
      expect(sweep).toMatchObject({ orig_status: "uninit", end_status: "nonexist", description: { aborted: false, destroyed: true } });
      expect(sweep!.in_msg!.source).toBeNull();
      expect(sweep!.out_msgs).toHaveLength(1);
      const out = sweep!.out_msgs[0]!;
      expect(Address.parse(out.destination).equals(to)).toBe(true);
      expect(out.bounce).toBe(false);
      // Everything paid in left as fees or as the one message: nothing stays behind.
      const walletFees = BigInt(payment!.total_fees) + BigInt(sweep!.total_fees) + BigInt(out.fwd_fee);
      expect(BigInt(out.value) + walletFees).toBe(amount);
      fees += walletFees;
      received += BigInt(out.value);
    }
    const destinationTxs = await txs(to);
    expect(destinationTxs).toHaveLength(3);
    const destinationFees = destinationTxs.reduce((sum, t) => sum + BigInt(t.total_fees), 0n);
    const paid = Object.values(PAID).reduce((a, b) => a + b, 0n);
    expect((await account(to)).balance).toBe(paid - fees - destinationFees);
    expect(received - destinationFees).toBe(paid - fees - destinationFees);
    // The sweep costs what the docs say: under the 0.006 TON the plan counts per wallet.
    expect(fees).toBeLessThan(3n * toNano("0.006"));
    expect(await account(invoice(4).address)).toEqual({ balance: DUST, state: "uninit" });

    // A second run finds nothing to send.
    const tipAfter = ton.tip();
    const again = await runCli(args(to, "0-5", "--mnemonic-stdin", "--send", "--yes"), `${MNEMONIC}\n`);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("Nothing to sweep.");
    expect(again.stdout).not.toContain("swept ");
    expect(ton.tip()).toBe(tipAfter);

    // A late payment recreates the destroyed wallet's balance; a new seqno-0 sweep with the StateInit recovers it.
    await ton.pay({ to: invoice(0).friendly, amountNano: toNano("0.5") });
    const late = await runCli(args(to, "0", "--mnemonic-stdin", "--send", "--yes"), `${MNEMONIC}\n`);
    expect(late.code, late.stderr).toBe(0);
    expect(late.stdout).toContain("Done: 1 swept, 0 failed");
    expect(await account(invoice(0).address)).toEqual({ balance: 0n, state: "non-existing" });
  });

  it("--out writes the signed sweeps and sends nothing; each line broadcasts with sendBoc", async () => {
    await ton.pay({ to: invoice(7).friendly, amountNano: toNano("1") });
    const to = freshDestination();
    const file = join(scratch, "sweeps.txt");
    const tip = ton.tip();
    const run = await runCli(args(to, "6-7", "--mnemonic-stdin", "--out", file), `${MNEMONIC}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`line 1: #7 ${invoice(7).friendly} 1 TON`);
    expect(ton.tip()).toBe(tip);
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(1);
    expect((await account(invoice(7).address)).balance).toBe(toNano("1"));

    const sent = await fetch(`${ton.url}/v2/sendBoc`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ boc: lines[0] }) });
    expect(await sent.json()).toEqual({ ok: true, result: { "@type": "ok" } });
    expect(await account(invoice(7).address)).toEqual({ balance: 0n, state: "non-existing" });
    const [credit] = await txs(to);
    expect(BigInt(credit!.in_msg!.value!)).toBe((await account(to)).balance + BigInt(credit!.total_fees));
    // Replaying the same message is refused: the wallet is gone and the seqno-0 message spent.
    const replay = await fetch(`${ton.url}/v2/sendBoc`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ boc: lines[0] }) });
    expect(replay.status).toBe(500);
    // --out never overwrites an earlier file of signed sweeps, and refuses before asking for the secret.
    const twice = await runCli(args(to, "7", "--mnemonic-stdin", "--out", file), "");
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("--out: the file exists");
    expect((await readFile(file, "utf8")).trim()).toBe(lines[0]);
  });

  it("refuses an API of another network before asking for the secret", async () => {
    const run = await runCli(["--api", ton.url, "--to", invoice(99).raw, "--indices", "0", "--network", "testnet", "--mnemonic-stdin", "--send", "--yes"], "");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("the API at --api serves mainnet (global id -239), but --network is testnet (-3)");
    expect(run.stdout).toBe("");
  });

  it("refuses the secret as an argument without echoing it, a destination among the swept wallets, and a wrong key", async () => {
    await ton.pay({ to: invoice(10).friendly, amountNano: toNano("1") });
    const to = freshDestination();
    // (Every spelling is in the unit tests; here the CLI's exit and silence.)
    for (const extra of [[`--mnemonic=${MNEMONIC}`], MNEMONIC.split(" "), ["--secret-key", "11".repeat(32)]]) {
      const run = await runCli([...args(to, "10"), ...extra, "--send", "--yes"], "");
      expect(run.code).toBe(2);
      expect(run.stderr).not.toContain("wear");
      expect(run.stderr).not.toContain("1111");
      expect(run.stdout).toBe("");
    }
    const self = await runCli([...args(invoice(10).address, "9-10", "--mnemonic-stdin"), "--send", "--yes"], `${MNEMONIC}\n`);
    expect(self.code).toBe(2);
    expect(self.stdout).toContain(`PROBLEM: index 10 is the destination ${invoice(10).friendly} itself`);
    const otherKey = await runCli([...args(to, "10", "--mnemonic-stdin", "--public-key", "47a8b32ab912617b8bc138c5509a36fdce98bc3de4334c135a278e3fdf220f02"), "--send", "--yes"], `${MNEMONIC}\n`);
    expect(otherKey.code).toBe(2);
    expect(otherKey.stderr).toContain(`the secret derives public key ${PUBLIC_KEY.toString("hex")}, not the --public-key given`);
    expect((await account(invoice(10).address)).balance).toBe(toNano("1"));
  });
});
