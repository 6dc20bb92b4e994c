// The `sweep ton` command line, turned once into typed options: toncenter base, network, destination, indices,
// where the merchant's secret and the API key come from, and what to do with the signed sweeps (nothing, send, a file).

import { Address } from "@ton/core";
import { parsePublicKey } from "../../../chains/ton/keys";
import { MAX_WALLET_INDEX, parseTonAddress, type TonNetwork } from "../../../chains/ton/wallet";
import { parseIndices, parsePositiveInt, parseStrictArgs, refuseSecretArguments, required, secretSource, UsageError, type SecretSource } from "../options";

export interface TonSweepOptions {
  network: TonNetwork;
  /** toncenter base without a trailing slash, e.g. `https://toncenter.com/api`; v2 lies below it. */
  apiUrl: string;
  /** The X-API-Key, read from this file; null: the TONCENTER_API_KEY environment variable, or none. */
  apiKeyFile: string | null;
  /** Every sweep goes here, with bounce off. */
  to: Address;
  indices: readonly number[];
  /** The merchant's 24-word TON mnemonic, or its ed25519 seed / secret key in hex. */
  secret: SecretSource;
  /** When given, the secret must derive exactly this public key; a dry run then needs no secret at all. */
  publicKey: Uint8Array | null;
  send: boolean;
  yes: boolean;
  /** Write the signed sweeps (base64 BOCs, one a line) to this file instead of sending them. */
  outFile: string | null;
  /** How long to wait for the swept accounts to empty after sending. */
  confirmTimeoutMs: number;
}

const DEFAULT_CONFIRM_TIMEOUT_S = 120;

export const TON_USAGE = `usage: npm run sweep -- ton --api <toncenter base> --to <address> --indices <list> [options]

  --api <url>               toncenter API base, e.g. https://toncenter.com/api (v2 endpoints are used)
  --api-key-file <path>     X-API-Key from this file (default: $TONCENTER_API_KEY, or none)
  --network mainnet|testnet the network the API must serve (default mainnet)
  --to <address>            destination wallet of every sweep (sent with bounce off)
  --indices <list>          invoice indices to sweep (walletId 0x40000000 + i), e.g. 0-99,120
  --public-key <hex>        the merchant's public key: the secret must derive it (a dry run then needs no secret)
  --mnemonic-file <path>    read the secret from a file (default: prompt on the terminal)
  --mnemonic-stdin          read the secret from the first line of stdin
                            (the secret: the 24-word TON mnemonic, or the ed25519 seed (64 hex) / secret key (128 hex))
  --send                    broadcast (default: dry run, print the plan only)
  --yes                     do not ask before broadcasting
  --out <file>              write the signed sweeps, one base64 BOC a line, and send nothing
  --confirm-timeout <s>     seconds to wait for the swept accounts to empty (default ${DEFAULT_CONFIRM_TIMEOUT_S})

The secret and the API key are never arguments: they would stay in shell history and in the process list.`;

export function parseTonSweepArgs(argv: readonly string[]): TonSweepOptions {
  refuseSecretArguments(argv, "Use the prompt, --mnemonic-file or --mnemonic-stdin; the API key: --api-key-file or TONCENTER_API_KEY.");
  const { values: v, positionals } = parseStrictArgs(argv, {
    api: { type: "string" },
    "api-key-file": { type: "string" },
    network: { type: "string" },
    to: { type: "string" },
    indices: { type: "string" },
    "public-key": { type: "string" },
    "mnemonic-file": { type: "string" },
    "mnemonic-stdin": { type: "boolean" },
    send: { type: "boolean" },
    yes: { type: "boolean" },
    out: { type: "string" },
    "confirm-timeout": { type: "string" },
  });
  // A mnemonic pasted after the options: say so without quoting a word.
  if (positionals.length > 0) throw new UsageError(`sweep ton takes no plain arguments, got ${positionals.length}`);

  const apiUrl = required(v.api, "--api").replace(/\/+$/, "");
  if (!/^https?:\/\//.test(apiUrl)) throw new UsageError("--api must be an http(s) URL");
  const network = v.network ?? "mainnet";
  if (network !== "mainnet" && network !== "testnet") throw new UsageError("--network must be mainnet or testnet");
  const to = parseDestination(required(v.to, "--to"), network);
  const indices = parseIndices(required(v.indices, "--indices"), { max: MAX_WALLET_INDEX, name: "the last index whose walletId fits in 32 bits," });

  let publicKey: Uint8Array | null = null;
  if (v["public-key"] !== undefined) {
    const parsed = parsePublicKey(v["public-key"]);
    // A secret key pasted here is refused by kind, never echoed.
    if (!parsed.ok) throw new UsageError(`--public-key: not a TON public key (${parsed.problem})`);
    publicKey = parsed.key.publicKey;
  }
  if (v.send && v.out !== undefined) throw new UsageError("give --send or --out, not both: --out writes the signed sweeps and sends nothing");

  return {
    network,
    apiUrl,
    apiKeyFile: v["api-key-file"] ?? null,
    to,
    indices,
    secret: secretSource("mnemonic", v["mnemonic-file"], v["mnemonic-stdin"], undefined) ?? { from: "prompt" },
    publicKey,
    send: v.send ?? false,
    yes: v.yes ?? false,
    outFile: v.out ?? null,
    confirmTimeoutMs: (v["confirm-timeout"] === undefined ? DEFAULT_CONFIRM_TIMEOUT_S : parsePositiveInt(v["confirm-timeout"], "--confirm-timeout")) * 1000,
  };
}

/**
 * The destination: raw `0:hex` or a user-friendly form with a valid checksum, on the basechain. A friendly form's
 * test-only flag must match --network (a testnet address given to a mainnet sweep is a mistake). Its bounce flag
 * is not taken: the sweep always sends with bounce off, so an undeployed destination wallet is credited, not bounced.
 */
export function parseDestination(text: string, network: TonNetwork): Address {
  const parsed = parseTonAddress(text);
  if (!parsed) throw new UsageError(`--to: "${text}" is not a TON address (or its checksum is wrong)`);
  if (parsed.workchain !== 0) throw new UsageError(`--to: ${text} is on workchain ${parsed.workchain}; wallets live on workchain 0`);
  if (Address.isFriendly(text) && Address.parseFriendly(text).isTestOnly !== (network === "testnet")) {
    throw new UsageError(`--to: ${text} is a ${network === "testnet" ? "mainnet" : "testnet"} address form, but --network is ${network}`);
  }
  return new Address(0, Buffer.from(parsed.matchKey, "hex"));
}
