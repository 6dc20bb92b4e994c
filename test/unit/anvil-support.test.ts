// The anvil harness the EVM module's tests stand on: a real local node with mining off, where a send stays pending
// until mined, the test token and payout contracts behave as their sources say, and a reorg rewrites blocks as anvil does.
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { getAddress, parseAbiItem, type Address, type Hash } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAnvil, type Anvil } from "../e2e/support/anvil";
import { delay } from "../e2e/support/processes";
import testToken from "../e2e/support/contracts/TestToken.json";

const TRANSFER = parseAbiItem("event Transfer(address indexed from, address indexed to, uint256 value)");
const ACCOUNT_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const DECIMALS_SELECTOR = "0x313ce567";
const ONE_ETH = 10n ** 18n;

let anvil: Anvil;

beforeAll(async () => {
  const started = Date.now();
  anvil = await startAnvil();
  console.info(`anvil up: ${Date.now() - started} ms`);
}, 60_000);

afterAll(async () => {
  await anvil?.stop();
}, 30_000);

/** An address no test has used: its balance and logs start empty. */
function freshAddress(): Address {
  return getAddress(`0x${randomBytes(20).toString("hex")}`);
}

describe("startAnvil", () => {
  it("answers eth_chainId with the default chain id 31337 and lists the public mnemonic's dev accounts", async () => {
    expect(anvil.chainId).toBe(31337);
    expect(await anvil.rpc("eth_chainId")).toBe("0x7a69");
    expect(await anvil.client.getChainId()).toBe(31337);
    expect(anvil.accounts).toHaveLength(10);
    expect(anvil.accounts[0]?.address).toBe(ACCOUNT_0);
    expect(anvil.accounts[0]?.privateKey).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it("starts on another chain id, and stop() ends exactly its process and removes its temp dir", async () => {
    const bnb = await startAnvil({ chainId: 56 });
    try {
      expect(await bnb.rpc("eth_chainId")).toBe("0x38");
      expect(bnb.url).not.toBe(anvil.url);
      expect(existsSync(bnb.dir)).toBe(true);
      expect(() => process.kill(bnb.pid, 0)).not.toThrow();
    } finally {
      await bnb.stop();
    }
    expect(() => process.kill(bnb.pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    expect(existsSync(bnb.dir)).toBe(false);
    await expect(fetch(bnb.url, { method: "POST", body: "{}" })).rejects.toThrow();
    // The shared node is untouched.
    expect(await anvil.rpc("eth_chainId")).toBe("0x7a69");
  });
});

describe("native sends with mining off", () => {
  it("keeps a send pending, visible by hash with a null blockNumber, until mine(1), however long it waits", async () => {
    const to = freshAddress();
    const hash = await anvil.send(1, to, ONE_ETH);
    // No block comes by itself: not on arrival (automine) nor on a timer (interval mining).
    await delay(1_100);
    const pending = await anvil.client.getTransaction({ hash });
    expect(pending).toMatchObject({ hash, blockNumber: null, blockHash: null, value: ONE_ETH, to: to.toLowerCase() });
    expect(await anvil.rpc("eth_getTransactionReceipt", [hash])).toBeNull();
    expect(await anvil.client.getBalance({ address: to })).toBe(0n);

    const head = await anvil.mine(1);
    const receipt = await anvil.client.getTransactionReceipt({ hash });
    expect(receipt).toMatchObject({ status: "success", blockNumber: head });
    expect(await anvil.client.getBalance({ address: to })).toBe(ONE_ETH);
  });

  it("dropTx removes a pending send from the pool", async () => {
    const hash = await anvil.send(2, freshAddress(), ONE_ETH);
    expect(await anvil.rpc("eth_getTransactionByHash", [hash])).not.toBeNull();
    await anvil.dropTx(hash);
    expect(await anvil.rpc("eth_getTransactionByHash", [hash])).toBeNull();
  });
});

describe("TestToken", () => {
  it("deploys with 6 decimals and the whole supply on the deployer", async () => {
    const token = await anvil.deployToken();
    expect(BigInt(await anvil.call(token, DECIMALS_SELECTOR))).toBe(6n);
    const abi = testToken.abi;
    expect(await anvil.client.readContract({ address: token, abi, functionName: "decimals" })).toBe(6);
    const supply = await anvil.client.readContract({ address: token, abi, functionName: "totalSupply" });
    expect(await anvil.client.readContract({ address: token, abi, functionName: "balanceOf", args: [ACCOUNT_0] })).toBe(supply);
  });

  it("emits a Transfer log that eth_getLogs finds by its `to` topic", async () => {
    const token = await anvil.deployToken();
    const to = freshAddress();
    const hash = await anvil.transferToken(0, to, 1_500_000n);
    const head = await anvil.mine(1);

    const logs = await anvil.client.getLogs({ address: token, event: TRANSFER, args: { to }, fromBlock: head, toBlock: head });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ transactionHash: hash, args: { from: ACCOUNT_0, to, value: 1_500_000n } });
  });

  it("transferTokenTwice puts two Transfer logs in one tx", async () => {
    const token = await anvil.deployToken();
    const [a, b] = [freshAddress(), freshAddress()];
    const hash = await anvil.transferTokenTwice(0, a, 1n, b, 2n);
    const head = await anvil.mine(1);

    const logs = await anvil.client.getLogs({ address: token, event: TRANSFER, args: { to: [a, b] }, fromBlock: head, toBlock: head });
    expect(logs.map((l) => [l.transactionHash, l.args.to, l.args.value])).toEqual([
      [hash, a, 1n],
      [hash, b, 2n],
    ]);
    expect(logs[0]?.logIndex).not.toBe(logs[1]?.logIndex);
  });
});

describe("BatchPayout", () => {
  it("pays two addresses native coin in one tx sent to the contract", async () => {
    const payout = await anvil.deployBatchPayout();
    const [a, b] = [freshAddress(), freshAddress()];
    const hash = await anvil.payMany(3, [
      { to: a, wei: ONE_ETH },
      { to: b, wei: 2n * ONE_ETH },
    ]);
    await anvil.mine(1);

    expect(await anvil.client.getTransactionReceipt({ hash })).toMatchObject({ status: "success", to: payout.toLowerCase() });
    expect(await anvil.client.getBalance({ address: a })).toBe(ONE_ETH);
    expect(await anvil.client.getBalance({ address: b })).toBe(2n * ONE_ETH);
  });

  it("forward credits the target's balance by an internal call, with the tx's `to` the contract", async () => {
    const payout = await anvil.deployBatchPayout();
    const target = freshAddress();
    const hash = await anvil.forward(4, target, 3n * ONE_ETH);
    await anvil.mine(1);

    const tx = await anvil.client.getTransaction({ hash });
    expect(tx).toMatchObject({ to: payout.toLowerCase(), value: 3n * ONE_ETH });
    expect((await anvil.client.getTransactionReceipt({ hash })).status).toBe("success");
    expect(await anvil.client.getBalance({ address: target })).toBe(3n * ONE_ETH);
    expect(await anvil.client.getBalance({ address: payout })).toBe(0n);
  });
});

describe("reorg", () => {
  async function blockHashes(from: bigint, to: bigint): Promise<Hash[]> {
    const hashes: Hash[] = [];
    for (let n = from; n <= to; n++) hashes.push((await anvil.client.getBlock({ blockNumber: n })).hash);
    return hashes;
  }

  it("replaces the last blocks at the same height: listed txs keep their hash in a new block, the others vanish", async () => {
    await anvil.mine(2);
    const kept = await anvil.send(5, freshAddress(), ONE_ETH);
    const lost = await anvil.send(6, freshAddress(), ONE_ETH);
    const head = await anvil.mine(1);
    const before = await blockHashes(head - 1n, head);
    const keptBlock = (await anvil.client.getTransactionReceipt({ hash: kept })).blockHash;

    await anvil.reorg(2, [{ hash: kept, blockOffset: 0 }]);

    expect(await anvil.client.getBlockNumber()).toBe(head);
    const after = await blockHashes(head - 1n, head);
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(await anvil.rpc("eth_getBlockByHash", [keptBlock, false])).toBeNull();

    const moved = await anvil.client.getTransactionReceipt({ hash: kept });
    expect(moved.blockNumber).toBe(head - 1n);
    expect(moved.blockHash).toBe(after[0]);
    expect(await anvil.rpc("eth_getTransactionByHash", [lost])).toBeNull();
    expect(await anvil.rpc("eth_getTransactionReceipt", [lost])).toBeNull();
    // Not put back in the pool either (geth would).
    expect(await anvil.rpc("txpool_status")).toEqual({ pending: "0x0", queued: "0x0" });
  });
});
