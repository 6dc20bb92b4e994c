// Ethereum and BNB Smart Chain as one chain module: an account-level xpub (m/44'/60'/0') per merchant and
// chain, one address /0/i per invoice, payments found by recipient in the watcher. Each chain's coin and
// each of its tokens is a coin of its own with its own watcher; a token's invoices use its chain's keys.

import type { UpdateCryptoKeysRequest } from "../../../gen/user/v1/user_pb";
import { Coin } from "../../domain/coins";
import { fail, Failures } from "../../domain/errors";
import type { Env } from "../../env";
import type { ChainAdapter } from "../adapter";
import { timedFetch, type ChainModule, type CoinFacts, type CoinModule } from "../module";
import { evmAdapter } from "./adapter";
import { evmFollower } from "./follow";
import { parseAccountKey } from "./keys";
import { evmMainnet, type EvmChain } from "./networks";
import { createEvmNodes } from "./node";
import { nativeTransferUri, tokenTransferUri } from "./payment-uri";
import { nativePayments, tokenPayments, type PaymentReader } from "./payments";
import { evmNetworkSetting, evmSettings, evmTokenSetting, evmUriNetwork, type EvmSettings } from "./settings";
import { TOKENS, tokenOn, type Token, type TokenSpec } from "./tokens";

interface ChainSpec {
  chain: EvmChain;
  facts: CoinFacts;
  request(req: UpdateCryptoKeysRequest): { masterPubKey: string } | undefined;
  response: "ethKeys" | "bnbKeys";
}

const WEI = 10n ** 18n;
/** Blocks per step and remembered: 20 blocks is 4 minutes of Ethereum, 1 of BNB Smart Chain; reorgs there are 1-3 deep. */
const FOLLOW = { maxBlocks: 20, depth: 20 };
/** The largest token invoice: 10^15 whole tokens (SHIB's supply is under 10^15). */
const MAX_WHOLE_TOKENS = 10n ** 15n;

const CHAINS: ChainSpec[] = [
  {
    chain: "ETH",
    // Far above 2^64 wei (18.4 ETH): about 10 times the supply.
    facts: { coin: Coin.ETH, decimals: 18, maxAmount: 10n ** 9n * WEI, maxConfirmations: 1000 },
    request: (req) => req.ethReq,
    response: "ethKeys",
  },
  {
    chain: "BNB",
    facts: { coin: Coin.BNB, decimals: 18, maxAmount: 10n ** 9n * WEI, maxConfirmations: 1000 },
    request: (req) => req.bnbReq,
    response: "bnbKeys",
  },
];

export const invalidEvmKeyMessage = (chain: EvmChain) => `invalid ${chain} master public key`;

/** Problems with `<CHAIN>_TOKENS` already logged in this isolate (configure runs on every request). */
const logged = new Set<string>();

function runtimeOf(settings: EvmSettings, adapter: ChainAdapter, reader: () => PaymentReader) {
  const { network, urls, pollMs, finality } = settings;
  return {
    adapter,
    pollMs,
    follower: (timed: Parameters<typeof timedFetch>[0]) => evmFollower(createEvmNodes({ urls, network, fetch: timedFetch(timed) }), reader(), { ...FOLLOW, finality }),
  };
}

function chainCoin(spec: ChainSpec): CoinModule {
  const invalidKey = fail("InvalidArgument", invalidEvmKeyMessage(spec.chain));
  return {
    facts: spec.facts,
    matching: "address",
    firstAddressIndex: 0,
    keysIn(req, env) {
      const given = spec.request(req);
      if (given === undefined) return { given: false };
      if (!evmNetworkSetting(env, spec.chain)) return { given: true, failure: Failures.coinNotEnabled(spec.facts.coin) };
      const parsed = parseAccountKey(given.masterPubKey);
      if (!parsed.ok) return { given: true, failure: invalidKey };
      return { given: true, keys: { fingerprint: parsed.key.fingerprint, publicKeys: { masterPubKey: given.masterPubKey }, secret: null } };
    },
    keysOut(keys) {
      return { [spec.response]: { masterPubKey: keys.publicKeys.masterPubKey ?? "" } };
    },
    configure(env) {
      const settings = evmSettings(env, spec.chain);
      return settings ? runtimeOf(settings, evmAdapter(spec.facts.coin) as unknown as ChainAdapter, nativePayments) : null;
    },
    paymentUri: (address, amount, env) => nativeTransferUri(address, evmUriNetwork(env, spec.chain).chainId, amount),
  };
}

/**
 * The contract and chain id a payment URI of token `spec` names under `env`: its contract on the named
 * network (`<CHAIN>_TOKENS` first, refused overrides ignored), else its mainnet contract on mainnet. Only
 * a token that is off here has no contract on its network, and mainnet is the one place it surely is.
 */
function tokenUriTarget(spec: TokenSpec, env: Env): { contract: string; chainId: number } {
  const network = evmUriNetwork(env, spec.chain);
  const overrides = evmTokenSetting(env, spec.chain);
  const token = tokenOn(spec, network, overrides.ok ? overrides.contracts : new Map());
  if (token) return { contract: token.contract, chainId: network.chainId };
  const mainnet = evmMainnet(spec.chain);
  return { contract: tokenOn(spec, mainnet, new Map())!.contract, chainId: mainnet.chainId };
}

function tokenCoin(spec: (typeof TOKENS)[number], chain: ChainSpec): CoinModule {
  return {
    facts: { coin: spec.coin, decimals: spec.decimals, maxAmount: MAX_WHOLE_TOKENS * 10n ** BigInt(spec.decimals), maxConfirmations: chain.facts.maxConfirmations },
    matching: "address",
    firstAddressIndex: 0,
    keysCoin: chain.facts.coin,
    keysIn: () => ({ given: false }),
    keysOut: () => ({}),
    configure(env) {
      const settings = evmSettings(env, spec.chain);
      if (!settings) return null;
      if (!settings.tokens.ok) {
        if (!logged.has(settings.tokens.problem)) console.error(`${settings.tokens.problem}: no ${spec.chain} token is enabled`);
        logged.add(settings.tokens.problem);
        return null;
      }
      const token: Token | null = tokenOn(spec, settings.network, settings.tokens.contracts);
      return token ? runtimeOf(settings, evmAdapter(spec.coin) as unknown as ChainAdapter, () => tokenPayments(token)) : null;
    },
    paymentUri(address, amount, env) {
      const { contract, chainId } = tokenUriTarget(spec, env);
      return tokenTransferUri(contract, chainId, address, amount);
    },
  };
}

export const evmModule: ChainModule = {
  coins: [...CHAINS.map(chainCoin), ...TOKENS.map((t) => tokenCoin(t, CHAINS.find((c) => c.chain === t.chain)!))],
};
