// One chain family behind one interface, the way BTCPay puts every payment method behind one
// handler: its coins' facts, settings, keys, addresses, how payments are found, and its node source.
// Shared code asks the registry for a coin's module and never names a coin or a chain.

import type { MessageInitShape } from "@bufbuild/protobuf";
import type { GetCryptoKeysResponseSchema, UpdateCryptoKeysRequest } from "../../gen/user/v1/user_pb";
import type { Coin } from "../domain/coins";
import type { ApiFailure } from "../domain/errors";
import type { Env } from "../env";
import type { ChainAdapter, ChainSource, OpenKeySet } from "./adapter";
import type { ChainFollower } from "./follower";

/** What every layer needs to know of a coin: its units and limits. */
export interface CoinFacts {
  readonly coin: Coin;
  /** Atomic units per coin = 10^decimals. */
  readonly decimals: number;
  /** The largest amount an invoice may ask for, in atomic units. */
  readonly maxAmount: bigint;
  /** Highest confirmation count an invoice may ask for. */
  readonly maxConfirmations: number;
}

/** Watch-only keys as a user registers them, parsed: what D1 stores. */
export interface ParsedKeys {
  /** Public identity of the keys, unique per coin across users. */
  readonly fingerprint: string;
  readonly publicKeys: Record<string, string>;
  /** Secret watch-only material (sealed at rest), or null. */
  readonly secret: string | null;
}

/** Keys found in an UpdateCryptoKeys request: none for this coin, parsed, or refused. */
export type KeysInRequest = { given: false } | { given: true; keys: ParsedKeys } | { given: true; failure: ApiFailure };

/** How payments are found: each account scans with its own secret key, or the watcher matches public outputs. */
export type Matching = "view-key" | "address";

/** Wraps a node call (the watcher times them for /healthz). */
export type CallTimer = <R>(call: () => Promise<R>) => Promise<R>;

/**
 * A coin as configured on this server: its adapter, how the watcher reads its chain and how often.
 * Exactly one of `source` (a node that serves blocks and its pool, followed block by block) and
 * `follower` (a backend with its own way of following, such as an explorer polled per address).
 */
export interface CoinRuntime {
  readonly adapter: ChainAdapter;
  /** `timed` wraps every HTTP request the source makes (timedFetch), so the watcher can count and time them. */
  source?(timed: CallTimer): ChainSource;
  follower?(timed: CallTimer): ChainFollower;
  readonly pollMs: number;
  /** How far behind the clock this backend's scan time runs when all is well (TON: its commit margin); /healthz allows it. */
  readonly scanLagMs?: number;
}

/** The global fetch, every request wrapped in `timed`. */
export function timedFetch(timed: CallTimer): typeof fetch {
  // Workers throw "Illegal invocation" when the global fetch is called detached from globalThis.
  return (input, init) => timed(() => fetch(input, init));
}

export interface CoinModule {
  readonly facts: CoinFacts;
  readonly matching: Matching;
  /** The coin whose key set this coin's invoices use (a token uses its chain's keys); unset: its own. */
  readonly keysCoin?: Coin;
  /** The address index a new key set starts at (XMR: 1, since subaddress (0,0) is the wallet's own address). */
  readonly firstAddressIndex: number;
  /** Reads this coin's field of UpdateCryptoKeysRequest (keys are judged for the network `env` configures). */
  keysIn(req: UpdateCryptoKeysRequest, env: Env): KeysInRequest;
  /** This coin's field of GetCryptoKeysResponse for the stored keys. */
  keysOut(keys: OpenKeySet): MessageInitShape<typeof GetCryptoKeysResponseSchema>;
  /** The coin on this server, or null when it is not enabled (its node is not configured, or its settings make no sense). */
  configure(env: Env): CoinRuntime | null;
  /**
   * The URI a wallet opens to pay `amount` (atomic units; the amount still due) to `address` on the
   * network `env` configures. Zero or negative amount: the URI without an amount.
   */
  paymentUri(address: string, amount: bigint, env: Env): string;
}

/** A chain family: one folder under src/chains, one or more coins. */
export interface ChainModule {
  readonly coins: readonly CoinModule[];
}
