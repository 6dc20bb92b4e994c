// Whether a coin is ready: the stale-scan rule, and the known scan lag a backend may run with.
import { describe, expect, it } from "vitest";
import { Coin } from "../../src/domain/coins";
import { chainHealth, type WatcherRecord } from "../../src/domain/chain-health";

const NOW = 1_800_000_000_000;
const record = (scannedThrough: number): WatcherRecord => ({
  tipHeight: 10,
  bestTipHeight: 10,
  cursorHeight: 10,
  scannedThrough,
  checkedAt: NOW,
  network: "mainnet",
  expectedNetwork: null,
  nodeBehind: null,
  lastError: null,
});

describe("chainHealth's stale scan", () => {
  it("is not ready once invoices are watched and the scan is more than three polls old", () => {
    const at = { now: NOW, pollMs: 5_000, watching: true, waitingSince: null };
    expect(chainHealth(Coin.TON, record(NOW - 15_000), at).ready).toBe(true);
    expect(chainHealth(Coin.TON, record(NOW - 15_001), at)).toMatchObject({ ready: false, reason: expect.stringContaining("more than 3 poll intervals ago") });
  });

  it("allows a backend's known scan lag on top (TON's commit margin), and no more", () => {
    const at = { now: NOW, pollMs: 5_000, scanLagMs: 15_000, watching: true, waitingSince: null };
    expect(chainHealth(Coin.TON, record(NOW - 30_000), at).ready).toBe(true);
    expect(chainHealth(Coin.TON, record(NOW - 30_001), at).ready).toBe(false);
  });
});
