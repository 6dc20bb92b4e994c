// Money as integers: bigint atomic units end to end. A double exists only at the API edge and
// is converted through its shortest decimal string (what JS prints), never multiplied.

declare const atomicBrand: unique symbol;
/** An amount in a coin's smallest unit (piconero, satoshi, wei, nanoton). */
export type Atomic = bigint & { readonly [atomicBrand]: true };

export const ZERO = 0n as Atomic;

export function atomic(value: bigint): Atomic {
  if (value < 0n) throw new RangeError(`negative atomic amount ${value}`);
  return value as Atomic;
}

export type AmountProblem = "negative" | "zero" | "not-finite" | "too-precise" | "too-large";

/** What is wrong with an amount before any coin's units apply: not a finite number, or not above 0. */
export function amountSignProblem(value: number): AmountProblem | null {
  if (!Number.isFinite(value)) return "not-finite";
  if (value < 0) return "negative";
  if (value === 0) return "zero";
  return null;
}

/**
 * Converts an API double to atomic units through its shortest round-trip decimal string,
 * so 0.1 becomes exactly 100000000000 piconero, not 100000000000.00001.
 */
export function parseAmount(value: number, limits: { decimals: number; maxAmount: bigint }): { ok: true; atomic: Atomic } | { ok: false; problem: AmountProblem } {
  const { decimals, maxAmount } = limits;
  const signProblem = amountSignProblem(value);
  if (signProblem) return { ok: false, problem: signProblem };
  const { digits, exponent } = decimalDigits(value);
  // value = digits * 10^exponent; atomic = digits * 10^(exponent + decimals)
  const shift = exponent + decimals;
  if (shift < 0) return { ok: false, problem: "too-precise" };
  const result = digits * 10n ** BigInt(shift);
  if (result > maxAmount) return { ok: false, problem: "too-large" };
  return { ok: true, atomic: result as Atomic };
}

/** Splits a positive finite double's shortest decimal form into integer digits and a power of ten. */
function decimalDigits(value: number): { digits: bigint; exponent: number } {
  const text = String(value); // shortest round-trip form, e.g. "1.5", "1e-12", "1.2345e+21"
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(text);
  if (!match) throw new RangeError(`unexpected number form ${text}`);
  const [, whole = "", fraction = "", exp = "0"] = match;
  let digits = BigInt(whole + fraction);
  let exponent = Number(exp) - fraction.length;
  // Trailing zeros are not precision: 1.5e3 = 15 * 10^2.
  while (digits !== 0n && digits % 10n === 0n) {
    digits /= 10n;
    exponent += 1;
  }
  return { digits, exponent };
}

/** Exact decimal string in coin units: 1n with 12 decimals -> "0.000000000001"; no trailing zeros. */
export function formatAmount(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  const fraction = (abs % base).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** The API's double for an amount: parsed from the exact decimal string, so it is the nearest double. */
export function amountToDouble(amount: bigint, decimals: number): number {
  return Number(formatAmount(amount, decimals));
}
