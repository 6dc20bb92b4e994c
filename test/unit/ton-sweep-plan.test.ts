// The TON sweep's pure parts: its command line (secrets never arguments, the destination's network flag), the
// merchant key from a TON mnemonic or hex, the plan (dust, frozen, active seqno, the destination among the swept),
// and the signed message (to the invoice wallet, StateInit only at seqno 0, mode 128+32, bounce off).
import { Address, Cell, loadMessage, loadMessageRelaxed, SendMode } from "@ton/core";
import { keyPairFromSeed } from "@ton/crypto";
import { describe, expect, it } from "vitest";
import { deriveInvoiceWallet, walletInit } from "../../src/chains/ton/wallet";
import { UsageError } from "../../src/dev/sweep/options";
import { merchantKeyPair } from "../../src/dev/sweep/ton/merchant-key";
import { parseTonSweepArgs } from "../../src/dev/sweep/ton/options";
import { buildTonSweepPlan, DUST_NANO, type TonHolding } from "../../src/dev/sweep/ton/plan";
import { signSweep, SWEEP_SEND_MODE } from "../../src/dev/sweep/ton/transfer";
import { SecretError } from "../../src/dev/sweep/wallet";

/** A throwaway TON mnemonic (made once with @ton/crypto mnemonicNew), its public key and NaCl secret key. */
const MNEMONIC = "wear eager off april sting job story napkin right sunset timber portion stadium oppose muffin feel arm flavor dawn alert cousin chuckle filter screen";
const PUBLIC_KEY = "928d33d667d6c75fbf068e94f37bd70fcc9685d9a7bfa3ac3f1b6b02212a78b6";
const SECRET_KEY = `1adf1ae735955c91946dbc5e9f18bbfe10272a95bedbb215bf971098cf22a25f${PUBLIC_KEY}`;
/** The V4 #7 vector of shared/notes/ton.md (public key 47a8…0f02): a user wallet to sweep to. */
const TO = "UQD1zb-H8cEGdbT_WgIsL8PZPa5AZKtLVBxQZn7qgJctOQIW";
const base = ["--api", "https://toncenter.com/api/", "--to", TO, "--indices", "0-2,5"];

describe("sweep ton options", () => {
  it("parses the API base, indices and destination, dry run and mainnet by default", () => {
    const opts = parseTonSweepArgs(base);
    expect(opts).toMatchObject({ apiUrl: "https://toncenter.com/api", network: "mainnet", indices: [0, 1, 2, 5], send: false, outFile: null, secret: { from: "prompt" }, publicKey: null });
    expect(opts.to.equals(Address.parse(TO))).toBe(true);
    // The bounceable and raw spellings name the same wallet; the sweep sets bounce off whatever the flag.
    expect(parseTonSweepArgs([...base.slice(0, 3), "EQD1zb-H8cEGdbT_WgIsL8PZPa5AZKtLVBxQZn7qgJctOV_T", ...base.slice(4)]).to.equals(opts.to)).toBe(true);
    expect(() => parseTonSweepArgs(["--api", "x", "--to", TO, "--indices", "0"])).toThrow(/http/);
    expect(() => parseTonSweepArgs([...base, "--send", "--out", "f"])).toThrow(/--send or --out/);
    expect(() => parseTonSweepArgs([...base.slice(0, 5), "3221225472"])).toThrow(/walletId fits in 32 bits/);
  });

  it("refuses a destination with a bad checksum, on the masterchain, or of the other network's form", () => {
    const opts = (to: string, ...more: string[]) => () => parseTonSweepArgs(["--api", "http://x", `--to=${to}`, "--indices", "0", ...more]);
    const testnetForm = Address.parse(TO).toString({ urlSafe: true, bounceable: false, testOnly: true });
    expect(opts(TO.replace(/W$/, "X"))).toThrow(/not a TON address/);
    expect(opts(`-1:${"ab".repeat(32)}`)).toThrow(/workchain -1/);
    expect(testnetForm).toMatch(/^0Q/);
    expect(opts(testnetForm, "--network", "testnet")).not.toThrow();
    expect(opts(testnetForm)).toThrow(/testnet address form, but --network is mainnet/);
    expect(opts(TO, "--network", "testnet")).toThrow(/mainnet address form/);
    expect(opts(`0:${"ab".repeat(32)}`, "--network", "testnet")).not.toThrow();
  });

  it("refuses any option that would carry a secret or the API key, and stray words, quoting none", () => {
    for (const extra of [["--mnemonic", MNEMONIC], [`--mnemonic=${MNEMONIC}`], ["--secret-key", SECRET_KEY], ["--seed", "00"], ["--api-key", "k"], ["--private-key", "k"]]) {
      expect(() => parseTonSweepArgs([...base, ...extra])).toThrow(/secrets are never arguments/);
    }
    for (const extra of [MNEMONIC.split(" "), [SECRET_KEY]]) {
      const error = (() => {
        try {
          parseTonSweepArgs([...base, ...extra]);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect(error?.message).not.toMatch(/wear|1adf/);
    }
    // A secret key pasted as --public-key is refused by kind, not echoed.
    expect(() => parseTonSweepArgs([...base, "--public-key", SECRET_KEY])).toThrow(/\(private-key\)$/);
  });
});

describe("sweep ton merchant key", () => {
  it("reads the same key pair from the TON mnemonic, the seed and the secret key", async () => {
    const fromWords = await merchantKeyPair(`  ${MNEMONIC.toUpperCase()}\n`);
    expect(fromWords.publicKey.toString("hex")).toBe(PUBLIC_KEY);
    expect(fromWords.secretKey.toString("hex")).toBe(SECRET_KEY);
    expect((await merchantKeyPair(SECRET_KEY.slice(0, 64))).publicKey.toString("hex")).toBe(PUBLIC_KEY);
    expect((await merchantKeyPair(`0x${SECRET_KEY.toUpperCase()}`)).secretKey.toString("hex")).toBe(SECRET_KEY);
  });

  it("refuses a BIP39 phrase, a wrong word count, a secret key whose halves disagree and other text, naming no word", async () => {
    const bip39 = "abandon ".repeat(23) + "art";
    await expect(merchantKeyPair(bip39)).rejects.toThrow(/not a valid TON mnemonic/);
    await expect(merchantKeyPair(MNEMONIC.split(" ").slice(0, 12).join(" "))).rejects.toThrow(/12 words/);
    await expect(merchantKeyPair(SECRET_KEY.slice(0, 64) + "00".repeat(32))).rejects.toThrow(/second half/);
    for (const text of ["", "zz", "ab".repeat(48)]) await expect(merchantKeyPair(text)).rejects.toThrow(SecretError);
    await expect(merchantKeyPair(bip39)).rejects.not.toThrow(/abandon/);
  });
});

describe("buildTonSweepPlan", () => {
  const pub = Buffer.from(PUBLIC_KEY, "hex");
  const to = Address.parse(TO);
  const holding = (index: number, balance: bigint, state: TonHolding["state"] = "uninitialized", seqno: number | null = null): TonHolding => {
    const w = deriveInvoiceWallet(pub, index, "mainnet");
    return { index, address: w.address, friendly: w.friendly, balance, state, seqno };
  };

  it("sweeps every wallet over the dust threshold, with the StateInit exactly when its seqno is 0", () => {
    const plan = buildTonSweepPlan(to, [
      holding(0, 2_500_000_000n),
      holding(1, 0n),
      holding(2, DUST_NANO - 1n),
      holding(3, DUST_NANO),
      holding(4, 10n ** 9n, "active", 3),
      holding(5, 10n ** 9n, "frozen"),
      holding(6, 0n, "active", 1),
    ]);
    expect(plan.problems).toEqual([]);
    expect(plan.sweeps.map((s) => [s.index, s.seqno, s.withInit])).toEqual([[0, 0, true], [3, 0, true], [4, 3, false]]);
    expect(plan.left.map((l) => [l.index, l.reason.split(":")[0]])).toEqual([[2, "dust, left"], [5, "frozen"]]);
    expect(plan.empty).toBe(2);
    expect(plan.totals.balance).toBe(2_500_000_000n + DUST_NANO + 10n ** 9n);
  });

  it("names as problems an active wallet without a seqno and the destination among the swept", () => {
    const noSeqno = buildTonSweepPlan(to, [holding(0, 10n ** 9n, "active", null)]);
    expect(noSeqno.problems).toEqual([expect.stringMatching(/index 0 .* seqno could not be read/)]);
    expect(noSeqno.sweeps).toEqual([]);
    const self = holding(1, 10n ** 9n);
    const toSelf = buildTonSweepPlan(self.address, [holding(0, 10n ** 9n), self]);
    expect(toSelf.problems).toEqual([`index 1 is the destination ${self.friendly} itself`]);
  });
});

describe("signSweep", () => {
  const keyPair = keyPairFromSeed(Buffer.from(SECRET_KEY.slice(0, 64), "hex"));
  const to = Address.parse(TO);
  const decode = (boc: string) => loadMessage(Cell.fromBase64(boc).beginParse());
  /** The v4r2 transfer body: signature, walletId, valid_until, seqno, op 0, then (mode, message ref) pairs. */
  const transfer = (body: Cell) => {
    const s = body.beginParse();
    s.skip(512);
    const walletId = s.loadUint(32);
    const validUntil = s.loadUint(32);
    const seqno = s.loadUint(32);
    const op = s.loadUint(8);
    const mode = s.loadUint(8);
    const out = loadMessageRelaxed(s.loadRef().beginParse());
    return { walletId, validUntil, seqno, op, mode, out, refsLeft: s.remainingRefs };
  };

  it("addresses the invoice wallet, carries its StateInit at seqno 0, sends all with bounce off and destroys it", () => {
    const boc = signSweep({ keyPair, index: 5, seqno: 0, to, validUntil: 1_900_000_000, network: "mainnet" });
    const message = decode(boc);
    const wallet = deriveInvoiceWallet(keyPair.publicKey, 5, "mainnet");
    expect(message.info.type).toBe("external-in");
    expect(message.info.type === "external-in" && message.info.dest.equals(wallet.address)).toBe(true);
    const init = walletInit(keyPair.publicKey, 5);
    expect(message.init?.code?.hash().equals(init.code!.hash())).toBe(true);
    expect(message.init?.data?.hash().equals(init.data!.hash())).toBe(true);
    const t = transfer(message.body);
    expect(t).toMatchObject({ walletId: 0x40000005, validUntil: 1_900_000_000, seqno: 0, op: 0, mode: SWEEP_SEND_MODE, refsLeft: 0 });
    expect(SWEEP_SEND_MODE).toBe(SendMode.CARRY_ALL_REMAINING_BALANCE + SendMode.DESTROY_ACCOUNT_IF_ZERO);
    expect(SWEEP_SEND_MODE).toBe(160);
    expect(t.out.info.type === "internal" && t.out.info.dest.equals(to) && t.out.info.bounce === false && t.out.info.value.coins === 0n).toBe(true);
  });

  it("leaves the StateInit out for a deployed wallet's later seqno", () => {
    const message = decode(signSweep({ keyPair, index: 0, seqno: 4, to, validUntil: 1_900_000_000, network: "testnet" }));
    expect(message.init).toBeFalsy();
    expect(transfer(message.body).seqno).toBe(4);
  });
});
