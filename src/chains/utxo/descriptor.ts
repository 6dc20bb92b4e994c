// Output descriptors (BIP-380..386) as far as a merchant's receive key needs them: the checksum, and the
// single-key forms pkh(), sh(wpkh()), wpkh() and tr() around one extended key with optional key origin.

import type { ScriptType } from "./networks";

// BIP-380: the checksum works on 5-bit symbols; each character is its position in this set, split in two.
const INPUT_CHARSET =
  "0123456789()[],'/*abcdefgh@:$%{}" + "IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~" + "ijklmnopqrstuvwxyzABCDEFGH`#\"\\ ";
const CHECKSUM_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATORS = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn] as const;
const CHECKSUM_LENGTH = 8;

// The checksum is a 40-bit BCH code; bigint keeps the arithmetic exact (descriptors are short).
function polymod(symbols: readonly number[]): bigint {
  let chk = 1n;
  for (const value of symbols) {
    const top = chk >> 35n;
    chk = ((chk & 0x7ffffffffn) << 5n) ^ BigInt(value);
    for (let i = 0; i < GENERATORS.length; i++) if ((top >> BigInt(i)) & 1n) chk ^= GENERATORS[i]!;
  }
  return chk;
}

/** The 8-character BIP-380 checksum of a descriptor body (the text before `#`); null if a character is not allowed. */
export function descriptorChecksum(body: string): string | null {
  const symbols: number[] = [];
  let groups: number[] = [];
  for (const char of body) {
    const position = INPUT_CHARSET.indexOf(char);
    if (position < 0) return null;
    symbols.push(position & 31);
    groups.push(position >> 5);
    if (groups.length === 3) {
      symbols.push(groups[0]! * 9 + groups[1]! * 3 + groups[2]!);
      groups = [];
    }
  }
  if (groups.length === 1) symbols.push(groups[0]!);
  else if (groups.length === 2) symbols.push(groups[0]! * 3 + groups[1]!);
  const chk = polymod([...symbols, 0, 0, 0, 0, 0, 0, 0, 0]) ^ 1n;
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) out += CHECKSUM_CHARSET[Number((chk >> BigInt(5 * (7 - i))) & 31n)];
  return out;
}

/** `body#checksum`. */
export function withDescriptorChecksum(body: string): string {
  const checksum = descriptorChecksum(body);
  if (checksum === null) throw new RangeError("withDescriptorChecksum: character outside the descriptor alphabet");
  return `${body}#${checksum}`;
}

/** Where the key came from, as `[fingerprint/path]` says: for wallets, never used to derive. */
export interface KeyOrigin {
  /** Master key fingerprint, 8 lowercase hex digits. */
  fingerprint: string;
  /** Normalised steps, hardened ones marked `'`: e.g. ["84'", "0'", "0'"]. */
  path: string[];
}

export interface ReceiveDescriptor {
  script: ScriptType;
  origin: KeyOrigin | null;
  /** The extended key as written; keys.ts decodes it. */
  key: string;
}

export type DescriptorProblem = "malformed" | "bad-checksum" | "unsupported";

// One script function around one key expression; anything else (multi, wsh, addr, raw, tr with a
// script tree, several keys) is not an account receive key.
const FORMS: readonly { open: string; close: string; script: ScriptType }[] = [
  { open: "sh(wpkh(", close: "))", script: "p2sh-p2wpkh" },
  { open: "wpkh(", close: ")", script: "p2wpkh" },
  { open: "pkh(", close: ")", script: "p2pkh" },
  { open: "tr(", close: ")", script: "p2tr" },
];

const KEY_EXPRESSION = /^(?:\[([0-9a-fA-F]{8})((?:\/[0-9]+['h]?)*)\])?([1-9A-HJ-NP-Za-km-z]+)((?:\/[^/]*)*)$/;
// The receive chain: `/0/*`, the BIP-389 pair `/<0;1>/*` (receive first), or nothing, meaning the key is
// the account key and invoices use its `/0/*` like a bare xpub. Other chains and hardened steps are refused.
const RECEIVE_SUFFIXES = new Set(["", "/0/*", "/<0;1>/*"]);
const MAX_STEP = 0x7fffffff;

/**
 * Splits a descriptor for one receive key into its script, key origin and extended key; the checksum is
 * verified when present. The key itself is not decoded here.
 */
export function parseReceiveDescriptor(text: string): { ok: true; descriptor: ReceiveDescriptor } | { ok: false; problem: DescriptorProblem } {
  const hash = text.indexOf("#");
  const body = hash < 0 ? text : text.slice(0, hash);
  if (hash >= 0) {
    const checksum = text.slice(hash + 1);
    const expected = descriptorChecksum(body);
    if (expected === null) return { ok: false, problem: "malformed" };
    if (checksum !== expected) return { ok: false, problem: "bad-checksum" };
  }
  const form = FORMS.find((f) => body.startsWith(f.open) && body.endsWith(f.close));
  // A well-formed call of another descriptor function is unsupported; anything else is not a descriptor.
  if (!form) return { ok: false, problem: /^[a-z_]+\(.*\)$/.test(body) ? "unsupported" : "malformed" };
  const inner = body.slice(form.open.length, body.length - form.close.length);
  const match = KEY_EXPRESSION.exec(inner);
  if (!match) return { ok: false, problem: /[(),]/.test(inner) ? "unsupported" : "malformed" };
  const [, fingerprint, originPath, key = "", suffix = ""] = match;
  if (!RECEIVE_SUFFIXES.has(suffix)) return { ok: false, problem: "unsupported" };
  let origin: KeyOrigin | null = null;
  if (fingerprint !== undefined) {
    const path = (originPath ?? "").split("/").slice(1).map(normaliseStep);
    if (path.includes(null)) return { ok: false, problem: "malformed" };
    origin = { fingerprint: fingerprint.toLowerCase(), path: path as string[] };
  }
  return { ok: true, descriptor: { script: form.script, origin, key } };
}

function normaliseStep(step: string): string | null {
  const hardened = step.endsWith("'") || step.endsWith("h");
  const digits = hardened ? step.slice(0, -1) : step;
  // No leading zeros: "01" would name the same step as "1" and make two spellings of one origin.
  if (!/^(?:0|[1-9][0-9]*)$/.test(digits) || Number(digits) > MAX_STEP) return null;
  return hardened ? `${digits}'` : digits;
}

/** The canonical receive descriptor of a key (`/0/*`, origin steps with `'`), checksum appended. */
export function formatReceiveDescriptor(script: ScriptType, origin: KeyOrigin | null, key: string): string {
  const originText = origin ? `[${[origin.fingerprint, ...origin.path].join("/")}]` : "";
  const keyExpression = `${originText}${key}/0/*`;
  const form = FORMS.find((f) => f.script === script)!;
  return withDescriptorChecksum(`${form.open}${keyExpression}${form.close}`);
}
