// The Esplora-shaped test server against a real litecoind 0.21 regtest node (no txindex): it must answer as
// Blockstream's electrs does (shapes, status codes, content types), from the node's real chain, mempool and reorgs.
// Payments go to fresh addresses made here from random programs, so no wallet ever spends from them.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { sha256 } from "@noble/hashes/sha2.js";
import { bech32, createBase58check, hex } from "@scure/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEsploraServer, type EsploraServer } from "../e2e/support/esplora-regtest";
import { freshAddress } from "../e2e/support/litecoin-addresses";
import { startLitecoinRegtest, type LitecoinRegtest } from "../e2e/support/litecoin-regtest";

const base58check = createBase58check(sha256);
const UNKNOWN_TXID = "ab".repeat(32);

let chain: LitecoinRegtest;
let esplora: EsploraServer;

beforeAll(async () => {
  const started = Date.now();
  chain = await startLitecoinRegtest();
  esplora = await startEsploraServer(chain);
  console.info(`litecoind regtest + esplora server up: ${Date.now() - started} ms`);
}, 60_000);

afterAll(async () => {
  await esplora?.close();
  await chain?.stop();
}, 30_000);

async function get(path: string) {
  const response = await fetch(`${esplora.url}${path}`);
  const body = await response.text();
  return { status: response.status, type: response.headers.get("content-type"), body, json: () => JSON.parse(body) };
}

async function getJson(path: string) {
  const reply = await get(path);
  expect(reply, path).toMatchObject({ status: 200, type: "application/json" });
  return reply.json();
}

/** The fee litecoind itself charged, in sats: getmempoolentry's ancestorfees is an integer (no ancestors here). */
async function nodeFee(txid: string): Promise<number> {
  const entry = (await chain.rpc("getmempoolentry", txid)) as { ancestorfees: number; ancestorcount: number };
  expect(entry.ancestorcount).toBe(1);
  return entry.ancestorfees;
}

describe("chain tip and blocks", () => {
  it("answers the tip height and hash as plain text, the way the node sees them", async () => {
    const [height, hash] = await Promise.all([get("/blocks/tip/height"), get("/blocks/tip/hash")]);
    expect(height).toMatchObject({ status: 200, type: "text/plain", body: String(await chain.rpc("getblockcount")) });
    expect(hash).toMatchObject({ status: 200, type: "text/plain", body: await chain.rpc("getbestblockhash") });
  });

  it("gives the hash at a height as text, and 404 Block not found above the tip", async () => {
    const tip = Number((await get("/blocks/tip/height")).body);
    expect(await get(`/block-height/${tip}`)).toMatchObject({ status: 200, type: "text/plain", body: await chain.rpc("getblockhash", tip) });
    expect(await get(`/block-height/${tip + 1}`)).toMatchObject({ status: 404, type: "text/plain", body: "Block not found" });
    expect(await get("/block-height/-1")).toMatchObject({ status: 400, body: "Invalid number" });
  });

  it("describes a block with Esplora's fields, numbers where Esplora has numbers", async () => {
    const [hash] = await chain.mine(1);
    const node = (await chain.rpc("getblock", hash, 1)) as Record<string, unknown>;
    const block = await getJson(`/block/${hash}`);
    expect(Object.keys(block)).toEqual([
      "id", "height", "version", "timestamp", "tx_count", "size", "weight", "merkle_root", "previousblockhash", "mediantime", "nonce", "bits", "difficulty",
    ]);
    expect(block).toEqual({
      id: hash,
      height: node.height,
      version: node.version,
      timestamp: node.time,
      tx_count: node.nTx,
      size: node.size,
      weight: node.weight,
      merkle_root: node.merkleroot,
      previousblockhash: node.previousblockhash,
      mediantime: node.mediantime,
      nonce: node.nonce,
      bits: Number.parseInt(node.bits as string, 16),
      difficulty: node.difficulty,
    });
    const genesis = await getJson(`/block/${await chain.rpc("getblockhash", 0)}`);
    expect(genesis).toMatchObject({ height: 0, previousblockhash: null });
  });

  it("reports a block in the best chain with its successor, and next_best null at the tip", async () => {
    const [below, tip] = await chain.mine(2);
    expect(await getJson(`/block/${below}/status`)).toEqual({ in_best_chain: true, height: expect.any(Number), next_best: tip });
    const status = await getJson(`/block/${tip}/status`);
    expect(status).toEqual({ in_best_chain: true, height: Number((await get("/blocks/tip/height")).body), next_best: null });
  });

  it("answers an unknown block hash 404 on /block but in_best_chain false on /status, as electrs does", async () => {
    expect(await get(`/block/${UNKNOWN_TXID}`)).toMatchObject({ status: 404, type: "text/plain", body: "Block not found" });
    expect(await getJson(`/block/${UNKNOWN_TXID}/status`)).toEqual({ in_best_chain: false, height: null, next_best: null });
    expect(await get("/block/xyz")).toMatchObject({ status: 400, type: "text/plain", body: "Invalid hex string" });
  });
});

describe("payments to addresses", () => {
  it("shows a payment to a bech32 address unconfirmed first, then confirmed in the block that mined it, in exact sats", async () => {
    const to = freshAddress("p2wpkh");
    const txid = await chain.send(to.address, 12_345_678n); // 0.12345678 LTC
    const fee = await nodeFee(txid);

    const pending = await getJson(`/address/${to.address}/txs`);
    expect(pending.map((t: { txid: string }) => t.txid)).toEqual([txid]);
    expect(pending[0].status).toEqual({ confirmed: false });
    const paid = pending[0].vout.find((o: { scriptpubkey: string }) => o.scriptpubkey === to.script);
    expect(paid).toEqual({
      scriptpubkey: to.script,
      scriptpubkey_asm: `OP_0 OP_PUSHBYTES_20 ${to.script.slice(4)}`,
      scriptpubkey_type: "v0_p2wpkh",
      scriptpubkey_address: to.address,
      value: 12_345_678,
    });
    expect(pending[0].fee).toBe(fee);
    expect(await getJson(`/address/${to.address}/txs/mempool`)).toEqual(pending);
    expect(await getJson(`/address/${to.address}/txs/chain`)).toEqual([]);

    const [blockHash] = await chain.mine(1);
    const header = (await chain.rpc("getblockheader", blockHash)) as { height: number; time: number };
    const status = { confirmed: true, block_height: header.height, block_hash: blockHash, block_time: header.time };
    const confirmed = await getJson(`/address/${to.address}/txs`);
    expect(confirmed.map((t: { txid: string; status: unknown }) => [t.txid, t.status])).toEqual([[txid, status]]);
    expect(await getJson(`/tx/${txid}/status`)).toEqual(status);
    expect(await getJson(`/address/${to.address}/txs/mempool`)).toEqual([]);
  });

  it("shows a payment to a legacy P2PKH address the same way, with a prevout and fee on every input", async () => {
    const to = freshAddress("p2pkh");
    const txid = await chain.send(to.address, 100_000_001n);
    const fee = await nodeFee(txid);
    const [pending] = await getJson(`/address/${to.address}/txs`);
    expect(pending).toMatchObject({ txid, fee, status: { confirmed: false } });
    expect(pending.vout).toContainEqual({
      scriptpubkey: to.script,
      scriptpubkey_asm: `OP_DUP OP_HASH160 OP_PUSHBYTES_20 ${to.script.slice(6, 46)} OP_EQUALVERIFY OP_CHECKSIG`,
      scriptpubkey_type: "p2pkh",
      scriptpubkey_address: to.address,
      value: 100_000_001,
    });
    const spent = pending.vin.reduce((sum: number, i: { prevout: { value: number } }) => sum + i.prevout.value, 0);
    const paid = pending.vout.reduce((sum: number, o: { value: number }) => sum + o.value, 0);
    expect(spent - paid).toBe(fee);

    const [blockHash] = await chain.mine(1);
    const [mined] = await getJson(`/address/${to.address}/txs`);
    expect(mined.status).toMatchObject({ confirmed: true, block_hash: blockHash });
  });

  it("finds the same history under both encodings of a Litecoin P2SH address (Q… and the legacy 2…)", async () => {
    const to = freshAddress("p2sh");
    const legacy = base58check.encode(Uint8Array.of(0xc4, ...hex.decode(to.script.slice(4, 44))));
    const txid = await chain.send(legacy, 5_000_000n);
    const modern = await getJson(`/address/${to.address}/txs`);
    expect(modern.map((t: { txid: string }) => t.txid)).toEqual([txid]);
    expect(await getJson(`/address/${legacy}/txs`)).toEqual(modern);
    // The address in the answer is the node's own encoding, whichever form was asked for.
    expect(modern[0].vout).toContainEqual(expect.objectContaining({ scriptpubkey: to.script, scriptpubkey_type: "p2sh", scriptpubkey_address: to.address }));
  });

  it("lists a spend under the address that paid for it, with the spent output as prevout", async () => {
    const from = (await chain.payer("getnewaddress", "", "bech32")) as string;
    const { scriptPubKey } = (await chain.rpc("validateaddress", from)) as { scriptPubKey: string };
    const funding = await chain.send(from, 300_000_000n);
    await chain.mine(1);
    // Pay out exactly that output, so the address has one funding and one spending tx.
    const vout = ((await chain.payer("gettransaction", funding, false, true)) as { decoded: { vout: { n: number; scriptPubKey: { hex: string } }[] } })
      .decoded.vout.find((o) => o.scriptPubKey.hex === scriptPubKey)!.n;
    const raw = await chain.payer("createrawtransaction", [{ txid: funding, vout }], { [freshAddress("p2tr").address]: "2.99" });
    const signed = (await chain.payer("signrawtransactionwithwallet", raw)) as { hex: string };
    const spending = (await chain.rpc("sendrawtransaction", signed.hex)) as string;

    const history = await getJson(`/address/${from}/txs`);
    expect(history.map((t: { txid: string; status: { confirmed: boolean } }) => [t.txid, t.status.confirmed])).toEqual([
      [spending, false],
      [funding, true],
    ]);
    expect(history[0].vin).toEqual([
      expect.objectContaining({ txid: funding, vout, is_coinbase: false, scriptsig: "", scriptsig_asm: "", witness: expect.any(Array), prevout: expect.objectContaining({ scriptpubkey: scriptPubKey, value: 300_000_000 }) }),
    ]);
    expect(history[0].vout[0]).toMatchObject({ scriptpubkey_type: "v1_p2tr", value: 299_000_000 });
    expect(history[0].fee).toBe(1_000_000);
  });

  it("pages the confirmed history 25 at a time, newest first, with the last txid seen as the cursor", async () => {
    const to = freshAddress("p2wpkh");
    const older: string[] = [];
    for (let i = 0; i < 13; i++) older.push(await chain.send(to.address, 10_000n + BigInt(i)));
    await chain.mine(1);
    const newer: string[] = [];
    for (let i = 0; i < 17; i++) newer.push(await chain.send(to.address, 20_000n + BigInt(i)));
    await chain.mine(1);

    const first = (await getJson(`/address/${to.address}/txs/chain`)).map((t: { txid: string }) => t.txid);
    expect(first).toHaveLength(25);
    expect(first.slice(0, 17).sort()).toEqual([...newer].sort());
    const second = (await getJson(`/address/${to.address}/txs/chain/${first[24]}`)).map((t: { txid: string }) => t.txid);
    expect(second).toHaveLength(5);
    expect([...first.slice(17), ...second].sort()).toEqual([...older].sort());
    expect(await getJson(`/address/${to.address}/txs/chain/${second[4]}`)).toEqual([]);
    // /txs with an empty mempool is the first confirmed page.
    expect((await getJson(`/address/${to.address}/txs`)).map((t: { txid: string }) => t.txid)).toEqual(first);
    // A cursor not in the history ends the listing; a malformed one is no cursor at all (electrs's lenient parse).
    expect(await getJson(`/address/${to.address}/txs/chain/${UNKNOWN_TXID}`)).toEqual([]);
    expect((await getJson(`/address/${to.address}/txs/chain/nonsense`)).map((t: { txid: string }) => t.txid)).toEqual(first);
  });

  it("refuses a malformed address or one of another network with 400, and an empty history is []", async () => {
    expect(await get("/address/not-an-address/txs")).toMatchObject({ status: 400, type: "text/plain" });
    const mainnet = bech32.encode("ltc", [0, ...bech32.toWords(randomBytes(20))]);
    expect(await get(`/address/${mainnet}/txs`)).toMatchObject({ status: 400, body: "Address on invalid network" });
    expect(await getJson(`/address/${freshAddress("p2tr").address}/txs`)).toEqual([]);
  });
});

describe("transactions", () => {
  it("answers /tx/:txid/status of an unknown txid with 200 confirmed false (electrs), and /tx/:txid with 404", async () => {
    expect(await get(`/tx/${UNKNOWN_TXID}/status`)).toMatchObject({ status: 200, type: "application/json", body: '{"confirmed":false}' });
    expect(await get(`/tx/${UNKNOWN_TXID}`)).toMatchObject({ status: 404, type: "text/plain", body: "Transaction not found" });
    expect(await get("/tx/1234/status")).toMatchObject({ status: 400, type: "text/plain", body: "Invalid hex string" });
  });

  it("answers 404 for an unknown txid's status when playing mempool.space's own backend", async () => {
    const strict = await startEsploraServer(chain, { unknownTxStatus: "not-found" });
    try {
      const response = await fetch(`${strict.url}/tx/${UNKNOWN_TXID}/status`);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe("No such mempool or blockchain transaction");
      const [coinbase] = ((await chain.rpc("getblock", await chain.rpc("getblockhash", 1))) as { tx: string[] }).tx;
      expect(await (await fetch(`${strict.url}/tx/${coinbase}/status`)).json()).toMatchObject({ confirmed: true, block_height: 1 });
    } finally {
      await strict.close();
    }
  });

  it("describes a coinbase with a null prevout, the null outpoint and no fee", async () => {
    const [hash] = await chain.mine(1);
    const [coinbase] = ((await chain.rpc("getblock", hash)) as { tx: string[] }).tx;
    const tx = await getJson(`/tx/${coinbase}`);
    expect(Object.keys(tx)).toEqual(["txid", "version", "locktime", "vin", "vout", "size", "weight", "fee", "status"]);
    expect(tx).toMatchObject({ txid: coinbase, fee: 0, status: { confirmed: true, block_hash: hash } });
    expect(tx.vin).toEqual([
      expect.objectContaining({ txid: "0".repeat(64), vout: 4294967295, prevout: null, is_coinbase: true, sequence: expect.any(Number) }),
    ]);
    // The witness commitment output has no address: the key is absent, not null.
    const commitment = tx.vout.find((o: { scriptpubkey_type: string }) => o.scriptpubkey_type === "op_return");
    expect(commitment).toBeDefined();
    expect(commitment).not.toHaveProperty("scriptpubkey_address");
    expect(commitment.scriptpubkey_asm).toMatch(/^OP_RETURN OP_PUSHBYTES_36 aa21a9ed[0-9a-f]{64}$/);
  });

  it("shows the size and weight litecoind reports, and the BIP125 sequence of a replaceable payment", async () => {
    const to = freshAddress("p2wpkh");
    const txid = await chain.send(to.address, 1_000_000n, { replaceable: true });
    const node = (await chain.rpc("getrawtransaction", txid, true)) as { size: number; weight: number; version: number; locktime: number };
    const tx = await getJson(`/tx/${txid}`);
    expect(tx).toMatchObject({ size: node.size, weight: node.weight, version: node.version, locktime: node.locktime });
    expect(tx.vin.every((i: { sequence: number }) => i.sequence === 0xfffffffd)).toBe(true);
    expect(tx.vin[0].witness).toHaveLength(2);
  });

  it("answers a confirmed P2WPKH payment with the keys, in the order, of a recorded mempool.space response", async () => {
    const recorded = JSON.parse(readFileSync(new URL("../fixtures/esplora/address-txs-bc1qkd9h-mainnet.json", import.meta.url), "utf8"))[1];
    const to = freshAddress("p2wpkh");
    const txid = await chain.send(to.address, 4_000_000n);
    await chain.mine(1);
    const [served] = await getJson(`/address/${to.address}/txs`);
    expect(served.txid).toBe(txid);
    const shape = (tx: { vin: { prevout: object }[]; vout: object[]; status: object }) => ({
      tx: Object.keys(tx),
      vin: Object.keys(tx.vin[0]!),
      prevout: Object.keys(tx.vin[0]!.prevout),
      vout: Object.keys(tx.vout[0]!),
      status: Object.keys(tx.status),
    });
    expect(shape(served)).toEqual(shape(recorded));
  });

  it("drops a replaced tx (404) and lists its replacement", async () => {
    const to = freshAddress("p2wpkh");
    const original = await chain.send(to.address, 2_000_000n, { replaceable: true });
    expect((await getJson(`/address/${to.address}/txs/mempool`)).map((t: { txid: string }) => t.txid)).toEqual([original]);
    const replacement = await chain.bumpFee(original);
    expect((await getJson(`/address/${to.address}/txs/mempool`)).map((t: { txid: string }) => t.txid)).toEqual([replacement]);
    expect(await get(`/tx/${original}`)).toMatchObject({ status: 404, body: "Transaction not found" });
    expect(await getJson(`/tx/${original}/status`)).toEqual({ confirmed: false });
  });
});

describe("reorgs", () => {
  it("reports an invalidated block out of the best chain and its tx back in the mempool, then in the new block", async () => {
    const to = freshAddress("p2wpkh");
    const txid = await chain.send(to.address, 7_777_777n);
    const orphan = (await chain.mine(1))[0]!;
    expect(await getJson(`/tx/${txid}/status`)).toMatchObject({ confirmed: true, block_hash: orphan });

    await chain.invalidateBlock(orphan);
    expect(await getJson(`/block/${orphan}/status`)).toEqual({ in_best_chain: false, height: null, next_best: null });
    expect(await get(`/block/${orphan}`)).toMatchObject({ status: 404, body: "Block not found" });
    expect((await get("/blocks/tip/hash")).body).toBe(await chain.rpc("getbestblockhash"));
    expect(await getJson(`/tx/${txid}/status`)).toEqual({ confirmed: false });
    const [pending] = await getJson(`/address/${to.address}/txs/mempool`);
    expect(pending).toMatchObject({ txid, status: { confirmed: false } });
    expect(await getJson(`/address/${to.address}/txs/chain`)).toEqual([]);

    const [replacement] = await chain.mine(1);
    expect(replacement).not.toBe(orphan);
    expect(await getJson(`/tx/${txid}/status`)).toMatchObject({ confirmed: true, block_hash: replacement });
    const parent = (await getJson(`/block/${replacement}`)).previousblockhash;
    expect(await getJson(`/block/${parent}/status`)).toMatchObject({ in_best_chain: true, next_best: replacement });
  });
});

describe("fault knobs", () => {
  it("answers the next n requests with the status asked for, then normally again", async () => {
    const before = esplora.requests.count;
    esplora.failNext(2);
    expect(await get("/blocks/tip/height")).toMatchObject({ status: 503, type: "text/plain" });
    expect((await get("/blocks/tip/hash")).status).toBe(503);
    expect((await get("/blocks/tip/height")).status).toBe(200);
    esplora.failNext(1, 429);
    expect((await get("/blocks/tip/height")).status).toBe(429);
    expect(esplora.requests.count - before).toBe(4);
    expect(esplora.requests.paths.slice(-4)).toEqual(["/blocks/tip/height", "/blocks/tip/hash", "/blocks/tip/height", "/blocks/tip/height"]);
  });

  it("keeps answering from the chain as it was while frozen, and catches up when unfrozen", async () => {
    const to = freshAddress("p2wpkh");
    const height = (await get("/blocks/tip/height")).body;
    esplora.freeze();
    try {
      const txid = await chain.send(to.address, 3_000_000n);
      await chain.mine(2);
      expect((await get("/blocks/tip/height")).body).toBe(height);
      expect(await get(`/tx/${txid}`)).toMatchObject({ status: 404 });
      expect(await getJson(`/address/${to.address}/txs`)).toEqual([]);
      esplora.unfreeze();
      expect((await get("/blocks/tip/height")).body).toBe(String(Number(height) + 2));
      expect(await getJson(`/tx/${txid}/status`)).toMatchObject({ confirmed: true, block_height: Number(height) + 1 });
    } finally {
      esplora.unfreeze();
    }
  });

  it("answers unknown endpoints and other methods 404 as electrs does", async () => {
    expect(await get("/blocks/tip/height/")).toMatchObject({ status: 404, body: 'endpoint does not exist "/blocks/tip/height/"' });
    const post = await fetch(`${esplora.url}/blocks/tip/height`, { method: "POST" });
    expect(post.status).toBe(404);
  });
});
