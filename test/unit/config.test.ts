// A coin is enabled exactly when its node is configured and its settings make sense.
import { describe, expect, it } from "vitest";
import { isCoinEnabled, xmrConfig } from "../../src/config";
import { Coin } from "../../src/domain/coins";
import type { Env } from "../../src/env";

const env = (vars: Partial<Env>) => vars as Env;

describe("XMR configuration", () => {
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
    expect(xmrConfig(env({ XMR_DAEMON_URL: "http://a:1, http://b:2", XMR_POLL_SECONDS: "2.5", XMR_DAEMON_USER: "u", XMR_DAEMON_PASS: "p" }))).toEqual({
      network: "mainnet",
      daemonUrls: ["http://a:1", "http://b:2"],
      user: "u",
      pass: "p",
      pollMs: 2500,
    });
  });

  it("falls back to 5 s for a missing or nonsense poll interval", () => {
    expect(xmrConfig(env({ XMR_POLL_SECONDS: "0" })).pollMs).toBe(5000);
    expect(xmrConfig(env({ XMR_POLL_SECONDS: "x" })).pollMs).toBe(5000);
  });

  it("enables no other coin yet", () => {
    for (const coin of [Coin.BTC, Coin.LTC, Coin.ETH, Coin.TON]) expect(isCoinEnabled(env({ XMR_DAEMON_URL: "http://n" }), coin)).toBe(false);
  });
});
