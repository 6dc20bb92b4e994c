// The sweep command line, turned once into typed options: chain, node, destination, indices, tokens and where
// each secret comes from. Secrets themselves are never arguments; an option that would carry one is refused.

import { parseArgs } from "node:util";
import { getAddress, isAddress, type Address } from "viem";

export type SweepChain = "eth" | "bnb";

/** Chain ids each chain accepts without --chain-id: mainnet, the public testnet, and local dev nodes. */
export const KNOWN_CHAIN_IDS: Record<SweepChain, readonly number[]> = {
  eth: [1, 11155111, 31337, 1337],
  bnb: [56, 97, 31337, 1337],
};

export const NATIVE_SYMBOL: Record<SweepChain, string> = { eth: "ETH", bnb: "BNB" };

/** Where a secret is read from. `stdin` reads the next line of standard input (mnemonic, then passphrase, then gas key). */
export type SecretSource = { from: "prompt" } | { from: "file"; path: string } | { from: "stdin" };

/** Who pays the token sweeps' gas top-ups: another index of the same mnemonic, or a separate private key. */
export type GasFunder = { kind: "index"; index: number } | { kind: "key"; source: SecretSource };

export interface SweepOptions {
  chain: SweepChain;
  rpcUrl: string;
  to: Address;
  indices: readonly number[];
  tokens: readonly Address[];
  /** When set, the node must report exactly this chain id (instead of one of KNOWN_CHAIN_IDS). */
  chainId: number | null;
  mnemonic: SecretSource;
  /** null: no BIP39 passphrase (the empty one). */
  passphrase: SecretSource | null;
  gasFunder: GasFunder | null;
  send: boolean;
  yes: boolean;
  /** How long to wait for each transaction's receipt. */
  receiptTimeoutMs: number;
}

export class UsageError extends Error {
  override name = "UsageError";
}

/** Highest non-hardened BIP32 index. */
export const MAX_INDEX = 0x7fffffff;
/** A guard against a typo such as 0-99999999: that many addresses is surely not meant. */
export const MAX_INDEX_COUNT = 100_000;
const DEFAULT_RECEIPT_TIMEOUT_S = 300;

export const USAGE = `usage: npm run sweep -- eth|bnb --rpc <url> --to <address> --indices <list> [options]

  --rpc <url>               JSON-RPC endpoint of a node of the chain
  --to <address>            destination of every sweep
  --indices <list>          invoice indices /0/i to sweep, e.g. 0-99,120
  --token <contract>        also sweep this ERC-20/BEP-20 token (repeatable)
  --chain-id <n>            expect this chain id instead of the chain's known ones
  --gas-from <index>        pay token sweeps' gas top-ups from this index of the same mnemonic
  --gas-key-file <path>     ... or from the private key in this file
  --gas-key-stdin           ... or from a private key on the next line of stdin
  --gas-key-prompt          ... or from a private key typed at a prompt
  --mnemonic-file <path>    read the mnemonic from a file (default: prompt on the terminal)
  --mnemonic-stdin          read the mnemonic from the first line of stdin
  --passphrase-file <path>  BIP39 passphrase from a file
  --passphrase-stdin        BIP39 passphrase from the next line of stdin
  --passphrase-prompt       BIP39 passphrase typed at a prompt
  --send                    broadcast (default: dry run, print the plan only)
  --yes                     do not ask before broadcasting
  --receipt-timeout <s>     seconds to wait for each receipt (default ${DEFAULT_RECEIPT_TIMEOUT_S})

The mnemonic and keys are never arguments: they would stay in shell history and in the process list.
TON invoice wallets: npm run sweep -- ton --help`;

const SECRET_ARGUMENTS = ["mnemonic", "passphrase", "private-key", "key", "seed", "gas-key", "secret-key", "api-key"];

/** Throws for an option that would carry a secret (`--mnemonic …`, `--api-key=…`), naming the option only. */
export function refuseSecretArguments(argv: readonly string[], instead: string): void {
  for (const arg of argv) {
    const name = /^--?([a-z-]+)/i.exec(arg)?.[1]?.toLowerCase();
    if (name && SECRET_ARGUMENTS.includes(name)) {
      throw new UsageError(`--${name} is not an option: secrets are never arguments (shell history, ps). ${instead}`);
    }
  }
}

type OptionSpecs = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

/** node:util parseArgs, strict, with positionals; its errors quote the offending argument (maybe a pasted secret), ours name the kind only. */
export function parseStrictArgs<O extends OptionSpecs>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError("unknown option (see --help)");
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") throw new UsageError("an option is missing its value or got one it takes none of");
    throw new UsageError("bad arguments (see --help)");
  }
}

export function parseSweepArgs(argv: readonly string[]): SweepOptions {
  refuseSecretArguments(argv, "Use the prompt, --mnemonic-file/--mnemonic-stdin, --passphrase-file/-stdin/-prompt or --gas-key-file/-stdin/-prompt.");
  const parsed = parseStrictArgs(argv, {
    rpc: { type: "string" },
    to: { type: "string" },
    indices: { type: "string" },
    token: { type: "string", multiple: true },
    "chain-id": { type: "string" },
    "gas-from": { type: "string" },
    "gas-key-file": { type: "string" },
    "gas-key-stdin": { type: "boolean" },
    "gas-key-prompt": { type: "boolean" },
    "mnemonic-file": { type: "string" },
    "mnemonic-stdin": { type: "boolean" },
    "passphrase-file": { type: "string" },
    "passphrase-stdin": { type: "boolean" },
    "passphrase-prompt": { type: "boolean" },
    send: { type: "boolean" },
    yes: { type: "boolean" },
    "receipt-timeout": { type: "string" },
  });
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError(`expected exactly one chain (eth, bnb or ton) and no other plain arguments, got ${positionals.length}`);
  }
  const chain = positionals[0];
  if (chain !== "eth" && chain !== "bnb") throw new UsageError("the chain must be eth, bnb or ton");

  const rpcUrl = required(v.rpc, "--rpc");
  if (!/^https?:\/\//.test(rpcUrl)) throw new UsageError("--rpc must be an http(s) URL");
  const to = parseAddress(required(v.to, "--to"), "--to");
  const indices = parseIndices(required(v.indices, "--indices"));
  const tokens = (v.token ?? []).map((t) => parseAddress(t, "--token"));
  if (new Set(tokens).size !== tokens.length) throw new UsageError("--token lists a contract twice");

  const mnemonic = secretSource("mnemonic", v["mnemonic-file"], v["mnemonic-stdin"], undefined) ?? { from: "prompt" };
  const passphrase = secretSource("passphrase", v["passphrase-file"], v["passphrase-stdin"], v["passphrase-prompt"]);
  const gasKey = secretSource("gas-key", v["gas-key-file"], v["gas-key-stdin"], v["gas-key-prompt"]);
  let gasFunder: GasFunder | null = gasKey ? { kind: "key", source: gasKey } : null;
  if (v["gas-from"] !== undefined) {
    if (gasFunder) throw new UsageError("give either --gas-from or a --gas-key-* option, not both");
    const index = parseIndex(v["gas-from"], "--gas-from");
    if (indices.includes(index)) throw new UsageError(`--gas-from ${index} is also in --indices: fund from an index that is not swept`);
    gasFunder = { kind: "index", index };
  }
  if (gasFunder && tokens.length === 0) throw new UsageError("a gas funder is only used for --token sweeps");

  const timeoutS = v["receipt-timeout"] === undefined ? DEFAULT_RECEIPT_TIMEOUT_S : parsePositiveInt(v["receipt-timeout"], "--receipt-timeout");
  return {
    chain,
    rpcUrl,
    to,
    indices,
    tokens,
    chainId: v["chain-id"] === undefined ? null : parsePositiveInt(v["chain-id"], "--chain-id"),
    mnemonic,
    passphrase,
    gasFunder,
    send: v.send ?? false,
    yes: v.yes ?? false,
    receiptTimeoutMs: timeoutS * 1000,
  };
}

/** "0-99,120" -> [0, 1, …, 99, 120], ascending and without repeats. */
export function parseIndices(text: string, last: IndexLimit = BIP32_LIMIT): number[] {
  const indices = new Set<number>();
  for (const part of text.split(",")) {
    const range = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!range) throw new UsageError(`--indices: "${part}" is not an index or a range a-b`);
    const from = parseIndex(range[1]!, "--indices", last);
    const to = range[2] === undefined ? from : parseIndex(range[2], "--indices", last);
    if (to < from) throw new UsageError(`--indices: range ${from}-${to} runs backwards`);
    if (indices.size + (to - from + 1) > MAX_INDEX_COUNT) throw new UsageError(`--indices: more than ${MAX_INDEX_COUNT} addresses`);
    for (let i = from; i <= to; i++) indices.add(i);
  }
  return [...indices].sort((a, b) => a - b);
}

/** The highest index a chain's derivation takes, and what to call it in a refusal. */
export interface IndexLimit {
  max: number;
  name: string;
}

const BIP32_LIMIT: IndexLimit = { max: MAX_INDEX, name: "the last non-hardened index" };

function parseIndex(text: string, flag: string, last: IndexLimit = BIP32_LIMIT): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag}: "${text}" is not an index`);
  const n = Number(text);
  if (n > last.max) throw new UsageError(`${flag}: ${text} is beyond ${last.name} ${last.max}`);
  return n;
}

export function parsePositiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < 1) {
    throw new UsageError(`${flag}: "${text}" is not a positive integer`);
  }
  return Number(text);
}

function parseAddress(text: string, flag: string): Address {
  // isAddress checks the EIP-55 checksum of a mixed-case spelling, so a mistyped address is caught here.
  if (!isAddress(text)) throw new UsageError(`${flag}: "${text}" is not an address (or its checksum is wrong)`);
  return getAddress(text);
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`${flag} is required`);
  return value;
}

export function secretSource(what: string, file: string | undefined, stdin: boolean | undefined, prompt: boolean | undefined): SecretSource | null {
  const given = [file !== undefined, stdin === true, prompt === true].filter(Boolean).length;
  if (given > 1) throw new UsageError(`give one source for the ${what}: a file, stdin or the prompt`);
  if (file !== undefined) return { from: "file", path: file };
  if (stdin) return { from: "stdin" };
  if (prompt) return { from: "prompt" };
  return null;
}
