// The monerod RPC client against a real regtest monerod (restricted port, digest auth) and against
// tiny local servers that fail, stall or lie, to pin down retries, failover and shape checks.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMoneroDaemon, DaemonError, parseDaemonUrls, type DaemonOptions } from "../../src/chains/xmr/daemon";
import { xmrSource } from "../../src/chains/xmr/source";
import { startMoneroRegtest, type MoneroRegtest } from "../e2e/support/monero-regtest";
import { freePort } from "../e2e/support/ports";

const LOGIN = { user: "edgepay", pass: "regtest-secret" };
const UNKNOWN_HASHES = ["ab".repeat(32), "cd".repeat(32)];

let chain: MoneroRegtest;
let authed: MoneroRegtest;
let coldStartMs = 0;
const servers: Server[] = [];

beforeAll(async () => {
  const started = Date.now();
  [chain, authed] = await Promise.all([
    startMoneroRegtest(),
    startMoneroRegtest({ rpcLogin: `${LOGIN.user}:${LOGIN.pass}`, wallet: false }),
  ]);
  coldStartMs = Date.now() - started;
  console.info(`monero regtest cold start: ${coldStartMs} ms`);
}, 90_000);

afterAll(async () => {
  await Promise.all([chain?.stop(), authed?.stop(), ...servers.map((s) => new Promise((r) => s.close(r)))]);
}, 70_000);

/** fetch that records every URL it is asked for. */
function recordingFetch(): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    fetch: (input, init) => {
      urls.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    },
  };
}

function recordingSleep(): { sleep: NonNullable<DaemonOptions["sleep"]>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

/** A local HTTP server whose n-th request (0-based) is answered by `handler(n, ...)`. */
async function localServer(handler: (n: number, req: IncomingMessage, body: string, res: ServerResponse) => void | Promise<void>) {
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => void handler(n++, req, Buffer.concat(chunks).toString("utf8"), res));
  });
  servers.push(server);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${port}`, requests: () => n };
}

async function proxyTo(target: string, req: IncomingMessage, body: string, res: ServerResponse) {
  const upstream = await fetch(target + (req.url ?? "/"), { method: "POST", body, headers: { "content-type": "application/json" } });
  res.writeHead(upstream.status, { "content-type": "application/json" });
  res.end(await upstream.text());
}

describe("createMoneroDaemon against a restricted regtest node", () => {
  it("reads the tip: block count, top hash, restricted flag and nettype", async () => {
    const daemon = createMoneroDaemon({ urls: [chain.restrictedUrl] });
    const info = await daemon.getInfo();
    expect(info.restricted).toBe(true);
    expect(info.nettype).toBe("fakechain");
    expect(info.height).toBe(await chain.height());
    expect(info.height).toBeGreaterThanOrEqual(121);
    const top = await daemon.getBlockHeaderByHeight(info.height - 1);
    expect(top.hash).toBe(info.topBlockHash);
  });

  it("reads blocks whose prev hash links to the header below, with the coinbase parsed", async () => {
    const daemon = createMoneroDaemon({ urls: [chain.restrictedUrl] });
    const { height } = await daemon.getInfo();
    const top = height - 1;
    const [block, header, below] = await Promise.all([
      daemon.getBlock(top),
      daemon.getBlockHeaderByHeight(top),
      daemon.getBlockHeaderByHeight(top - 1),
    ]);
    expect(block).toMatchObject({ height: top, hash: header.hash, prevHash: below.hash, timestamp: header.timestamp });
    expect(block.prevHash).toBe(below.hash);
    expect(block.txHashes).toEqual([]); // coinbase-only blocks omit tx_hashes
    expect(block.minerTxHash).toMatch(/^[0-9a-f]{64}$/);
    const minerTx = block.minerTxJson as { vin: { gen: { height: number } }[]; vout: unknown[] };
    expect(minerTx.vin[0]?.gen.height).toBe(top);
    expect(minerTx.vout.length).toBeGreaterThan(0);

    const genesis = await daemon.getBlock(0);
    expect(genesis.prevHash).toBe("0".repeat(64));
  });

  it("reports a JSON-RPC error as DaemonError at once, without retries", async () => {
    const rec = recordingFetch();
    const { sleep, waits } = recordingSleep();
    const daemon = createMoneroDaemon({ urls: [chain.restrictedUrl], fetch: rec.fetch, sleep });
    const error = await daemon.getBlock(1_000_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DaemonError);
    expect((error as DaemonError).message).toMatch(/height/i);
    expect((error as DaemonError).code).toBeTypeOf("number");
    expect(rec.urls).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("fetches 150 transactions from a restricted node in chunks of at most 100, and lists missed hashes", async () => {
    await chain.mine(30);
    const daemon = createMoneroDaemon({ urls: [chain.restrictedUrl] });
    const heights = Array.from({ length: 150 }, (_, i) => i + 1);
    const blocks = [];
    for (const h of heights) blocks.push(await daemon.getBlock(h));
    const coinbaseHashes = blocks.map((b) => b.minerTxHash);

    // The restricted port really does refuse more than 100 in one request.
    const direct = await fetch(`${chain.restrictedUrl}/get_transactions`, {
      method: "POST",
      body: JSON.stringify({ txs_hashes: coinbaseHashes.slice(0, 101), decode_as_json: true }),
    });
    expect(((await direct.json()) as { status: string }).status).toMatch(/too many/i);

    const rec = recordingFetch();
    const chunked = createMoneroDaemon({ urls: [chain.restrictedUrl], fetch: rec.fetch });
    const { txs, missed } = await chunked.getTransactions([...coinbaseHashes.slice(0, 75), UNKNOWN_HASHES[0]!, ...coinbaseHashes.slice(75), UNKNOWN_HASHES[1]!]);
    expect(rec.urls).toEqual([`${chain.restrictedUrl}/get_transactions`, `${chain.restrictedUrl}/get_transactions`]);
    expect(txs).toHaveLength(150);
    expect(missed.sort()).toEqual([...UNKNOWN_HASHES].sort());
    const byHash = new Map(txs.map((t) => [t.hash, t]));
    blocks.forEach((b) => {
      const tx = byHash.get(b.minerTxHash);
      expect(tx).toMatchObject({ inPool: false, blockHeight: b.height, doubleSpendSeen: false });
      expect((tx?.json as { vin: { gen: { height: number } }[] }).vin[0]?.gen.height).toBe(b.height);
    });
  }, 30_000);

  it("sees a transfer in the pool at once, then in the next block", async () => {
    const daemon = createMoneroDaemon({ urls: [chain.restrictedUrl] });
    const { txHash, fee } = await chain.transfer([{ address: chain.payerAddress, amount: 1_234_567_890_000n }]);
    expect(fee).toBeGreaterThan(0n);

    expect(await daemon.getPoolHashes()).toContain(txHash);
    const pooled = await daemon.getTransactions([txHash]);
    expect(pooled.missed).toEqual([]);
    expect(pooled.txs[0]).toMatchObject({ hash: txHash, inPool: true, blockHeight: null });
    const json = pooled.txs[0]?.json as { rct_signatures: { type: number; ecdhInfo: unknown[] }; rctsig_prunable?: unknown };
    expect(json.rct_signatures.type).toBe(6);
    expect(json.rct_signatures.ecdhInfo.length).toBeGreaterThanOrEqual(2);
    expect(json.rctsig_prunable).toBeUndefined(); // prune:true

    const count = await chain.mine(1);
    expect(await daemon.getPoolHashes()).toEqual([]); // absent key means empty
    const mined = await daemon.getTransactions([txHash]);
    expect(mined.txs[0]).toMatchObject({ hash: txHash, inPool: false, blockHeight: count - 1 });
    expect((await daemon.getBlock(count - 1)).txHashes).toEqual([txHash]);
  }, 30_000);

  it("shows a popped block's tx back in the pool, a new hash at that height after re-mining, and a flushed tx as missed", async () => {
    const daemon = createMoneroDaemon({ urls: [chain.restrictedUrl] });
    const { txHash } = await chain.transfer([{ address: chain.payerAddress, amount: 1_000_000_000n }]);
    const count = await chain.mine(1);
    const before = await daemon.getBlock(count - 1);
    expect(before.txHashes).toEqual([txHash]);

    await chain.popBlocks(1);
    expect((await daemon.getInfo()).height).toBe(count - 1);
    expect((await daemon.getTransactions([txHash])).txs[0]).toMatchObject({ inPool: true, blockHeight: null });
    await expect(daemon.getBlock(count - 1)).rejects.toThrow(DaemonError);

    // Same parent and txs; the coinbase (fresh tx key, here also another address) makes it a different block.
    await chain.mine(1, "41y6mvWm6uP3FriWGaiLuien2YXiTeovscMCeDttpxTtHWSz4JygU2xQSXUcLHDwn97ANgt7wmpho2mZ4v2KbeuzH3MH76q");
    const after = await daemon.getBlock(count - 1);
    expect(after.hash).not.toBe(before.hash);
    expect(after.prevHash).toBe(before.prevHash);
    expect(after.txHashes).toEqual([txHash]);

    const dropped = await chain.transfer([{ address: chain.payerAddress, amount: 1_000_000_000n }]);
    expect(await daemon.getPoolHashes()).toEqual([dropped.txHash]);
    await chain.flushTxpool([dropped.txHash]);
    expect(await daemon.getPoolHashes()).toEqual([]);
    expect(await daemon.getTransactions([dropped.txHash])).toEqual({ txs: [], missed: [dropped.txHash] });
  }, 30_000);
});

describe("xmrSource against a restricted regtest node", () => {
  it("costs the node 1 request for the tip, 1 per block with only its coinbase, and 1 more per 100 of a block's other txs", async () => {
    const rec = recordingFetch();
    const source = xmrSource(createMoneroDaemon({ urls: [chain.restrictedUrl], network: "mainnet", fetch: rec.fetch }));
    const paths = () => rec.urls.splice(0).map((u) => new URL(u).pathname);
    const coinbaseOnly = (await chain.mine(1)) - 1;
    expect(await source.tip()).toMatchObject({ height: coinbaseOnly, network: "fakechain", syncing: false });
    expect(paths()).toEqual(["/json_rpc"]); // get_info: tip, top hash and the network check in one
    expect((await source.block(coinbaseOnly)).txs).toHaveLength(1);
    expect(paths()).toEqual(["/json_rpc"]); // get_block
    await chain.transfer([{ address: chain.payerAddress, amount: 1_000_000_000n }]);
    const withTx = (await chain.mine(1)) - 1;
    expect((await source.block(withTx)).txs).toHaveLength(2);
    expect(paths()).toEqual(["/json_rpc", "/get_transactions"]);
  }, 30_000);
});

describe("createMoneroDaemon with digest auth (monerod --rpc-login)", () => {
  it("authenticates with good credentials on both ports, sequentially and in parallel", async () => {
    for (const url of [authed.restrictedUrl, authed.fullUrl]) {
      const rec = recordingFetch();
      const daemon = createMoneroDaemon({ urls: [url], ...LOGIN, retries: 0, fetch: rec.fetch });
      for (let i = 0; i < 4; i++) expect((await daemon.getInfo()).height).toBeGreaterThanOrEqual(1);
      // One challenge round trip, then one request per call on the kept-alive connection.
      expect(rec.urls).toHaveLength(5);
      const parallel = await Promise.all([daemon.getInfo(), daemon.getPoolHashes(), daemon.getBlock(0), daemon.getInfo()]);
      expect(parallel[2].height).toBe(0);
    }
  });

  it("takes credentials from the URL", async () => {
    const url = authed.restrictedUrl.replace("http://", `http://${LOGIN.user}:${LOGIN.pass}@`);
    const daemon = createMoneroDaemon({ urls: [url], retries: 0 });
    expect((await daemon.getInfo()).restricted).toBe(true);
  });

  it("fails with DaemonError on a wrong password or none", async () => {
    const { sleep } = recordingSleep();
    const wrong = createMoneroDaemon({ urls: [authed.restrictedUrl], user: LOGIN.user, pass: "nope", sleep });
    await expect(wrong.getInfo()).rejects.toThrow(DaemonError);
    await expect(wrong.getInfo()).rejects.toThrow(/credentials rejected/);
    const none = createMoneroDaemon({ urls: [authed.restrictedUrl], sleep });
    await expect(none.getInfo()).rejects.toThrow(/HTTP 401/);
  });
});

/**
 * A node in front of `target` that answers get_info with `info` merged into the result (another
 * network, a sync state): what the network check and node choice see. Logs the methods it was asked.
 */
async function disguisedNode(target: string, info: Record<string, unknown>) {
  const methods: string[] = [];
  const node = await localServer(async (_n, req, body, res) => {
    const method = req.url === "/json_rpc" ? (JSON.parse(body) as { method: string }).method : (req.url ?? "");
    methods.push(method);
    const upstream = await fetch(target + (req.url ?? "/"), { method: "POST", body, headers: { "content-type": "application/json" } });
    const json = (await upstream.json()) as { result?: Record<string, unknown> };
    if (method === "get_info" && json.result) Object.assign(json.result, info);
    res.writeHead(upstream.status, { "content-type": "application/json" }).end(JSON.stringify(json));
  });
  return { url: node.url, methods, info };
}

const STAGENET = { nettype: "stagenet", mainnet: false, stagenet: true };

describe("createMoneroDaemon network check", () => {
  it("asks a node of another network for get_info only, and reads nothing of its chain", async () => {
    const stagenet = await disguisedNode(chain.restrictedUrl, STAGENET);
    const { sleep } = recordingSleep();
    const daemon = createMoneroDaemon({ urls: [stagenet.url], network: "mainnet", sleep });
    const error = await daemon.getBlock(1).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "WrongNetworkError", network: "stagenet", expected: "mainnet", node: stagenet.url });
    expect((error as Error).message).toBe(`node ${stagenet.url} is on stagenet, expected mainnet`);
    expect(stagenet.methods).toEqual(["get_info"]);
  });

  it("skips a node of another network like a failing one and follows the next", async () => {
    const stagenet = await disguisedNode(chain.restrictedUrl, STAGENET);
    const { sleep, waits } = recordingSleep();
    const daemon = createMoneroDaemon({ urls: [stagenet.url, chain.restrictedUrl], network: "mainnet", sleep });
    expect((await daemon.getBlock(0)).height).toBe(0);
    expect((await daemon.getInfo()).nettype).toBe("fakechain");
    expect(await daemon.getPoolHashes()).toBeInstanceOf(Array);
    expect(stagenet.methods).toEqual(["get_info"]);
    expect(waits).toEqual([]);
  });

  it("takes a node back as soon as it answers for the configured network", async () => {
    const node = await disguisedNode(chain.restrictedUrl, STAGENET);
    const daemon = createMoneroDaemon({ urls: [node.url], network: "mainnet", sleep: async () => {} });
    await expect(daemon.getInfo()).rejects.toThrow(`node ${node.url} is on stagenet, expected mainnet`);
    Object.assign(node.info, { nettype: "mainnet", mainnet: true, stagenet: false });
    expect((await daemon.getInfo()).nettype).toBe("mainnet");
    expect((await daemon.getBlock(0)).height).toBe(0);
  });

  it("accepts a regtest node (fakechain, mainnet prefixes) whatever network is configured", async () => {
    for (const network of ["mainnet", "stagenet", "testnet"] as const) {
      const daemon = createMoneroDaemon({ urls: [chain.restrictedUrl], network });
      expect((await daemon.getInfo()).nettype).toBe("fakechain");
    }
  });

  it("refuses a testnet node for stagenet, and a mainnet node for testnet", async () => {
    for (const [nettype, network] of [["testnet", "stagenet"], ["mainnet", "testnet"]] as const) {
      const node = await disguisedNode(chain.restrictedUrl, { nettype });
      const daemon = createMoneroDaemon({ urls: [node.url], network, sleep: async () => {} });
      await expect(daemon.getPoolHashes()).rejects.toThrow(`is on ${nettype}, expected ${network}`);
      expect(node.methods).toEqual(["get_info"]);
    }
  });
});

describe("createMoneroDaemon node choice and time bounds", () => {
  it("prefers a node that says it is synchronized", async () => {
    const syncing = await disguisedNode(chain.restrictedUrl, { synchronized: false });
    const daemon = createMoneroDaemon({ urls: [syncing.url, chain.restrictedUrl] });
    expect(await daemon.getInfo({ atLeast: 0 })).toMatchObject({ synchronized: true, busySyncing: false });
    expect(syncing.methods).toEqual(["get_info"]);
    expect(daemon.node()).toBe(chain.restrictedUrl);
  });

  it("prefers a node that is neither busy syncing nor below the height already seen", async () => {
    const busy = await disguisedNode(chain.restrictedUrl, { busy_syncing: true });
    const lagging = await disguisedNode(chain.restrictedUrl, { height: 5 });
    const daemon = createMoneroDaemon({ urls: [busy.url, lagging.url, chain.restrictedUrl] });
    const count = await chain.height();
    expect((await daemon.getInfo({ atLeast: count - 1 })).height).toBe(count);
    expect(daemon.node()).toBe(chain.restrictedUrl);
  });

  it("answers from the best node it has when none is in sync and up to date, so the caller can tell", async () => {
    const lagging = await disguisedNode(chain.restrictedUrl, { height: 5 });
    const syncing = await disguisedNode(chain.restrictedUrl, { height: 7, synchronized: false });
    const daemon = createMoneroDaemon({ urls: [syncing.url, lagging.url] });
    expect(await daemon.getInfo({ atLeast: 1_000 })).toMatchObject({ height: 5, synchronized: true });
  });

  it("bounds one call, retries and backoff included, by callBudgetMs", async () => {
    const silent = await localServer(() => undefined);
    const daemon = createMoneroDaemon({ urls: [silent.url], timeoutMs: 2_000, retries: 3, callBudgetMs: 300 });
    const started = Date.now();
    await expect(daemon.getPoolHashes()).rejects.toThrow(/gave up after 300 ms/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("createMoneroDaemon retries and failover", () => {
  it("fails over from a dead node to a live one and then stays with the live one", async () => {
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const rec = recordingFetch();
    const { sleep, waits } = recordingSleep();
    const daemon = createMoneroDaemon({ urls: [deadUrl, chain.restrictedUrl], fetch: rec.fetch, sleep });
    expect((await daemon.getInfo()).restricted).toBe(true);
    await daemon.getPoolHashes();
    expect(rec.urls.map((u) => new URL(u).origin)).toEqual([deadUrl, chain.restrictedUrl, chain.restrictedUrl]);
    expect(waits).toEqual([]); // failing over needs no backoff; only a full failed round does
  });

  it("retries HTTP 500 and malformed JSON with growing backoff, then succeeds", async () => {
    const flaky = await localServer(async (n, req, body, res) => {
      if (n === 0) return void res.writeHead(500).end("boom");
      if (n === 1) return void res.writeHead(200, { "content-type": "application/json" }).end('{"jsonrpc":"2.0",');
      await proxyTo(chain.restrictedUrl, req, body, res);
    });
    const { sleep, waits } = recordingSleep();
    const daemon = createMoneroDaemon({ urls: [flaky.url], sleep });
    expect((await daemon.getInfo()).nettype).toBe("fakechain");
    expect(flaky.requests()).toBe(3);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(125);
    expect(waits[0]).toBeLessThanOrEqual(250);
    expect(waits[1]).toBeGreaterThanOrEqual(250);
    expect(waits[1]).toBeLessThanOrEqual(500);
  });

  it("never passes off a malformed answer as data: retries, then DaemonError", async () => {
    const liar = await localServer((_n, _req, _body, res) => {
      const result = { height: 10, top_block_hash: "AB".repeat(32), restricted: true, nettype: "fakechain", status: "OK" };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: "0", result }));
    });
    const { sleep } = recordingSleep();
    const daemon = createMoneroDaemon({ urls: [liar.url], retries: 2, sleep });
    await expect(daemon.getInfo()).rejects.toThrow(/top_block_hash: not a 64-char lowercase hex hash/);
    expect(liar.requests()).toBe(3);
  });

  it("rejects an answer for other transactions than the ones asked for", async () => {
    const liar = await localServer((_n, _req, _body, res) => {
      const tx = { tx_hash: "ef".repeat(32), as_json: "{}", in_pool: true, double_spend_seen: false };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ txs: [tx], status: "OK" }));
    });
    const daemon = createMoneroDaemon({ urls: [liar.url], retries: 0 });
    await expect(daemon.getTransactions([UNKNOWN_HASHES[0]!])).rejects.toThrow(/does not match/);
  });

  it("does not retry an HTTP 404", async () => {
    const missing = await localServer((_n, _req, _body, res) => void res.writeHead(404).end());
    const { sleep, waits } = recordingSleep();
    const daemon = createMoneroDaemon({ urls: [missing.url], sleep });
    await expect(daemon.getPoolHashes()).rejects.toThrow(/HTTP 404/);
    expect(missing.requests()).toBe(1);
    expect(waits).toEqual([]);
  });

  it("gives up on a node that never answers after timeoutMs per attempt", async () => {
    const silent = await localServer(() => undefined);
    const daemon = createMoneroDaemon({ urls: [silent.url], timeoutMs: 200, retries: 1, sleep: async () => {} });
    const started = Date.now();
    await expect(daemon.getInfo()).rejects.toThrow(/timed out after 200 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(silent.requests()).toBe(2);
  });

  it("refuses bad input before any request", async () => {
    const rec = recordingFetch();
    const daemon = createMoneroDaemon({ urls: [chain.restrictedUrl], fetch: rec.fetch });
    await expect(daemon.getTransactions(["AB".repeat(32)])).rejects.toThrow(TypeError);
    await expect(daemon.getBlock(-1)).rejects.toThrow(TypeError);
    expect(await daemon.getTransactions([])).toEqual({ txs: [], missed: [] });
    expect(rec.urls).toEqual([]);
    expect(() => createMoneroDaemon({ urls: [] })).toThrow(TypeError);
    expect(() => createMoneroDaemon({ urls: ["ftp://x"] })).toThrow(TypeError);
  });
});

describe("parseDaemonUrls", () => {
  it("splits a comma-separated env value and drops blanks", () => {
    expect(parseDaemonUrls(undefined)).toEqual([]);
    expect(parseDaemonUrls("  ")).toEqual([]);
    expect(parseDaemonUrls(" http://a:18081 ,, http://b:18089/ ")).toEqual(["http://a:18081", "http://b:18089/"]);
  });
});
