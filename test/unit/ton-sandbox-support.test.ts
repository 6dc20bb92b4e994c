// The toncenter-shaped test server over @ton/sandbox, through HTTP: it must serve the v2/v3 shapes the TON watcher
// reads, from the emulator's real transactions (payments to undeployed invoice wallets, bounces, a sweep), and its knobs.
// Every test pays fresh invoice addresses from random keys, so none depends on another's order.
import { randomBytes } from "node:crypto";
import { Address, beginCell, Cell, external, internal, storeMessage } from "@ton/core";
import { keyPairFromSeed, type KeyPair } from "@ton/crypto";
import { WalletContractV4 } from "@ton/ton";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTonSandbox, type TonSandbox } from "../e2e/support/ton-sandbox";

const V4_BASE = 0x40000000;

let ton: TonSandbox;

beforeAll(async () => {
  const started = Date.now();
  ton = await startTonSandbox();
  console.info(`ton sandbox server up: ${Date.now() - started} ms`);
}, 60_000);

afterAll(async () => {
  await ton?.stop();
});

interface Msg {
  hash: string;
  source: string | null;
  destination: string | null;
  value: string | null;
  bounce: boolean | null;
  bounced: boolean | null;
  opcode: string | null;
  message_content: { body: string; decoded: { type: string; comment: string } | null };
}

interface Tx {
  account: string;
  hash: string;
  lt: string;
  now: number;
  mc_block_seqno: number;
  orig_status: string;
  end_status: string;
  total_fees: string;
  block_ref: { workchain: number; shard: string; seqno: number };
  in_msg: Msg | null;
  out_msgs: Msg[];
  description: {
    type: string;
    aborted: boolean;
    destroyed: boolean;
    compute_ph: { skipped: boolean; reason?: string; success?: boolean; exit_code?: number };
    credit_ph?: { credit: string };
    bounce?: { type: string };
  };
}

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${ton.url}${path}`, { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function post(path: string, body: unknown) {
  const response = await fetch(`${ton.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function blockTxs(seqno: number, query = "limit=1000&offset=0&sort=asc"): Promise<Tx[]> {
  const reply = await get(`/v3/transactionsByMasterchainBlock?seqno=${seqno}&${query}`);
  expect(reply.status).toBe(200);
  expect(reply.body.address_book).toEqual({});
  return reply.body.transactions as Tx[];
}

/** A fresh undeployed invoice wallet, as the service derives them: V4 with a custom wallet id from a public key. */
function invoiceWallet(index = 7): { wallet: WalletContractV4; keyPair: KeyPair; raw: string } {
  const keyPair = keyPairFromSeed(randomBytes(32));
  const wallet = WalletContractV4.create({ workchain: 0, publicKey: keyPair.publicKey, walletId: V4_BASE + index });
  return { wallet, keyPair, raw: rawV3(wallet.address) };
}

const rawV3 = (address: Address) => `0:${address.hash.toString("hex").toUpperCase()}`;
const masterchainInfo = async () => (await get("/v3/masterchainInfo")).body as { first: Record<string, unknown>; last: Record<string, unknown> };

describe("network check", () => {
  it("serves ConfigParam 19 as a cell holding global_id -239 by default", async () => {
    const reply = await get("/v2/getConfigParam?config_id=19");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ ok: true, result: { "@type": "configInfo", config: { "@type": "tvm.cell" } } });
    const bytes = (reply.body.result as { config: { bytes: string } }).config.bytes;
    expect(Cell.fromBase64(bytes).beginParse().loadInt(32)).toBe(-239);
  });

  it("serves global_id -3 for a testnet server", async () => {
    const testnet = await startTonSandbox({ globalId: -3 });
    try {
      const reply = await fetch(`${testnet.url}/v2/getConfigParam?config_id=19`);
      const body = (await reply.json()) as { result: { config: { bytes: string } } };
      expect(Cell.fromBase64(body.result.config.bytes).beginParse().loadInt(32)).toBe(-3);
    } finally {
      await testnet.stop();
    }
  });
});

describe("masterchain blocks", () => {
  it("seals one block per pay and one per mined block, with unique 32-byte hashes", async () => {
    const before = await masterchainInfo();
    const tip = Number(before.last.seqno);
    expect(tip).toBe(ton.tip());
    expect(before.first).toMatchObject({ workchain: -1, shard: "8000000000000000", seqno: 1 });
    expect(await ton.mine(3)).toBeGreaterThanOrEqual(tip + 3);
    const { mcSeqno } = await ton.pay({ to: invoiceWallet().wallet.address.toString({ bounceable: false }), amountNano: "1000000" });
    const after = await masterchainInfo();
    expect(Number(after.last.seqno)).toBeGreaterThanOrEqual(mcSeqno);
    expect(mcSeqno).toBeGreaterThanOrEqual(tip + 4);
    const last = after.last;
    expect(last).toMatchObject({ workchain: -1, shard: "8000000000000000" });
    expect(Buffer.from(String(last.root_hash), "base64")).toHaveLength(32);
    expect(Buffer.from(String(last.file_hash), "base64")).toHaveLength(32);
    expect(last.root_hash).not.toBe(before.last.root_hash);
    expect(last.gen_utime).toMatch(/^\d+$/);
    expect(BigInt(String(last.end_lt))).toBeGreaterThanOrEqual(BigInt(String(last.start_lt)));
  });

  it("answers 404 for a block above the tip", async () => {
    const reply = await get(`/v3/transactionsByMasterchainBlock?seqno=${ton.tip() + 1}&limit=10&offset=0`);
    expect(reply.status).toBe(404);
    expect(typeof reply.body.error).toBe("string");
  });
});

describe("payments to undeployed invoice addresses", () => {
  it("shows a non-bounceable 2.5 TON with a comment as an aborted, credited tx that keeps the account uninit", async () => {
    const invoice = invoiceWallet();
    const to = invoice.wallet.address.toString({ bounceable: false });
    expect(to.startsWith("UQ")).toBe(true);
    const paid = await ton.pay({ to, amountNano: "2500000000", comment: "inv-7" });
    expect(paid.txs.map((t) => t.account)).toContain(invoice.raw);

    const txs = await blockTxs(paid.mcSeqno);
    const tx = txs.find((t) => t.account === invoice.raw)!;
    expect(tx).toMatchObject({
      mc_block_seqno: paid.mcSeqno,
      block_ref: { workchain: 0, shard: "8000000000000000", seqno: paid.mcSeqno + 1000 },
      orig_status: "uninit",
      end_status: "uninit",
      description: { type: "ord", aborted: true, compute_ph: { skipped: true, reason: "no_state" } },
      out_msgs: [],
    });
    expect(tx.description.bounce).toBeUndefined();
    expect(tx.in_msg).toMatchObject({
      source: rawV3(ton.payers[0]!.address),
      destination: invoice.raw,
      value: "2500000000",
      bounce: false,
      bounced: false,
      opcode: "0x00000000",
      message_content: { body: "te6cckEBAQEACwAAEgAAAABpbnYtN8RFyOU=", decoded: { type: "text_comment", comment: "inv-7" } },
    });
    // The payer's wallet tx, from the external message, is in the same block.
    const payerTx = txs.find((t) => t.account === rawV3(ton.payers[0]!.address))!;
    expect(payerTx.in_msg).toMatchObject({ source: null, value: null, bounce: null });
    expect(payerTx.out_msgs[0]!.hash).toBe(tx.in_msg!.hash);
    expect(payerTx.description.compute_ph).toMatchObject({ skipped: false, success: true, exit_code: 0 });

    const info = await get(`/v2/getAddressInformation?address=${to}`);
    expect(info.body).toMatchObject({ ok: true, result: { "@type": "raw.fullAccountState", balance: "2500000000", state: "uninitialized", code: "" } });
  });

  it("bounces a bounceable 1 TON: bounce phase ok, an out msg back to the payer, the account nonexist", async () => {
    const invoice = invoiceWallet();
    const to = invoice.wallet.address.toString({ bounceable: true });
    const paid = await ton.pay({ to, amountNano: "1000000000", from: 1 });
    const txs = await blockTxs(paid.mcSeqno);
    const tx = txs.find((t) => t.account === invoice.raw)!;
    expect(tx.in_msg).toMatchObject({ value: "1000000000", bounce: true, bounced: false, opcode: null, message_content: { decoded: null } });
    expect(tx.description).toMatchObject({ aborted: true, compute_ph: { skipped: true, reason: "no_state" }, bounce: { type: "ok" } });
    expect(tx.end_status).toBe("nonexist");
    const payer = rawV3(ton.payers[1]!.address);
    expect(tx.out_msgs).toHaveLength(1);
    const back = tx.out_msgs[0]!;
    expect(back).toMatchObject({ source: invoice.raw, destination: payer, bounced: true, bounce: false });
    expect(BigInt(back.value!)).toBeLessThan(1_000_000_000n);
    expect(BigInt(back.value!)).toBeGreaterThan(990_000_000n);
    // The bounce lands on the payer within the same block.
    const landed = txs.find((t) => t.account === payer && t.in_msg?.hash === back.hash);
    expect(landed?.in_msg).toMatchObject({ bounced: true, value: back.value });
  });

  it("pays up to four destinations in one external message from a chosen payer, and pages the block by limit and offset", async () => {
    const invoices = [invoiceWallet(1), invoiceWallet(2), invoiceWallet(3), invoiceWallet(4)];
    const paid = await ton.pay({
      from: 2,
      to: invoices.map((inv, i) => ({ to: inv.wallet.address.toRawString(), amountNano: String(1_000_000_000 * (i + 1)), comment: `inv-${i}` })),
    });
    const all = await blockTxs(paid.mcSeqno);
    expect(all).toHaveLength(5);
    const payerTxs = all.filter((t) => t.account === rawV3(ton.payers[2]!.address));
    expect(payerTxs).toHaveLength(1);
    expect(payerTxs[0]!.out_msgs.map((m) => m.value)).toEqual(["1000000000", "2000000000", "3000000000", "4000000000"]);
    invoices.forEach((inv, i) => {
      const tx = all.find((t) => t.account === inv.raw)!;
      // A raw address has no flag: the payment is non-bounceable and credited.
      expect(tx.in_msg).toMatchObject({ value: String(1_000_000_000 * (i + 1)), bounce: false, message_content: { decoded: { comment: `inv-${i}` } } });
      expect(tx.end_status).toBe("uninit");
    });
    const lts = all.map((t) => BigInt(t.lt));
    expect([...lts].sort((a, b) => (a < b ? -1 : 1))).toEqual(lts);

    const pages = [
      await blockTxs(paid.mcSeqno, "limit=2&offset=0&sort=asc"),
      await blockTxs(paid.mcSeqno, "limit=2&offset=2&sort=asc"),
      await blockTxs(paid.mcSeqno, "limit=2&offset=4&sort=asc"),
      await blockTxs(paid.mcSeqno, "limit=2&offset=6&sort=asc"),
    ];
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1, 0]);
    expect(pages.flat().map((t) => t.hash)).toEqual(all.map((t) => t.hash));
    expect((await blockTxs(paid.mcSeqno, "limit=1000&offset=0&sort=desc")).map((t) => t.hash)).toEqual(all.map((t) => t.hash).reverse());
  });

  it("takes the test endpoints over HTTP too", async () => {
    const invoice = invoiceWallet();
    const response = await fetch(`${ton.origin}/_test/pay`, {
      method: "POST",
      body: JSON.stringify({ to: invoice.wallet.address.toString({ bounceable: false }), amountNano: "123456789", from: 3 }),
    });
    const paid = (await response.json()) as { mcSeqno: number; txs: { account: string; hash: string; lt: string }[] };
    expect(response.status).toBe(200);
    const tx = (await blockTxs(paid.mcSeqno)).find((t) => t.account === invoice.raw)!;
    expect(paid.txs).toContainEqual({ account: invoice.raw, hash: tx.hash, lt: tx.lt });
    const mined = await fetch(`${ton.origin}/_test/mine`, { method: "POST", body: JSON.stringify({ count: 2 }) });
    expect(((await mined.json()) as { tip: number }).tip).toBeGreaterThanOrEqual(paid.mcSeqno + 2);
  });
});

describe("sendBoc", () => {
  function sweepBoc(invoice: ReturnType<typeof invoiceWallet>, to: Address, secretKey = invoice.keyPair.secretKey): string {
    const body = invoice.wallet.createTransfer({
      seqno: 0,
      secretKey,
      sendMode: 128 + 32,
      timeout: Math.floor(Date.now() / 1000) + 3600,
      messages: [internal({ to, value: 0n, bounce: false })],
    });
    const message = external({ to: invoice.wallet.address, init: invoice.wallet.init, body });
    return beginCell().store(storeMessage(message)).endCell().toBoc().toString("base64");
  }

  it("broadcasts a seqno-0 sweep that deploys, sends everything and destroys the invoice wallet; a replay is refused", async () => {
    const invoice = invoiceWallet();
    const main = invoiceWallet(0);
    await ton.pay({ to: invoice.wallet.address.toString({ bounceable: false }), amountNano: "2500000000" });
    const boc = sweepBoc(invoice, main.wallet.address);

    const tipBefore = ton.tip();
    const reply = await post("/v2/sendBoc", { boc });
    expect(reply).toEqual({ status: 200, body: { ok: true, result: { "@type": "ok" } } });
    expect(ton.tip()).toBe(tipBefore + 1);
    const txs = await blockTxs(ton.tip());
    const sweep = txs.find((t) => t.account === invoice.raw)!;
    expect(sweep).toMatchObject({ orig_status: "uninit", end_status: "nonexist", description: { destroyed: true, compute_ph: { skipped: false, success: true, exit_code: 0 } } });
    expect(sweep.in_msg).toMatchObject({ source: null, destination: invoice.raw, value: null });
    const delivered = txs.find((t) => t.account === main.raw)!;
    expect(delivered.in_msg).toMatchObject({ source: invoice.raw, bounce: false });
    expect(BigInt(delivered.in_msg!.value!)).toBeGreaterThan(2_490_000_000n);
    expect(BigInt(delivered.in_msg!.value!)).toBeLessThan(2_500_000_000n);

    const replay = await post("/v2/sendBoc", { boc });
    expect(replay.status).toBe(500);
    expect(replay.body).toMatchObject({ ok: false, code: 500 });
    expect(String(replay.body.error)).toMatch(/^LITE_SERVER_UNKNOWN: cannot apply external message to current state : /);
    expect(ton.tip()).toBe(tipBefore + 2);
  });

  it("refuses a sweep signed with another key and leaves the funds", async () => {
    const invoice = invoiceWallet();
    const to = invoice.wallet.address.toString({ bounceable: false });
    await ton.pay({ to, amountNano: "2500000000" });
    const reply = await post("/v2/sendBoc", { boc: sweepBoc(invoice, invoiceWallet(0).wallet.address, keyPairFromSeed(randomBytes(32)).secretKey) });
    expect(reply.status).toBe(500);
    expect(reply.body).toMatchObject({ ok: false, code: 500 });
    const info = await get(`/v2/getAddressInformation?address=${to}`);
    expect(info.body).toMatchObject({ result: { balance: "2500000000", state: "uninitialized" } });
  });
});

describe("accounts", () => {
  it("reads a payer wallet as active with its code, and its seqno by runGetMethod", async () => {
    const payer = ton.payers[0]!.address;
    const info = await get(`/v2/getAddressInformation?address=${payer.toString()}`);
    const result = info.body.result as Record<string, unknown>;
    expect(result).toMatchObject({ state: "active", last_transaction_id: { "@type": "internal.transactionId" } });
    expect(String(result.code).length).toBeGreaterThan(0);
    const seqno = await get(`/v2/runGetMethod?address=${payer.toRawString()}&method=seqno&stack=[]`);
    expect(seqno.body).toMatchObject({ ok: true, result: { "@type": "smc.runResult", exit_code: 0 } });
    const [[kind, value]] = (seqno.body.result as { stack: [string, string][] }).stack as [[string, string]];
    expect(kind).toBe("num");
    expect(Number(BigInt(value))).toBeGreaterThanOrEqual(1);
  });

  it("lists an account's transactions newest first", async () => {
    const invoice = invoiceWallet();
    const to = invoice.wallet.address.toString({ bounceable: false });
    await ton.pay({ to, amountNano: "100000000" });
    await ton.pay({ to, amountNano: "200000000" });
    const reply = await get(`/v3/transactions?account=${to}&limit=10&sort=desc`);
    expect((reply.body.transactions as Tx[]).map((t) => t.in_msg?.value)).toEqual(["200000000", "100000000"]);
    const asc = await get(`/v3/transactions?account=${invoice.raw}&limit=1&offset=0&sort=asc`);
    expect((asc.body.transactions as Tx[]).map((t) => t.in_msg?.value)).toEqual(["100000000"]);
  });
});

describe("fault knobs", () => {
  it("answers 503 to everything while down", async () => {
    ton.setDown(true);
    try {
      expect((await get("/v3/masterchainInfo")).status).toBe(503);
      expect((await get("/v2/getConfigParam?config_id=19")).body).toMatchObject({ ok: false, code: 503 });
    } finally {
      ton.setDown(false);
    }
    expect((await get("/v3/masterchainInfo")).status).toBe(200);
  });

  it("answers 401 without the required X-API-Key", async () => {
    ton.requireApiKey("k-123");
    try {
      expect((await get("/v3/masterchainInfo")).status).toBe(401);
      expect((await get("/v3/masterchainInfo", { "X-API-Key": "wrong" })).status).toBe(401);
      expect((await get("/v3/masterchainInfo", { "X-API-Key": "k-123" })).status).toBe(200);
    } finally {
      ton.requireApiKey(null);
    }
    expect((await get("/v3/masterchainInfo")).status).toBe(200);
  });

  it("plays a lagging indexer: the tip reported lower, the newer blocks not found", async () => {
    const { mcSeqno } = await ton.pay({ to: invoiceWallet().wallet.address.toString({ bounceable: false }), amountNano: "1000000" });
    ton.setLag(2);
    try {
      const tip = ton.tip();
      expect((await masterchainInfo()).last.seqno).toBe(tip - 2);
      expect((await get(`/v3/transactionsByMasterchainBlock?seqno=${mcSeqno}&limit=10&offset=0`)).status).toBe(404);
    } finally {
      ton.setLag(0);
    }
    expect((await blockTxs(mcSeqno)).length).toBeGreaterThan(0);
  });
});
