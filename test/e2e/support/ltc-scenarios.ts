// Litecoin payments end to end (the UTXO module; Bitcoin runs the same code): a real litecoind in regtest,
// a real payer wallet, and the Worker on workerd reading the chain through the backend under test (the
// node's JSON-RPC, or the Esplora-shaped server over the same node), observed through the public API and
// m.stream. The merchant's key is the vectors' regtest account key (BIP84 test mnemonic).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoinType } from "../../../gen/crypto/v1/crypto_pb";
import { InvoiceStatusType as S } from "../../../gen/invoice/v1/invoice_pb";
import vectors from "../../vectors/utxo.json";
import { startEsploraServer, type EsploraServer } from "./esplora-regtest";
import { startLitecoinRegtest, type LitecoinRegtest } from "./litecoin-regtest";
import { MerchantSession } from "./merchant-session";
import { startService, type Service } from "./service";

const POLL_SECONDS = 1;
const MONITORING_SECONDS = 20;

type Derivation = { chain: string; script_type: string; branch: number; extended_key: string; addresses: { index: number; address: string }[] };
const merchant = (vectors.litecoin_core_derivations as unknown as Derivation[]).find((d) => d.chain === "regtest" && d.script_type === "p2wpkh" && d.branch === 0)!;
/** A second merchant whose invoices the first one's payments must never touch. */
const stranger = (vectors.litecoin_core_derivations as unknown as Derivation[]).find((d) => d.chain === "regtest" && d.script_type === "p2pkh" && d.branch === 0)!;

/** The scenarios, with the Worker reading the chain from litecoind's RPC ("core") or an Esplora explorer over it. */
export function ltcPaymentScenarios(backend: "core" | "esplora"): void {
  let chain: LitecoinRegtest;
  let esplora: EsploraServer | undefined;
  let service: Service;
  let m: MerchantSession;

  beforeAll(async () => {
    chain = await startLitecoinRegtest();
    esplora = backend === "esplora" ? await startEsploraServer(chain) : undefined;
    service = await startService({
      LTC_NETWORK: "regtest",
      ...(esplora ? { LTC_ESPLORA_URL: esplora.url } : { LTC_DAEMON_URL: chain.urlWithCredentials }),
      LTC_POLL_SECONDS: String(POLL_SECONDS),
      MONITORING_SECONDS: String(MONITORING_SECONDS),
    });
    m = await MerchantSession.open(service, CoinType.LTC, { ltcReq: { masterPubKey: merchant.extended_key } }, POLL_SECONDS * 1000);
  }, 180_000);

  afterAll(async () => {
    await m?.close();
    await service?.close();
    await esplora?.close();
    await chain?.stop();
  });


  /** A tx spending the same inputs as `txid` but paying the payer itself, with a higher fee: an RBF double spend. */
  async function replaceWithSelfPayment(txid: string): Promise<string> {
    const tx = (await chain.payer("getrawtransaction", txid, true)) as { vin: { txid: string; vout: number }[] };
    let total = 0n;
    for (const input of tx.vin) {
      const prev = (await chain.payer("gettransaction", input.txid)) as { hex: string };
      const decoded = (await chain.rpc("decoderawtransaction", prev.hex)) as { vout: { n: number; value: number }[] };
      total += BigInt(Math.round(decoded.vout.find((o) => o.n === input.vout)!.value * 1e8));
    }
    const back = (await chain.payer("getnewaddress", "", "bech32")) as string;
    const fee = 100_000n;
    const raw = await chain.payer("createrawtransaction", tx.vin.map((i) => ({ txid: i.txid, vout: i.vout, sequence: 0xfffffffd })), { [back]: Number(total - fee) / 1e8 });
    const signed = (await chain.payer("signrawtransactionwithwallet", raw)) as { hex: string };
    return (await chain.rpc("sendrawtransaction", signed.hex)) as string;
  }

  describe(`Litecoin payments against a real litecoind (${backend === "core" ? "its JSON-RPC" : "Esplora over it"})`, () => {
    it("1. the first invoice gets the merchant wallet's own /0/0 address; a full payment shows as PENDING_MEMPOOL, then CONFIRMED after N blocks", async () => {
      const inv = await m.invoice(1.25, 2);
      expect(inv.address).toBe(merchant.addresses[0]!.address);
      const txid = await chain.send(inv.address, 125_000_000n);
      await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
      expect(m.lastOf(inv.paymentId)).toMatchObject({ actualAmountExact: "1.25", txId: txid });
      await chain.mine(1);
      await m.quiet();
      expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL]);
      await chain.mine(1);
      await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
      expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
    });

    it("2. two partial payments: PENDING until the second covers the amount; an overpayment is credited in full", async () => {
      const inv = await m.invoice(1, 1);
      await chain.send(inv.address, 40_000_000n);
      await m.quiet();
      const [partial] = (await service.invoices.getInvoices({ paymentIds: [inv.paymentId] })).invoices;
      expect(partial).toMatchObject({ status: S.PENDING, actualAmountExact: "0.4" });
      await chain.send(inv.address, 60_000_001n);
      await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
      expect(m.lastOf(inv.paymentId).actualAmountExact).toBe("1.00000001");
      await chain.mine(1);
      await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
    });

    it("3. one tx paying two invoices credits each its own output; a stranger's invoice and tx stay apart", async () => {
      const other = (await service.users.registerUser({})).userId;
      await service.users.updateCryptoKeys({ userId: other, ltcReq: { masterPubKey: stranger.extended_key } });
      const theirs = await service.invoices.createInvoice({ userId: other, coin: CoinType.LTC, amount: 0.5, timeout: 600n, confirmations: 1 });
      const a = await m.invoice(0.3, 1);
      const b = await m.invoice(0.2, 1);
      await chain.payer("sendmany", "", { [a.address]: "0.3", [b.address]: "0.2" });
      await m.stream.until(() => m.reached(a.paymentId, S.PENDING_MEMPOOL)() && m.reached(b.paymentId, S.PENDING_MEMPOOL)(), 10_000, "both PENDING_MEMPOOL");
      const [mine] = (await service.invoices.getInvoices({ paymentIds: [theirs.paymentId] })).invoices;
      expect(mine).toMatchObject({ status: S.PENDING, actualAmountExact: "0" });
      expect(m.stream.messages.every((x) => x.invoice?.userId === m.userId)).toBe(true);
      await chain.mine(1);
    });

    it("4. no payment: EXPIRED at expiresAt; a payment afterwards is recorded as late and the status stays", async () => {
      const inv = await m.invoice(0.1, 1, 10n);
      await m.stream.until(m.reached(inv.paymentId, S.EXPIRED), 30_000, "EXPIRED");
      await chain.send(inv.address, 10_000_000n);
      await m.quiet();
      expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.EXPIRED]);
      const late = await service.sql<{ in_time: number }>("SELECT in_time FROM payments WHERE invoice_id = ?", inv.paymentId);
      expect(late).toEqual([{ in_time: 0 }]);
      await chain.mine(1);
    });

    it("4b. paid in time, confirmations after expiresAt: CONFIRMED, never EXPIRED", async () => {
      const inv = await m.invoice(0.16, 1, 10n);
      await chain.send(inv.address, 16_000_000n);
      await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
      await new Promise((r) => setTimeout(r, 11_000));
      await chain.mine(1);
      await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
      expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
    });

    it("5. 0 confirmations means 1 for a replaceable (BIP125) payment; a final one confirms on sight (through a node)", async () => {
      const rbf = await m.invoice(0.11, 0);
      await chain.send(rbf.address, 11_000_000n, { replaceable: true });
      await m.stream.until(m.reached(rbf.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
      await m.quiet();
      expect(m.stream.statuses(rbf.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL]);
      await chain.mine(1);
      await m.stream.until(m.reached(rbf.paymentId, S.CONFIRMED), 10_000, "CONFIRMED once mined");

      const final = await m.invoice(0.12, 0);
      await chain.send(final.address, 12_000_000n, { replaceable: false });
      if (backend === "esplora") {
        // An explorer does not say what its node replaces: every pool payment through it may be replaced.
        await m.stream.until(m.reached(final.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
        await m.quiet();
        expect(m.stream.statuses(final.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL]);
        await chain.mine(1);
      }
      await m.stream.until(m.reached(final.paymentId, S.CONFIRMED), 10_000, backend === "core" ? "CONFIRMED on sight" : "CONFIRMED once mined");
      expect(m.stream.statuses(final.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
    });

    it("6. a replaceable payment replaced by a tx paying elsewhere: back to PENDING", async () => {
      const inv = await m.invoice(0.13, 1);
      const txid = await chain.send(inv.address, 13_000_000n, { replaceable: true });
      await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
      await replaceWithSelfPayment(txid);
      await m.stream.until(() => m.stream.statuses(inv.paymentId).length === 3, 10_000, "back to PENDING");
      expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.PENDING]);
      expect(m.lastOf(inv.paymentId).actualAmountExact).toBe("0");
      await chain.mine(1);
    });

    it("7. a reorg (invalidateblock) puts the payment back to the pool; mined again it confirms, counted once", async () => {
      const inv = await m.invoice(0.14, 2);
      await chain.send(inv.address, 14_000_000n);
      await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
      const [block] = await chain.mine(1);
      await m.quiet();
      await chain.invalidateBlock(block!);
      await m.quiet();
      await chain.mine(2);
      await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 15_000, "CONFIRMED after the reorg");
      expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
      expect(m.lastOf(inv.paymentId).actualAmountExact).toBe("0.14");
      const rows = await service.sql<{ n: number }>("SELECT count(*) AS n FROM payments WHERE invoice_id = ?", inv.paymentId);
      expect(rows).toEqual([{ n: 1 }]);
    });

    it("8. the worker restarted while a payment waits for its blocks: no block is skipped", async () => {
      const inv = await m.invoice(0.15, 2);
      await chain.send(inv.address, 15_000_000n);
      await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
      const lastEvent = m.stream.messages.at(-1)!.eventId!;
      await service.restart(() => chain.mine(2));
      await m.resume(lastEvent); // the client resumes where it was
      await service.cron();
      await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 15_000, "CONFIRMED after the restart");
      expect(m.stream.statuses(inv.paymentId)).toEqual([S.CONFIRMED]);
    });

    // Keys are judged the same whatever the backend: once is enough.
    it.runIf(backend === "core")("9. refuses a private key, a mainnet key on regtest and garbage with the documented message", async () => {
      for (const masterPubKey of ["tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK", (vectors.litecoin_core_derivations as unknown as Derivation[])[0]!.extended_key, "xpub-nonsense"]) {
        await expect(service.users.updateCryptoKeys({ userId: m.userId, ltcReq: { masterPubKey } })).rejects.toMatchObject({ rawMessage: "invalid LTC master public key", code: 3 });
      }
      const keys = await service.users.getCryptoKeys({ userId: m.userId });
      expect(keys.ltcKeys?.masterPubKey).toBe(merchant.extended_key);
    });
  });
}
