// A coin is enabled exactly when its module finds its node configured and its settings make sense.
import { describe, expect, it } from "vitest";
import { coinRuntime, enabledCoins, isCoinEnabled } from "../../src/chains/registry";
import { DEFAULT_ESPLORA_REQUESTS, utxoSettings } from "../../src/chains/utxo/settings";
import { xmrSettings } from "../../src/chains/xmr/settings";
import { subrequestBudget } from "../../src/config";
import { Coin } from "../../src/domain/coins";
import type { Env } from "../../src/env";

const env = (vars: Record<string, string>) => vars as unknown as Env;

describe("XMR settings", () => {
  it.each([
    ["no node", {}, false],
    ["a node", { XMR_DAEMON_URL: "http://127.0.0.1:18081" }, true],
    ["a blank node list", { XMR_DAEMON_URL: " , " }, false],
    ["a node on stagenet", { XMR_DAEMON_URL: "http://n", XMR_NETWORK: "Stagenet" }, true],
    ["a node and an unknown network (never guess the address format)", { XMR_DAEMON_URL: "http://n", XMR_NETWORK: "regtest" }, false],
  ])("with %s: enabled = %s", (_why, vars, enabled) => {
    expect(isCoinEnabled(env(vars), Coin.XMR)).toBe(enabled);
  });

  it("reads a failover list, the poll interval and the login", () => {
    expect(xmrSettings(env({ XMR_DAEMON_URL: "http://a:1, http://b:2", XMR_POLL_SECONDS: "2.5", XMR_DAEMON_USER: "u", XMR_DAEMON_PASS: " p " }))).toEqual({
      network: "mainnet",
      daemonUrls: ["http://a:1", "http://b:2"],
      user: "u",
      pass: " p ",
      pollMs: 2500,
    });
  });

  it("falls back to 5 s for a missing or nonsense poll interval", () => {
    expect(coinRuntime(env({ XMR_DAEMON_URL: "http://n", XMR_POLL_SECONDS: "0" }), Coin.XMR)?.pollMs).toBe(5000);
    expect(coinRuntime(env({ XMR_DAEMON_URL: "http://n", XMR_POLL_SECONDS: "x" }), Coin.XMR)?.pollMs).toBe(5000);
  });

  it("enables only the coins whose own node is configured", () => {
    expect(enabledCoins(env({ XMR_DAEMON_URL: "http://n" }))).toEqual([Coin.XMR]);
    for (const coin of [Coin.BTC, Coin.LTC, Coin.ETH, Coin.TON]) expect(isCoinEnabled(env({ XMR_DAEMON_URL: "http://n" }), coin)).toBe(false);
  });
});

describe("BTC and LTC settings", () => {
  it.each([
    ["no backend", {}, false],
    ["a node", { LTC_DAEMON_URL: "http://127.0.0.1:19443" }, true],
    ["an Esplora explorer only", { LTC_ESPLORA_URL: "https://litecoinspace.org/api" }, true],
    ["an explorer and a network Litecoin does not have", { LTC_ESPLORA_URL: "https://e", LTC_NETWORK: "signet" }, false],
  ])("LTC with %s: enabled = %s", (_why, vars, enabled) => {
    expect(isCoinEnabled(env(vars), Coin.LTC)).toBe(enabled);
  });

  it("reads an explorer failover list and its request budget; a node, when also set, is the backend", () => {
    expect(utxoSettings(env({ BTC_ESPLORA_URL: "https://a/api, https://b/api", BTC_ESPLORA_REQUESTS_PER_TICK: "12" }), "BTC")?.backend).toEqual({
      kind: "esplora",
      urls: ["https://a/api", "https://b/api"],
      requestsPerTick: 12,
    });
    expect(utxoSettings(env({ BTC_ESPLORA_URL: "https://a/api", BTC_ESPLORA_REQUESTS_PER_TICK: "2" }), "BTC")?.backend).toMatchObject({ requestsPerTick: DEFAULT_ESPLORA_REQUESTS });
    expect(utxoSettings(env({ BTC_ESPLORA_URL: "https://a/api", BTC_DAEMON_URL: "http://n" }), "BTC")?.backend.kind).toBe("core");
    const runtime = coinRuntime(env({ BTC_ESPLORA_URL: "https://a/api" }), Coin.BTC)!;
    expect(runtime.follower).toBeDefined();
    expect(runtime.source).toBeUndefined();
  });
});

describe("SUBREQUEST_BUDGET", () => {
  it("is the free plan's 50 unless set to a sensible number", () => {
    expect(subrequestBudget(env({}))).toBe(50);
    expect(subrequestBudget(env({ SUBREQUEST_BUDGET: "10000" }))).toBe(10000);
    expect(subrequestBudget(env({ SUBREQUEST_BUDGET: "3" }))).toBe(50);
    expect(subrequestBudget(env({ SUBREQUEST_BUDGET: "lots" }))).toBe(50);
  });
});
