// EVM payments end to end (the evm chain module): a real anvil with mining off, dev accounts as payers, and the
// Worker on workerd following it, observed through the public API and m.stream. Each scenario runs for the
// chain's own coin and, where the chain has one here, a token (TestToken as USDT_ERC20) side by side.
// The merchant's key is the account xpub m/44'/60'/0' of the BIP39 "abandon … about" mnemonic, whose /0/i are no
// funded anvil account; the stranger's is m/44'/60'/1' of the same seed.
import { Code } from "@connectrpc/connect";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { HDKey } from "@scure/bip32";
import { bytesToHex, encodeFunctionData, hexToBytes, parseAbi, parseUnits, type Abi, type Address, type Hash, type Hex } from "viem";
import { privateKeyToAccount, publicKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoinType } from "../../../gen/crypto/v1/crypto_pb";
import { InvoiceStatusType as S } from "../../../gen/invoice/v1/invoice_pb";
import { startAnvil, type Anvil } from "./anvil";
import batchPayoutArtifact from "./contracts/BatchPayout.json";
import { MerchantSession } from "./merchant-session";
import { startService, type Service } from "./service";

const POLL_SECONDS = 1;
const MONITORING_SECONDS = 20;
/** The shortest timeout CreateInvoice takes. */
const EXPIRING_SECONDS = 10n;

/** BIP39 seed of "abandon abandon … about" with no passphrase (the BIP39 test vector; its m/44'/60'/0'/0/0 is 0x9858…Da94). */
const ABANDON_SEED = hexToBytes(
  "0x5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4",
);
const accountXpub = (account: number) => HDKey.fromMasterSeed(ABANDON_SEED).derive(`m/44'/60'/${account}'`).publicExtendedKey;
const MERCHANT_XPUB = accountXpub(0);
/** The merchant's invoice addresses /0/0 … /0/99, derived here from the xpub alone (EIP-55). */
const MERCHANT_ADDRESSES = Array.from({ length: 100 }, (_, i) => {
  const publicKey = HDKey.fromExtendedKey(MERCHANT_XPUB).deriveChild(0).deriveChild(i).publicKey!;
  return publicKeyToAddress(bytesToHex(secp256k1.Point.fromBytes(publicKey).toBytes(false)));
});
const STRANGER_XPUB = accountXpub(1);

export interface EvmScenarioChain {
  chain: "ETH" | "BNB";
  /** anvil's chain id, and what `<CHAIN>_NETWORK` says. */
  chainId: number;
  network: string;
  /** Every scenario; else the full payment only (and /healthz). */
  all: boolean;
}

/** One coin the scenarios pay in: the chain's own, or the test token. Amounts are atomic units. */
interface PaidCoin {
  coin: CoinType;
  name: string;
  atomic(whole: string): bigint;
  pay(to: string, amount: bigint): Promise<Hash>;
}

/** Dev accounts: #0 deployed the contracts and holds the whole token supply; the others pay in the native coin. */
const TOKEN_HOLDER = 0;
const NO_TOKENS = 8;
const ELSEWHERE = 9;
const ERC20_TRANSFER = parseAbi(["function transfer(address to, uint256 value) returns (bool)"]);
const FEES = { maxFeePerGas: 20_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n };

export function evmPaymentScenarios(spec: EvmScenarioChain): void {
  let anvil: Anvil;
  let service: Service;
  let m: MerchantSession;
  let token: Address | null = null;
  let payout: Address;
  const coins: PaidCoin[] = [];
  const prefix = spec.chain;
  const nativeCoin = spec.chain === "ETH" ? CoinType.ETH : CoinType.BNB;
  const keysOf = (masterPubKey: string) => (spec.chain === "ETH" ? { ethReq: { masterPubKey } } : { bnbReq: { masterPubKey } });

  beforeAll(async () => {
    anvil = await startAnvil({ chainId: spec.chainId });
    // Contracts first: deploying mines a block, which would take any scenario's pending tx.
    payout = await anvil.deployBatchPayout(TOKEN_HOLDER);
    if (spec.chain === "ETH") token = await anvil.deployToken(TOKEN_HOLDER);
    service = await startService({
      [`${prefix}_DAEMON_URL`]: anvil.url,
      [`${prefix}_NETWORK`]: spec.network,
      [`${prefix}_POLL_SECONDS`]: String(POLL_SECONDS),
      ...(token ? { ETH_TOKENS: JSON.stringify({ USDT_ERC20: token }) } : {}),
      MONITORING_SECONDS: String(MONITORING_SECONDS),
    });
    m = await MerchantSession.open(service, nativeCoin, keysOf(MERCHANT_XPUB), POLL_SECONDS * 1000);
    let payer = 1;
    coins.push({
      coin: nativeCoin,
      name: spec.chain,
      atomic: (whole) => parseUnits(whole, 18),
      // Each native payment from the next dev account: concurrent sends from one account race for the nonce.
      pay: (to, wei) => anvil.send((payer = (payer % 7) + 1), to as Address, wei),
    });
    if (token) {
      coins.push({
        coin: CoinType.USDT_ERC20,
        name: "USDT_ERC20",
        atomic: (whole) => parseUnits(whole, 6),
        pay: (to, amount) => anvil.transferToken(TOKEN_HOLDER, to as Address, amount),
      });
    }
  }, 180_000);

  afterAll(async () => {
    await m?.close();
    await service?.close();
    await anvil?.stop();
  });

  /** Signs and submits a tx from dev account `fromIndex` with the gas given (no estimate: a reverting tx has none). */
  async function submitRaw(fromIndex: number, tx: { to: Address; value?: bigint; data?: Hex; gas: bigint; nonce?: number; fees?: typeof FEES }): Promise<Hash> {
    const account = privateKeyToAccount(anvil.accounts[fromIndex]!.privateKey);
    const nonce = tx.nonce ?? (await anvil.client.getTransactionCount({ address: account.address, blockTag: "pending" }));
    const signed = await account.signTransaction({ chainId: anvil.chainId, type: "eip1559", to: tx.to, value: tx.value ?? 0n, data: tx.data, gas: tx.gas, nonce, ...(tx.fees ?? FEES) });
    return (await anvil.rpc("eth_sendRawTransaction", [signed])) as Hash;
  }

  /** A pending tx replaced by one with its nonce and twice its fees, paying a dev account instead. */
  async function replaceWithPaymentElsewhere(hash: Hash): Promise<Hash> {
    const tx = await anvil.client.getTransaction({ hash });
    const from = anvil.accounts.findIndex((a) => a.address.toLowerCase() === tx.from.toLowerCase());
    const fees = { maxFeePerGas: tx.maxFeePerGas! * 2n, maxPriorityFeePerGas: tx.maxPriorityFeePerGas! * 2n };
    return submitRaw(from, { to: anvil.accounts[ELSEWHERE]!.address, value: 1n, gas: 21_000n, nonce: tx.nonce, fees });
  }

  const eachCoin = <T>(run: (c: PaidCoin) => Promise<T>) => Promise.all(coins.map(run));
  const api = async (id: string) => (await service.invoices.getInvoices({ paymentIds: [id] })).invoices[0]!;
  const paymentRows = (id: string) => service.sql<{ n: number }>("SELECT count(*) AS n FROM payments WHERE invoice_id = ?", id);

  describe(`${spec.chain} payments against anvil (chain id ${spec.chainId}, ${prefix}_NETWORK=${spec.network})`, () => {
    it("reports the chain ready on /healthz", async () => {
      type Health = { coins: Record<string, { ready: boolean; features?: Record<string, unknown> }> };
      const read = async () => (await (await fetch(new URL("/healthz", service.url))).json()) as Health;
      // A coin's watcher starts with its first invoice, and is ready once it took a step.
      await eachCoin((c) => m.invoice(1, 1, 600n, c.coin));
      let health = await read();
      for (const deadline = Date.now() + 10_000; !(health.coins[spec.chain]?.ready && (!token || health.coins.USDT_ERC20?.ready)) && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 250));
        health = await read();
      }
      expect(health.coins[spec.chain], JSON.stringify(health)).toMatchObject({ ready: true });
      if (token) expect(health.coins.USDT_ERC20, JSON.stringify(health)).toMatchObject({ ready: true });
      // What the node lets the watcher see: anvil traces (internal transfers) and shows its pool.
      expect(health.coins[spec.chain]?.features).toMatchObject({ internalTransfers: expect.any(String), pool: "txpool_content" });
      if (token) expect(health.coins.USDT_ERC20?.features).toMatchObject({ contract: token.toLowerCase(), decimals: 6 });
    });

    it("1. an invoice gets one of the merchant's /0/i; a full payment shows as PENDING_MEMPOOL, then CONFIRMED after N blocks", async () => {
      const first = await m.invoice(1.5, 2);
      expect(MERCHANT_ADDRESSES).toContain(first.address);
      expect(MERCHANT_ADDRESSES[0]).toBe("0x9858EfFD232B4033E47d90003D41EC34EcaEda94");
      const invoices = await eachCoin(async (c) => (c.coin === nativeCoin ? { c, inv: first } : { c, inv: await m.invoice(1.5, 2, 600n, c.coin) }));
      const txs = await Promise.all(invoices.map(({ c, inv }) => c.pay(inv.address, c.atomic("1.5"))));
      for (const [i, { inv }] of invoices.entries()) {
        await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
        expect(m.lastOf(inv.paymentId)).toMatchObject({ actualAmountExact: "1.5", txId: txs[i] });
      }
      await anvil.mine(1);
      await m.quiet();
      for (const { inv } of invoices) expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL]);
      await anvil.mine(1);
      for (const { inv } of invoices) {
        await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
        expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
        expect(await api(inv.paymentId)).toMatchObject({ status: S.CONFIRMED, actualAmountExact: "1.5" });
      }
    });

    it.runIf(spec.chain === "BNB")("a BEP-20 token whose shipped contract is not on the node is not followed (/healthz says why, CreateInvoice refuses it); BNB payments go on", async () => {
      const tokenInvoice = await m.invoice(1, 1, 600n, CoinType.BSCUSD_BEP20);
      const inv = await m.invoice(0.5, 1);
      await coins[0]!.pay(inv.address, parseUnits("0.5", 18));
      await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
      await anvil.mine(1);
      await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
      type Health = { coins: Record<string, { ready: boolean; reason: string | null }> };
      const health = (await (await fetch(new URL("/healthz", service.url))).json()) as Health;
      expect(health.coins.BNB).toMatchObject({ ready: true, reason: null });
      const refusal = "BSCUSD_BEP20 node is on mainnet (no token contract at 0x55d398326f99059ff775485246999027b3197955: decimals() answered 0x), expected a token contract at 0x55d398326f99059ff775485246999027b3197955 with 18 decimals";
      expect(health.coins.BSCUSD_BEP20).toMatchObject({ ready: false, reason: refusal });
      // The invoice made before the watcher first looked stays unpaid; no other is accepted meanwhile.
      expect(await api(tokenInvoice.paymentId)).toMatchObject({ status: S.PENDING, actualAmountExact: "0" });
      await expect(m.invoice(1, 1, 600n, CoinType.BSCUSD_BEP20)).rejects.toMatchObject({ code: Code.FailedPrecondition, rawMessage: refusal });
    });

    it.runIf(spec.all)("2. two partial payments: PENDING until the second covers the amount; an overpayment is credited in full", async () => {
      await eachCoin(async (c) => {
        const inv = await m.invoice(1, 1, 600n, c.coin);
        await c.pay(inv.address, c.atomic("0.4"));
        await m.quiet();
        expect(await api(inv.paymentId)).toMatchObject({ status: S.PENDING, actualAmountExact: "0.4" });
        const over = c.name === "USDT_ERC20" ? "0.600001" : "0.600000000000000001";
        await c.pay(inv.address, c.atomic(over));
        await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, `${c.name} PENDING_MEMPOOL`);
        expect(m.lastOf(inv.paymentId).actualAmountExact).toBe(c.name === "USDT_ERC20" ? "1.000001" : "1.000000000000000001");
        return inv;
      }).then(async (invoices) => {
        await anvil.mine(1);
        for (const inv of invoices) await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
      });
    });

    it.runIf(spec.all)("3. unpaid: EXPIRED at expiresAt, a later payment recorded as late; paid in time and confirmed after expiresAt: CONFIRMED", async () => {
      const cases = await eachCoin(async (c) => {
        // The paid one first: by the time the unpaid one expires, the paid one's expiresAt has passed too.
        const paid = await m.invoice(0.16, 1, EXPIRING_SECONDS, c.coin);
        const unpaid = await m.invoice(0.1, 1, EXPIRING_SECONDS, c.coin);
        return { c, paid, unpaid };
      });
      for (const { c, paid } of cases) await c.pay(paid.address, c.atomic("0.16"));
      for (const { paid } of cases) await m.stream.until(m.reached(paid.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
      for (const { unpaid } of cases) await m.stream.until(m.reached(unpaid.paymentId, S.EXPIRED), 30_000, "EXPIRED");
      for (const { c, unpaid } of cases) await c.pay(unpaid.address, c.atomic("0.1"));
      await m.quiet();
      await anvil.mine(1);
      for (const { c, paid } of cases) {
        await m.stream.until(m.reached(paid.paymentId, S.CONFIRMED), 10_000, `${c.name} CONFIRMED after expiresAt`);
        expect(m.stream.statuses(paid.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
      }
      await m.quiet();
      for (const { unpaid } of cases) {
        expect(m.stream.statuses(unpaid.paymentId)).toEqual([S.PENDING, S.EXPIRED]);
        expect(await service.sql<{ in_time: number }>("SELECT in_time FROM payments WHERE invoice_id = ?", unpaid.paymentId)).toEqual([{ in_time: 0 }]);
      }
    });

    it.runIf(spec.all)("4. one tx paying two invoices credits each its own amount (internal calls; two Transfer logs); a stranger's invoice stays apart", async () => {
      const other = (await service.users.registerUser({})).userId;
      await service.users.updateCryptoKeys({ userId: other, ...keysOf(STRANGER_XPUB) });
      const theirs = await service.invoices.createInvoice({ userId: other, coin: nativeCoin, amount: 0.5, timeout: 600n, confirmations: 1 });
      const a = await m.invoice(0.3, 1);
      const b = await m.invoice(0.2, 1);
      await anvil.payMany(1, [
        { to: a.address as Address, wei: parseUnits("0.3", 18) },
        { to: b.address as Address, wei: parseUnits("0.2", 18) },
      ]);
      const pairs = [{ a, b, amounts: ["0.3", "0.2"] }];
      if (token) {
        const ta = await m.invoice(3, 1, 600n, CoinType.USDT_ERC20);
        const tb = await m.invoice(2, 1, 600n, CoinType.USDT_ERC20);
        await anvil.transferTokenTwice(TOKEN_HOLDER, ta.address as Address, parseUnits("3", 6), tb.address as Address, parseUnits("2", 6));
        pairs.push({ a: ta, b: tb, amounts: ["3", "2"] });
      }
      await anvil.mine(1);
      for (const { a, b, amounts } of pairs) {
        await m.stream.until(() => m.reached(a.paymentId, S.CONFIRMED)() && m.reached(b.paymentId, S.CONFIRMED)(), 10_000, "both CONFIRMED");
        expect(m.lastOf(a.paymentId).actualAmountExact).toBe(amounts[0]);
        expect(m.lastOf(b.paymentId).actualAmountExact).toBe(amounts[1]);
      }
      expect(await api(theirs.paymentId)).toMatchObject({ status: S.PENDING, actualAmountExact: "0" });
      expect(m.stream.messages.every((x) => x.invoice?.userId === m.userId)).toBe(true);
    });

    it.runIf(spec.all)("5. a contract's internal transfer (forward) counts; a reverted tx (payMany with value ≠ sum, a token transfer beyond the balance) does not", async () => {
      const forwarded = await m.invoice(0.7, 1);
      await anvil.forward(2, forwarded.address as Address, parseUnits("0.7", 18));
      const [ra, rb] = [await m.invoice(0.01, 1), await m.invoice(0.02, 1)];
      // Both internal payments run, then the top frame reverts on "value mismatch": its children carry no error.
      const sent = [parseUnits("0.01", 18), parseUnits("0.02", 18)];
      const data = encodeFunctionData({ abi: batchPayoutArtifact.abi as Abi, functionName: "payMany", args: [[ra.address, rb.address], sent] });
      await submitRaw(3, { to: payout, value: sent[0]! + sent[1]! + 1n, data, gas: 200_000n });
      const reverted = [ra, rb];
      if (token) {
        const t = await m.invoice(5, 1, 600n, CoinType.USDT_ERC20);
        const transfer = encodeFunctionData({ abi: ERC20_TRANSFER, functionName: "transfer", args: [t.address as Address, parseUnits("5", 6)] });
        await submitRaw(NO_TOKENS, { to: token, data: transfer, gas: 100_000n });
        reverted.push(t);
      }
      await anvil.mine(1);
      await m.stream.until(m.reached(forwarded.paymentId, S.CONFIRMED), 10_000, "the forwarded payment CONFIRMED");
      expect(m.lastOf(forwarded.paymentId).actualAmountExact).toBe("0.7");
      await m.quiet();
      for (const inv of reverted) {
        expect(await api(inv.paymentId)).toMatchObject({ status: S.PENDING, actualAmountExact: "0" });
        expect(m.stream.statuses(inv.paymentId).at(-1)).toBe(S.PENDING);
      }
    });

    it.runIf(spec.all)("6. a pending payment replaced (same nonce, higher fee) by a tx paying elsewhere: back to PENDING, nothing counted", async () => {
      const cases = await eachCoin(async (c) => ({ c, inv: await m.invoice(0.13, 1, 600n, c.coin) }));
      const txs: Hash[] = [];
      for (const { c, inv } of cases) txs.push(await c.pay(inv.address, c.atomic("0.13")));
      for (const { inv } of cases) await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
      for (const hash of txs) await replaceWithPaymentElsewhere(hash);
      for (const { inv } of cases) {
        await m.stream.until(() => m.stream.statuses(inv.paymentId).length === 3, 10_000, "back to PENDING");
        expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.PENDING]);
        expect(m.lastOf(inv.paymentId).actualAmountExact).toBe("0");
      }
      await anvil.mine(1);
      await m.quiet();
      for (const { inv } of cases) expect(await api(inv.paymentId)).toMatchObject({ status: S.PENDING, actualAmountExact: "0" });
    });

    it.runIf(spec.all)("7. a reorg (anvil_reorg): a payment whose tx is dropped is uncounted; one re-included confirms, counted once", async () => {
      const cases = await eachCoin(async (c) => ({ c, dropped: await m.invoice(0.21, 2, 600n, c.coin), kept: await m.invoice(0.22, 2, 600n, c.coin) }));
      const keep: Hash[] = [];
      for (const { c, dropped, kept } of cases) {
        // The kept one first: token payments share a sender, and a re-included tx must not wait on a dropped nonce.
        keep.push(await c.pay(kept.address, c.atomic("0.22")));
        await c.pay(dropped.address, c.atomic("0.21"));
      }
      for (const { dropped, kept } of cases) {
        await m.stream.until(() => m.reached(dropped.paymentId, S.PENDING_MEMPOOL)() && m.reached(kept.paymentId, S.PENDING_MEMPOOL)(), 10_000, "PENDING_MEMPOOL");
      }
      await anvil.mine(1);
      await m.quiet();
      await anvil.reorg(1, keep.map((hash) => ({ hash, blockOffset: 0 })));
      for (const { dropped } of cases) {
        await m.stream.until(() => m.stream.statuses(dropped.paymentId).at(-1) === S.PENDING && m.stream.statuses(dropped.paymentId).length > 1, 10_000, "dropped: back to PENDING");
        expect(m.lastOf(dropped.paymentId).actualAmountExact).toBe("0");
      }
      await anvil.mine(1);
      for (const { kept, dropped } of cases) {
        await m.stream.until(m.reached(kept.paymentId, S.CONFIRMED), 10_000, "re-included: CONFIRMED");
        expect(m.stream.statuses(kept.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
        expect(m.lastOf(kept.paymentId).actualAmountExact).toBe("0.22");
        expect(await paymentRows(kept.paymentId)).toEqual([{ n: 1 }]);
        expect(await api(dropped.paymentId)).toMatchObject({ status: S.PENDING, actualAmountExact: "0" });
      }
    });

    it.runIf(spec.all)("8. the worker restarted while payments wait for their blocks: no block is skipped, each counted once", async () => {
      const cases = await eachCoin(async (c) => ({ c, inv: await m.invoice(0.15, 2, 600n, c.coin) }));
      for (const { c, inv } of cases) await c.pay(inv.address, c.atomic("0.15"));
      for (const { inv } of cases) await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
      const lastEvent = m.stream.messages.at(-1)!.eventId!;
      await service.restart(() => anvil.mine(2));
      await m.resume(lastEvent);
      await service.cron();
      for (const { inv } of cases) {
        await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 15_000, "CONFIRMED after the restart");
        expect(m.stream.statuses(inv.paymentId)).toEqual([S.CONFIRMED]);
        expect(m.lastOf(inv.paymentId).actualAmountExact).toBe("0.15");
        expect(await paymentRows(inv.paymentId)).toEqual([{ n: 1 }]);
      }
    });
  });
}
