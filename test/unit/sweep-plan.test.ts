// The sweep tool's pure parts: its command line (secrets are never arguments), the mnemonic check and derivation
// (against viem's own mnemonicToAccount), and the plan's arithmetic for EIP-1559 and legacy (BSC) pricing.
import { getAddress, type Address } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { parseIndices, parseSweepArgs, UsageError } from "../../tools/sweep/options";
import { buildSweepPlan, TRANSFER_GAS, type GasPricing, type Holding } from "../../tools/sweep/plan";
import { checkMnemonic, MerchantWallet } from "../../tools/sweep/wallet";

const MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const TO = getAddress("0x000000000000000000000000000000000000dEaD");
const TOKEN = getAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3");
const addr = (n: number): Address => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
const base = ["eth", "--rpc", "http://127.0.0.1:8545", "--to", TO, "--indices", "0-2"];

describe("sweep options", () => {
  it("parses index lists into ascending unique indices", () => {
    expect(parseIndices("5,0-2,2,10-11")).toEqual([0, 1, 2, 5, 10, 11]);
    expect(() => parseIndices("3-1")).toThrow(UsageError);
    expect(() => parseIndices("0-200000")).toThrow(/more than/);
    expect(() => parseIndices("2147483648")).toThrow(/non-hardened/);
  });

  it("refuses any option that would carry a secret, without quoting it", () => {
    for (const extra of [["--mnemonic", MNEMONIC], [`--mnemonic=${MNEMONIC}`], ["--private-key", "0x01"], ["--passphrase", "x"]]) {
      expect(() => parseSweepArgs([...base, ...extra])).toThrow(/secrets are never arguments/);
    }
    const positional = (() => {
      try {
        parseSweepArgs([...base, ...MNEMONIC.split(" ")]);
      } catch (error) {
        return error as Error;
      }
    })();
    expect(positional).toBeInstanceOf(UsageError);
    expect(positional?.message).not.toContain("abandon");
  });

  it("defaults to a dry run with the mnemonic from the prompt, and checks the destination's checksum", () => {
    const opts = parseSweepArgs(base);
    expect(opts).toMatchObject({ chain: "eth", send: false, yes: false, mnemonic: { from: "prompt" }, passphrase: null, gasFunder: null, indices: [0, 1, 2] });
    expect(() => parseSweepArgs(["eth", "--rpc", "http://x", "--to", "0x000000000000000000000000000000000000DEAD", "--indices", "0"])).toThrow(/checksum/);
    expect(() => parseSweepArgs([...base, "--token", TOKEN, "--gas-from", "1"])).toThrow(/also in --indices/);
    expect(parseSweepArgs([...base, "--token", TOKEN, "--gas-key-stdin", "--mnemonic-stdin"]).gasFunder).toEqual({ kind: "key", source: { from: "stdin" } });
  });
});

describe("sweep wallet", () => {
  it("derives m/44'/60'/0'/0/i as viem's mnemonicToAccount does, with and without a passphrase", () => {
    const plain = new MerchantWallet(MNEMONIC);
    const salted = new MerchantWallet(MNEMONIC, "TREZOR");
    for (const i of [0, 1, 7, 1000]) {
      expect(plain.invoiceAccount(i).address).toBe(mnemonicToAccount(MNEMONIC, { addressIndex: i }).address);
      expect(salted.invoiceAccount(i).address).toBe(mnemonicToAccount(MNEMONIC, { addressIndex: i, passphrase: "TREZOR" }).address);
    }
    // The well-known first address of this mnemonic (MetaMask, ethers).
    expect(plain.invoiceAccount(0).address).toBe("0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
  });

  it("refuses a mnemonic with a bad checksum, a word outside the list or a wrong length, naming no word", () => {
    expect(() => checkMnemonic(MNEMONIC.replace(/about$/, "abandon"))).toThrow(/checksum/);
    expect(() => checkMnemonic(MNEMONIC.replace(/about$/, "aboutt"))).toThrow(/word 12 .* not in the BIP39/);
    expect(() => checkMnemonic("abandon about")).toThrow(/2 words/);
    expect(checkMnemonic(`  ${MNEMONIC.toUpperCase()}\n`)).toBe(MNEMONIC);
  });
});

describe("buildSweepPlan", () => {
  const legacy: GasPricing = { type: "legacy", perGas: 3_000_000_000n };
  const holding = (index: number, native: bigint, tokenBalance = 0n, transferGas = 50_000n): Holding => ({
    index,
    address: addr(index + 1),
    native,
    tokens: tokenBalance > 0n ? [{ token: TOKEN, balance: tokenBalance, transferGas }] : [],
  });

  it("sends balance − 21000 × gasPrice, skips what cannot pay its fee, and tops up token holders exactly", () => {
    const fee = TRANSFER_GAS * legacy.perGas;
    const plan = buildSweepPlan({
      to: TO,
      pricing: legacy,
      nativeGas: TRANSFER_GAS,
      funder: { address: addr(999), native: 10n ** 18n },
      holdings: [holding(0, 10n ** 18n), holding(1, fee), holding(2, 0n, 5n), holding(3, 200_000n * legacy.perGas, 7n)],
    });
    expect(plan.problems).toEqual([]);
    expect(plan.addresses.map((a) => a.index)).toEqual([0, 2, 3]);
    const [a0, a2, a3] = plan.addresses;
    expect(a0?.nativeTransfer).toEqual({ value: 10n ** 18n - fee, fee });
    expect(a2).toMatchObject({ topUp: 50_000n * legacy.perGas, nativeTransfer: null, dust: 0n });
    // #3 pays its own token gas and sweeps the rest.
    expect(a3).toMatchObject({ topUp: 0n, nativeTransfer: { value: (200_000n - 50_000n - 21_000n) * legacy.perGas, fee } });
    expect(plan.totals.tokens.get(TOKEN)).toBe(12n);
    expect(plan.totals.transactions).toBe(5);
    expect(plan.funder).toMatchObject({ topUps: 50_000n * legacy.perGas, fees: fee });
    expect(plan.totals.native + plan.totals.fees).toBe(10n ** 18n + 200_000n * legacy.perGas + 50_000n * legacy.perGas + fee);
  });

  it("lists as problems a token holder without a funder, a poor funder, and the destination among the swept", () => {
    const noFunder = buildSweepPlan({ to: TO, pricing: legacy, nativeGas: TRANSFER_GAS, funder: null, holdings: [holding(0, 0n, 5n)] });
    expect(noFunder.problems).toEqual([expect.stringMatching(/index 0 .*no funder/)]);
    expect(noFunder.addresses[0]?.blocked).toMatch(/no funder/);

    const poor = buildSweepPlan({ to: TO, pricing: legacy, nativeGas: TRANSFER_GAS, funder: { address: addr(999), native: 1n }, holdings: [holding(0, 0n, 5n)] });
    expect(poor.problems).toEqual([expect.stringMatching(/gas funder .* holds 0.000000000000000001/)]);

    const self = buildSweepPlan({ to: addr(1), pricing: legacy, nativeGas: TRANSFER_GAS, funder: null, holdings: [holding(0, 10n ** 18n)] });
    expect(self.problems).toEqual([expect.stringMatching(/destination/)]);
  });
});
