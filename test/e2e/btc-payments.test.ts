// Bitcoin end to end. Debian has no bitcoind, so the BTC module runs against litecoind's regtest, which
// speaks the same RPC and reports the same chain name ("regtest"): the invoice's bcrt1 address is paid
// through the Litecoin spelling of the very same output script, which is what the watcher matches.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import { InvoiceStatusType as S } from "../../gen/invoice/v1/invoice_pb";
import { addressOfScript, scriptOfAddress } from "../../src/chains/utxo/address";
import { utxoNetwork } from "../../src/chains/utxo/networks";
import vectors from "../vectors/utxo.json";
import { startLitecoinRegtest, type LitecoinRegtest } from "./support/litecoin-regtest";
import { MerchantSession } from "./support/merchant-session";
import { startService, type Service } from "./support/service";

type Derivation = { chain: string; script_type: string; branch: number; extended_key: string };
// The regtest p2wpkh account key (m/84'/1'/0'): a tpub, which BTC on regtest reads as native SegWit.
const merchant = (vectors.litecoin_core_derivations as unknown as Derivation[]).find((d) => d.chain === "regtest" && d.script_type === "p2wpkh" && d.branch === 0)!;
const btc = utxoNetwork("BTC", "regtest");
const ltc = utxoNetwork("LTC", "regtest");

let chain: LitecoinRegtest;
let service: Service;
let m: MerchantSession;

beforeAll(async () => {
  chain = await startLitecoinRegtest();
  service = await startService({ BTC_NETWORK: "regtest", BTC_DAEMON_URL: chain.urlWithCredentials, BTC_POLL_SECONDS: "1" });
  m = await MerchantSession.open(service, CoinType.BTC, { btcReq: { masterPubKey: merchant.extended_key } }, 1000);
}, 180_000);

afterAll(async () => {
  await m?.close();
  await service?.close();
  await chain?.stop();
});


describe("Bitcoin payments (the UTXO module against a Core-compatible regtest node)", () => {
  it("gives a bcrt1 address and follows its payment to CONFIRMED", async () => {
    const inv = await service.invoices.createInvoice({ userId: m.userId, coin: CoinType.BTC, amount: 0.5, timeout: 600n, confirmations: 1 });
    expect(inv.address).toMatch(/^bcrt1q/);
    const script = scriptOfAddress(inv.address, btc)!;
    const sameScript = addressOfScript(script, ltc)!;
    expect(scriptOfAddress(sameScript, ltc)).toEqual(script);
    const txid = await chain.send(sameScript, 50_000_000n);
    await m.stream.until(m.reached(inv.paymentId, S.PENDING_MEMPOOL), 10_000, "PENDING_MEMPOOL");
    expect(m.stream.messages.at(-1)!.invoice).toMatchObject({ actualAmountExact: "0.5", txId: txid });
    await chain.mine(1);
    await m.stream.until(m.reached(inv.paymentId, S.CONFIRMED), 10_000, "CONFIRMED");
    expect(m.stream.statuses(inv.paymentId)).toEqual([S.PENDING, S.PENDING_MEMPOOL, S.CONFIRMED]);
  });

  it("reports the coin ready on /healthz, and LTC not enabled", async () => {
    const health = (await (await fetch(new URL("/healthz", service.url))).json()) as { coins: Record<string, { ready: boolean }> };
    expect(health.coins.BTC?.ready).toBe(true);
    expect(health.coins.LTC).toBeUndefined();
    await expect(service.invoices.createInvoice({ userId: m.userId, coin: CoinType.LTC, amount: 1, timeout: 600n, confirmations: 1 })).rejects.toMatchObject({
      rawMessage: "LTC is not enabled on this server",
    });
  });
});
