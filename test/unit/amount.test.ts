import { describe, expect, it } from "vitest";
import { amountToDouble, formatAmount, parseAmount } from "../../src/domain/amount";

/** Each coin's own largest amount: 2^64-1 piconero for XMR; far beyond 64 bits for wei. */
const limits = (decimals: number, maxAmount = (1n << 64n) - 1n) => ({ decimals, maxAmount });

describe("parseAmount (API double -> atomic units through the shortest decimal string)", () => {
  const ok: [number, number, bigint][] = [
    [1, 12, 1_000_000_000_000n],
    [0.1, 12, 100_000_000_000n],
    [0.3, 12, 300_000_000_000n],
    [1.1, 12, 1_100_000_000_000n],
    [0.000000000001, 12, 1n],
    [1e-12, 12, 1n],
    [123.456789012345, 12, 123_456_789_012_345n],
    [18446744.07370955, 12, 18_446_744_073_709_550_000n],
    [0.00000001, 8, 1n],
    [21e6, 8, 2_100_000_000_000_000n],
    [1.5e3, 12, 1_500_000_000_000_000n],
    [0.000000000000000001, 18, 1n],
  ];
  it.each(ok)("converts %s with %i decimals exactly", (value, decimals, expected) => {
    expect(parseAmount(value, limits(decimals))).toEqual({ ok: true, atomic: expected });
  });

  const bad: [number, number, string][] = [
    [-1, 12, "negative"],
    [-0.000000000001, 12, "negative"],
    [0, 12, "zero"],
    [-0, 12, "zero"],
    [Number.NaN, 12, "not-finite"],
    [Number.POSITIVE_INFINITY, 12, "not-finite"],
    [Number.NEGATIVE_INFINITY, 12, "not-finite"],
    [1e-13, 12, "too-precise"],
    [0.1234567890123, 12, "too-precise"],
    [0.123456789, 8, "too-precise"],
    [1e30, 12, "too-large"],
  ];
  it.each(bad)("rejects %s with %i decimals as %s", (value, decimals, problem) => {
    expect(parseAmount(value, limits(decimals))).toEqual({ ok: false, problem });
  });

  it("bounds each coin by its own largest amount: 1e6 ETH is fine in wei, though far above 2^64", () => {
    expect(parseAmount(1e6, limits(18, (1n << 256n) - 1n))).toEqual({ ok: true, atomic: 10n ** 24n });
    expect(parseAmount(21_000_001, limits(8, 21_000_000n * 10n ** 8n))).toEqual({ ok: false, problem: "too-large" });
  });
});

describe("formatAmount (exact decimal string in coin units)", () => {
  it.each([
    [1n, 12, "0.000000000001"],
    [1_500_000_000_000n, 12, "1.5"],
    [1_000_000_000_000n, 12, "1"],
    [0n, 12, "0"],
    [123_456_789_012_345n, 12, "123.456789012345"],
    [10n ** 30n + 1n, 18, "1000000000000.000000000000000001"],
  ])("formats %s with %i decimals as %s", (amount, decimals, text) => {
    expect(formatAmount(amount, decimals)).toBe(text);
  });

  it("round-trips through the API double for every amount a double can carry", () => {
    for (const v of [0.1, 0.2, 0.3, 1.1, 2.675, 1e-12, 99.999999999999]) {
      const parsed = parseAmount(v, limits(12));
      if (!parsed.ok) throw new Error("unexpected");
      expect(amountToDouble(parsed.atomic, 12)).toBe(v);
    }
  });
});
