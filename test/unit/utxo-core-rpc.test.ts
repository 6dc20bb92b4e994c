// The Core JSON-RPC client against a real litecoind 0.21 regtest node (no txindex), paying addresses derived
// from merchant keys, and against tiny local servers that fail, stall or lie (Core 28's JSON-RPC 2.0 replies,
// warm-up, garbage), to pin down amounts, batches, retries, failover and shape checks.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveInvoiceAddress, type DerivedOutput } from "../../src/chains/utxo/address";
import { coinsToSatoshis, createCoreRpc, CoreRpcError, parseNodeUrls, RPC_INVALID_PARAMETER, type CoreRpcOptions, type CoreTx } from "../../src/chains/utxo/core-rpc";
import { parseAccountKey } from "../../src/chains/utxo/keys";
import { utxoNetwork } from "../../src/chains/utxo/networks";
import { startLitecoinRegtest, type LitecoinRegtest } from "../e2e/support/litecoin-regtest";
import { freePort } from "../e2e/support/ports";
import { WrongNetworkError } from "../../src/chains/network-check";
import { NodeError } from "../../src/chains/node-error";

const vectors = JSON.parse(readFileSync(new URL("../vectors/utxo.json", import.meta.url), "utf8"));
const REGTEST = utxoNetwork("LTC", "regtest");
const UNKNOWN_TXID = "ab".repeat(32);

let chain: LitecoinRegtest;
const servers: Server[] = [];

beforeAll(async () => {
  const started = Date.now();
  chain = await startLitecoinRegtest();
  console.info(`litecoind regtest start + 120 blocks: ${Date.now() - started} ms`);
}, 60_000);

afterAll(async () => {
  const started = Date.now();
  const stopped = chain?.stop().then(() => console.info(`litecoind regtest stop: ${Date.now() - started} ms`));
  for (const server of servers) server.closeAllConnections();
  await Promise.all([stopped, ...servers.map((s) => new Promise((r) => s.close(r)))]);
}, 30_000);

/** Invoice address 0 of a merchant key from the regtest vectors, for each script type. */
function merchantAddress(text: string): DerivedOutput {
  const parsed = parseAccountKey(text, REGTEST);
  if (!parsed.ok) throw new Error(parsed.problem);
  return deriveInvoiceAddress(parsed.key, 0);
}
const regtestKey = (script: string): string =>
  vectors.litecoin_core_derivations.find((s: { chain: string; script_type: string; branch: number }) => s.chain === "regtest" && s.script_type === script && s.branch === 0).extended_key;

function recording(opts: Partial<CoreRpcOptions> = {}) {
  const urls: string[] = [];
  const waits: number[] = [];
  const client = createCoreRpc({
    urls: [chain.urlWithCredentials],
    ...opts,
    fetch: (input, init) => {
      urls.push(String(input instanceof Request ? input.url : input));
      // Test-only: litecoind's shutdown waits for idle keep-alive sockets (4 s in Node's pool) to close.
      return fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), connection: "close" } });
    },
    sleep: async (ms) => void waits.push(ms),
  });
  return { client, urls, waits };
}

const outputPaying = (tx: CoreTx, script: string) => tx.outputs.find((o) => o.script === script);

describe("against litecoind regtest", () => {
  it("reports the regtest chain, its tip and that it is not in initial download", async () => {
    const { client } = recording();
    const info = await client.getBlockchainInfo();
    expect(info.chain).toBe(REGTEST.coreChain);
    expect(info).toMatchObject({ blocks: 120, headers: 120, initialBlockDownload: false });
    expect(await client.getBlockHash(120)).toBe(info.bestBlockHash);
  });

  it("reads payments to P2WPKH, P2SH-P2WPKH, P2PKH and P2TR invoice addresses exactly in satoshis, in the mempool and then in a block", async () => {
    const { client } = recording();
    const payments = [
      { to: merchantAddress(regtestKey("p2wpkh")), satoshis: 12_345n }, // 0.00012345 LTC
      { to: merchantAddress(`sh(wpkh(${regtestKey("p2sh-p2wpkh")}))`), satoshis: 100_000_001n },
      { to: merchantAddress(`pkh(${regtestKey("p2pkh")})`), satoshis: 2_099_999_999n },
      { to: merchantAddress(`tr(${regtestKey("p2wpkh")})`), satoshis: 70_000_000n },
    ];
    const txids: string[] = [];
    for (const p of payments) txids.push(await chain.send(p.to.address, p.satoshis));

    expect(await client.getRawMempool()).toEqual(expect.arrayContaining(txids));
    const pooled = await client.getRawTransactions(txids);
    const entries = await client.getMempoolEntries(txids);
    payments.forEach((p, i) => {
      const tx = pooled.get(txids[i]!)!;
      expect(tx).toMatchObject({ txid: txids[i], blockHash: null, confirmations: 0, blockTime: null, coinbase: false });
      expect(tx.spends.length).toBeGreaterThan(0);
      const output = outputPaying(tx, p.to.matchKey)!;
      expect(output.satoshis).toBe(p.satoshis);
      // The node spells each script the way address.ts does (the matrix covers the other spellings).
      expect(output.address).toBe(p.to.address);
      expect(entries.get(txids[i]!)).toMatchObject({ bip125Replaceable: false, height: 120 });
    });
    const fees = [...entries.values()].reduce((sum, e) => sum + e!.feeSatoshis!, 0n);

    const [hash] = await chain.mine(1);
    const block = await client.getBlock(hash!);
    expect(block).toMatchObject({ hash, height: 121, confirmations: 1, previousBlockHash: await client.getBlockHash(120) });
    expect(block.txs[0]!.coinbase).toBe(true);
    // The coinbase claims the subsidy (50 LTC below height 150 on regtest) plus exactly the fees just read.
    expect(block.txs[0]!.outputs.reduce((sum, o) => sum + o.satoshis, 0n)).toBe(5_000_000_000n + fees);
    payments.forEach((p, i) => {
      const tx = block.txs.find((t) => t.txid === txids[i])!;
      expect(outputPaying(tx, p.to.matchKey)!.satoshis).toBe(p.satoshis);
      expect(tx.spends).toEqual(pooled.get(txids[i]!)!.spends);
    });

    // No txindex: a confirmed tx is found only through its block.
    expect((await client.getRawTransactions(txids)).get(txids[0]!)).toBeNull();
    expect((await client.getRawTransactions(txids, hash)).get(txids[0]!)).toMatchObject({ blockHash: hash, confirmations: 1 });
    expect((await client.getMempoolEntries(txids)).get(txids[0]!)).toBeNull();
  });

  it("returns each batch item's own result or error, matched by id", async () => {
    const { client, urls } = recording();
    const results = await client.batch([
      { method: "getblockhash", params: [0] },
      { method: "getblockhash", params: [99_999] },
      { method: "nosuchmethod", params: [] },
      { method: "getblockcount", params: [] },
    ]);
    expect(urls).toHaveLength(1);
    expect(results[0]).toEqual({ ok: true, result: "530827f38f93b43ed12af0b3ad25a288dc02ed74d6d7857862df51fc56c416f9" });
    expect(results[1]).toMatchObject({ ok: false, error: { kind: "rpc", code: RPC_INVALID_PARAMETER } });
    expect(results[2]).toMatchObject({ ok: false, error: { kind: "rpc", code: -32601 } });
    expect(results[3]).toMatchObject({ ok: true, result: expect.any(Number) });
  });

  it("gives null for a txid the node does not know, next to one it does, in one batch", async () => {
    const { client, urls } = recording();
    const txid = await chain.send(merchantAddress(regtestKey("p2wpkh")).address, 50_000n);
    const found = await client.getRawTransactions([txid, UNKNOWN_TXID, txid]);
    expect(urls).toHaveLength(1);
    expect([...found.keys()]).toEqual([txid, UNKNOWN_TXID]);
    expect(found.get(UNKNOWN_TXID)).toBeNull();
    expect(found.get(txid)?.txid).toBe(txid);
  });

  it("gives active-chain hashes by height and blocks' txids, null above the tip", async () => {
    const { client, urls } = recording();
    const tip = (await client.getBlockchainInfo()).blocks;
    const hashes = await client.getBlockHashes([0, tip, tip + 1]);
    expect(hashes.get(0)).toBe("530827f38f93b43ed12af0b3ad25a288dc02ed74d6d7857862df51fc56c416f9");
    expect(hashes.get(tip + 1)).toBeNull();
    const blocks = await client.getBlockTxids([hashes.get(tip)!, UNKNOWN_TXID]);
    const top = await client.getBlock(hashes.get(tip)!);
    expect(blocks.get(top.hash)).toEqual({ hash: top.hash, height: tip, confirmations: 1, txids: top.txs.map((t) => t.txid) });
    expect(blocks.get(UNKNOWN_TXID)).toBeNull();
    expect(urls).toHaveLength(4);
  });

  it("reads no full-RBF policy from Litecoin 0.21, which does not report one", async () => {
    expect(await recording().client.getMempoolInfo()).toEqual({ fullRbf: null });
  });

  it("splits a large request into batches of maxBatch", async () => {
    const { client, urls } = recording({ maxBatch: 2 });
    const results = await client.batch([0, 1, 2, 3, 4].map((h) => ({ method: "getblockhash", params: [h] })));
    expect(urls).toHaveLength(3);
    expect(results.every((r) => r.ok)).toBe(true);
  });

  it("fails over from a dead URL to the live one, and then stays on the live one", async () => {
    const dead = `http://127.0.0.1:${await freePort()}/`;
    const { client, urls, waits } = recording({ urls: [dead, chain.urlWithCredentials] });
    expect((await client.getBlockchainInfo()).chain).toBe("regtest");
    expect(urls).toEqual([dead, chain.url]);
    await client.getBlockHash(1);
    expect(urls.slice(2)).toEqual([chain.url]);
    expect(waits).toEqual([]);
  });

  it("fails at once, naming the node but not the password, when the password is wrong", async () => {
    const wrong = chain.urlWithCredentials.replace(chain.pass, "not-the-password");
    const { client, urls, waits } = recording({ urls: [wrong] });
    const error = await client.getBlockchainInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoreRpcError);
    // The watcher logs a node's failures as one line: they are NodeErrors.
    expect(error).toBeInstanceOf(NodeError);
    expect(error).toMatchObject({ kind: "auth" });
    expect((error as Error).message).toContain(`${chain.url}: HTTP 401, credentials rejected`);
    expect((error as Error).message).not.toContain("not-the-password");
    expect(urls).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("uses separate user and password for a URL without credentials", async () => {
    const { client } = recording({ urls: [chain.url], user: chain.user, pass: chain.pass });
    expect((await client.getBlockchainInfo()).chain).toBe("regtest");
  });

  it("shows a replaced tx gone and its replacement signalling BIP125", async () => {
    const { client } = recording();
    const original = await chain.send(merchantAddress(regtestKey("p2wpkh")).address, 40_000n, { replaceable: true });
    expect((await client.getMempoolEntries([original])).get(original)?.bip125Replaceable).toBe(true);
    const replacement = await chain.bumpFee(original);
    const entries = await client.getMempoolEntries([original, replacement]);
    expect(entries.get(original)).toBeNull();
    expect(entries.get(replacement)?.bip125Replaceable).toBe(true);
    expect(await client.getRawMempool()).not.toContain(original);
    // Both spend the same outputs: that is how a watcher links a replacement to what it replaced.
    const [a, b] = [(await client.getRawTransactions([original])).get(original), (await client.getRawTransactions([replacement])).get(replacement)];
    expect(a).toBeNull();
    expect(b!.spends.length).toBeGreaterThan(0);
    await chain.mine(1);
  });

  it("sees a reorg: the orphaned block off the chain, its height gone, its txs back in the mempool", async () => {
    const { client } = recording();
    const to = merchantAddress(regtestKey("p2wpkh"));
    const txid = await chain.send(to.address, 33_333n);
    const [hash] = await chain.mine(1);
    const height = (await client.getBlock(hash!)).height;
    await chain.invalidateBlock(hash!);

    const error = await client.getBlockHash(height).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "rpc", code: RPC_INVALID_PARAMETER });
    expect((await client.getBlock(hash!)).confirmations).toBe(-1);
    expect(await client.getRawMempool()).toContain(txid);
    expect((await client.getRawTransactions([txid])).get(txid)).toMatchObject({ blockHash: null, confirmations: 0 });

    await chain.reconsiderBlock(hash!);
    expect(await client.getBlockHash(height)).toBe(hash);
    expect((await client.getBlockchainInfo()).bestBlockHash).toBe(hash);
  });
});

/** A local HTTP server whose n-th request (0-based) is answered by `handler`. */
async function localServer(handler: (n: number, body: string, req: IncomingMessage, res: ServerResponse) => void) {
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(n++, Buffer.concat(chunks).toString("utf8"), req, res));
  });
  servers.push(server);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}/`, requests: () => n };
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(body);
}

/** Echoes each request's id into a reply built from its method (single or batch). */
function answering(make: (method: string, params: unknown[]) => Record<string, unknown>, status = 200) {
  return (_: number, body: string, __: IncomingMessage, res: ServerResponse) => {
    const parsed = JSON.parse(body) as { id: number; method: string; params: unknown[] } | { id: number; method: string; params: unknown[] }[];
    const one = (r: { id: number; method: string; params: unknown[] }) => ({ ...make(r.method, r.params), id: r.id });
    reply(res, status, JSON.stringify(Array.isArray(parsed) ? parsed.map(one) : one(parsed)));
  };
}

const fastClient = (urls: string[], extra: Partial<CoreRpcOptions> = {}) => {
  const waits: number[] = [];
  return { waits, client: createCoreRpc({ urls, retries: 2, timeoutMs: 2_000, sleep: async (ms) => void waits.push(ms), ...extra }) };
};

const BLOCK_HASH = "11".repeat(32);
const rawBlock = (value: string) =>
  `{"result":{"hash":"${BLOCK_HASH}","height":5,"previousblockhash":"${"22".repeat(32)}","time":1,"mediantime":1,"confirmations":1,"nTx":1,` +
  `"tx":[{"txid":"${"33".repeat(32)}","hash":"${"33".repeat(32)}","vin":[{"coinbase":"51","sequence":0}],` +
  `"vout":[{"value":${value},"n":0,"scriptPubKey":{"hex":"0014${"44".repeat(20)}","address":"bc1qfake"}},` +
  `{"ismweb":true,"output_id":"${"55".repeat(32)}"}]}]},"error":null,"id":1}`;

describe("against servers that misbehave", () => {
  it("reads Bitcoin Core 28's JSON-RPC 2.0 replies: no error key on success, errors with HTTP 200", async () => {
    const server = await localServer(
      answering((method) => (method === "getblockhash" ? { jsonrpc: "2.0", error: { code: -8, message: "Block height out of range" } } : { jsonrpc: "2.0", result: [] })),
    );
    const { client } = fastClient([server.url]);
    expect(await client.getRawMempool()).toEqual([]);
    await expect(client.getBlockHash(9)).rejects.toMatchObject({ kind: "rpc", code: -8 });
    expect(server.requests()).toBe(2);
  });

  it("waits out a node that is warming up (-28), then reads its answer", async () => {
    const server = await localServer((n, body, req, res) =>
      n < 2 ? reply(res, 500, `{"result":null,"error":{"code":-28,"message":"Loading block index..."},"id":1}`) : answering(() => ({ result: [], error: null }))(n, body, req, res),
    );
    const { client, waits } = fastClient([server.url]);
    expect(await client.getRawMempool()).toEqual([]);
    expect(waits).toHaveLength(2);
  });

  it.each([
    ["a proxy's 502 page", 502, "<html>bad gateway</html>"],
    ["Core's 503 when its work queue is full", 503, "Work queue depth exceeded"],
    ["a truncated body", 200, `{"result":["ab`],
    ["a mempool that is not a list of txids", 200, `{"result":{"txids":[]},"error":null,"id":1}`],
    ["a reply for another id", 200, `{"result":[],"error":null,"id":999}`],
    ["an error without a code", 500, `{"result":null,"error":{"message":"?"},"id":1}`],
  ])("retries %s and then reports the node unavailable", async (_, status, body) => {
    const server = await localServer((__, ___, ____, res) => reply(res, status, body));
    const { client, waits } = fastClient([server.url]);
    await expect(client.getRawMempool()).rejects.toMatchObject({ kind: "unavailable" });
    expect(server.requests()).toBe(3);
    expect(waits).toHaveLength(2);
  });

  it("does not retry a path the node does not serve (404 without JSON-RPC)", async () => {
    const server = await localServer((_, __, ___, res) => reply(res, 404, "not found"));
    const { client } = fastClient([server.url]);
    await expect(client.getRawMempool()).rejects.toMatchObject({ kind: "http" });
    expect(server.requests()).toBe(1);
  });

  it("times out a node that never answers and moves on to the next", async () => {
    const stalled = await localServer(() => undefined);
    const live = await localServer(answering(() => ({ result: ["ab".repeat(32)], error: null })));
    const { client } = fastClient([stalled.url, live.url], { timeoutMs: 200 });
    const started = Date.now();
    expect(await client.getRawMempool()).toEqual(["ab".repeat(32)]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("sends the URL's credentials as basic auth and skips a node that refuses them", async () => {
    const seen: (string | undefined)[] = [];
    const refusing = await localServer((_, __, req, res) => {
      seen.push(req.headers.authorization);
      reply(res, 401, "");
    });
    const accepting = await localServer((n, body, req, res) => {
      seen.push(req.headers.authorization);
      answering(() => ({ result: [], error: null }))(n, body, req, res);
    });
    const withCredentials = (url: string, login: string) => url.replace("http://", `http://${login}@`);
    const { client, waits } = fastClient([withCredentials(refusing.url, "alice:wr%40ng"), withCredentials(accepting.url, "bob:s%C3%A9cret")]);
    expect(await client.getRawMempool()).toEqual([]);
    expect(await client.getRawMempool()).toEqual([]);
    expect(seen).toEqual([`Basic ${Buffer.from("alice:wr@ng").toString("base64")}`, `Basic ${Buffer.from("bob:sécret").toString("base64")}`, `Basic ${Buffer.from("bob:sécret").toString("base64")}`]);
    expect(waits).toEqual([]);
  });

  it("retries a batch whose replies do not match its ids", async () => {
    const server = await localServer((_, body, __, res) => {
      const calls = JSON.parse(body) as { id: number }[];
      reply(res, 200, JSON.stringify(calls.map((c) => ({ result: null, error: null, id: c.id + 1000 }))));
    });
    const { client } = fastClient([server.url]);
    await expect(client.batch([{ method: "getblockcount", params: [] }])).rejects.toMatchObject({ kind: "unavailable" });
    expect(server.requests()).toBe(3);
  });

  it("takes amounts from the JSON's own digits where a double cannot carry them, and leaves MWEB outputs out", async () => {
    // 70000000.00000001 and 70000000.00000002 LTC are the same double; only the text tells them apart.
    for (const [value, satoshis] of [["70000000.00000001", 7_000_000_000_000_001n], ["70000000.00000002", 7_000_000_000_000_002n], ["0.00012345", 12_345n], ["50.00000000", 5_000_000_000n]] as const) {
      const server = await localServer((_, __, ___, res) => reply(res, 200, rawBlock(value)));
      const block = await fastClient([server.url]).client.getBlock(BLOCK_HASH);
      expect(block.txs[0]!.outputs).toEqual([{ n: 0, satoshis, script: `0014${"44".repeat(20)}`, address: "bc1qfake" }]);
      expect(block.txs[0]!.coinbase).toBe(true);
    }
  });

  it("leaves Litecoin's MWEB inputs out of what a tx spends (shape from Litecoin's core_write.cpp, not run here)", async () => {
    const spent = { txid: "66".repeat(32), vout: 3 };
    const pegOut = `{"txid":"${"77".repeat(32)}","hash":"${"77".repeat(32)}","vin":[{"ismweb":true,"output_id":"${"88".repeat(32)}"},` +
      `{"ismweb":false,"txid":"${spent.txid}","vout":${spent.vout},"sequence":0}],"vout":[{"ismweb":false,"value":1.5,"n":0,"scriptPubKey":{"hex":"51"}}]}`;
    const body = rawBlock("1.0").replace(/]}]},"error"/, `]},${pegOut}]},"error"`).replace(`"nTx":1`, `"nTx":2`);
    const server = await localServer((_, __, ___, res) => reply(res, 200, body));
    const block = await fastClient([server.url]).client.getBlock(BLOCK_HASH);
    expect(block.txs[1]).toEqual({ txid: "77".repeat(32), wtxid: "77".repeat(32), coinbase: false, spends: [spent], outputs: [{ n: 0, satoshis: 150_000_000n, script: "51", address: null }] });
  });

  it.each([
    ["more than 8 decimals", rawBlock("0.000000001")],
    ["a negative value", rawBlock("-1.0")],
    ["another block than the one asked for", rawBlock("1.0").replace(`"hash":"${BLOCK_HASH}"`, `"hash":"${"99".repeat(32)}"`)],
    ["txids only (verbosity ignored)", `{"result":{"hash":"${BLOCK_HASH}","height":5,"tx":["${"33".repeat(32)}"]},"error":null,"id":1}`],
  ])("never passes a block with %s as data", async (_, body) => {
    const server = await localServer((__, ___, ____, res) => reply(res, 200, body));
    await expect(fastClient([server.url]).client.getBlock(BLOCK_HASH)).rejects.toMatchObject({ kind: "unavailable" });
  });

  it("reads Bitcoin Core's full-RBF policy from getmempoolinfo", async () => {
    const server = await localServer(answering(() => ({ result: { loaded: true, size: 0, fullrbf: true }, error: null })));
    expect(await fastClient([server.url]).client.getMempoolInfo()).toEqual({ fullRbf: true });
  });

  it("asks a node which chain it serves once before using it, and names the first node on another chain when no node is left", async () => {
    const info = (chain: string) => ({ chain, blocks: 7, headers: 7, bestblockhash: "11".repeat(32), initialblockdownload: false });
    const main = await localServer(answering((method) => ({ result: method === "getblockchaininfo" ? info("main") : [], error: null })));
    const test = await localServer(answering((method) => ({ result: method === "getblockchaininfo" ? info("test") : [], error: null })));
    const { client } = fastClient([main.url, test.url], { chain: "regtest" });
    const error = await client.getRawMempool().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongNetworkError);
    expect(error).toMatchObject({ network: "main", expected: "regtest", node: main.url });
    expect([main.requests(), test.requests()]).toEqual([1, 1]);
    await expect(client.getRawMempool()).rejects.toBeInstanceOf(WrongNetworkError);
    expect([main.requests(), test.requests()]).toEqual([1, 1]);
  });

  it("refuses bad arguments before sending anything", async () => {
    const { client } = fastClient(["http://127.0.0.1:9/"]);
    await expect(client.getBlockHash(-1)).rejects.toThrow(TypeError);
    await expect(client.getBlock("XY")).rejects.toThrow(TypeError);
    await expect(client.getRawTransactions(["not-a-txid"])).rejects.toThrow(TypeError);
    expect(() => createCoreRpc({ urls: [] })).toThrow(TypeError);
    expect(() => createCoreRpc({ urls: ["ftp://u:secret@host/"] })).toThrow(/ftp:\/\/host/);
    expect(() => createCoreRpc({ urls: ["not a url secret"] })).toThrow(/^core rpc: a node URL is not a URL$/);
  });
});

describe("coins to satoshis", () => {
  it.each([
    ["0.00012345", 12_345n],
    ["50.00008540", 5_000_008_540n],
    ["50.0000854", 5_000_008_540n],
    ["0", 0n],
    ["21000000.00000000", 2_100_000_000_000_000n],
    ["1e-8", 1n],
    ["1.5e-7", 15n],
  ])("%s coins = %s satoshis", (text, satoshis) => {
    expect(coinsToSatoshis(text)).toBe(satoshis);
  });

  // 1e+11 coins is past int64 satoshis (CAmount): no node writes it.
  it.each(["0.000000001", "-1", "1.", ".5", "1e-9", "1e+11", "NaN", "Infinity", "0x10", " 1", ""])("refuses %j", (text) => {
    expect(coinsToSatoshis(text)).toBeNull();
  });

  it("is exact for the number JSON.parse makes of what Core wrote, via its shortest string", () => {
    const cases = [
      ["0.10000000", 10_000_000n],
      ["0.20000000", 20_000_000n],
      ["0.07000000", 7_000_000n],
      ["1.10000000", 110_000_000n],
      ["0.00000001", 1n],
      ["12345678.87654321", 1_234_567_887_654_321n],
      ["20999999.99999999", 2_099_999_999_999_999n],
    ] as const;
    for (const [written, satoshis] of cases) expect(coinsToSatoshis(String(JSON.parse(written)))).toBe(satoshis);
    // Float arithmetic is what this avoids: 0.1 + 0.2 is not an amount any node writes.
    expect(coinsToSatoshis(String(0.1 + 0.2))).toBeNull();
  });
});

describe("node URL setting", () => {
  it("splits a comma-separated list and drops blanks", () => {
    expect(parseNodeUrls(" http://a:1/ ,, http://b:2/ ")).toEqual(["http://a:1/", "http://b:2/"]);
    expect(parseNodeUrls(undefined)).toEqual([]);
  });
});
