// Bitcoin and Litecoin as one chain module: an account-level extended public key (or an output
// descriptor) per merchant, one address /0/i per invoice, payments found by output script in the
// watcher (a public lookup), a Bitcoin Core-compatible node as the source.

import type { UpdateCryptoKeysRequest } from "../../../gen/user/v1/user_pb";
import { Coin } from "../../domain/coins";
import { fail, Failures } from "../../domain/errors";
import type { ChainAdapter } from "../adapter";
import { timedFetch, type ChainModule, type CoinFacts, type CoinModule } from "../module";
import { keysFromRequest, utxoAdapter, type UtxoChainCoin } from "./adapter";
import { createCoreRpc } from "./core-rpc";
import { createEsploraClient } from "./esplora";
import { esploraFollower } from "./esplora-follow";
import { invalidMasterKeyMessage } from "./keys";
import type { UtxoCoin } from "./networks";
import { bip21Uri } from "./payment-uri";
import { utxoNetworkSetting, utxoSettings } from "./settings";
import { utxoSource } from "./source";

interface UtxoCoinSpec {
  facts: CoinFacts;
  ticker: UtxoCoin;
  /** BIP21's URI scheme for this coin. */
  scheme: "bitcoin" | "litecoin";
  /** This coin's field of UpdateCryptoKeysRequest. */
  request(req: UpdateCryptoKeysRequest): { masterPubKey: string } | undefined;
  /** This coin's field of GetCryptoKeysResponse. */
  response: "btcKeys" | "ltcKeys";
}

const SATOSHIS = 10n ** 8n;
/** How deep an explorer-delivered block is re-checked for reorgs: as deep as a node's blocks are (the watcher's 20). */
const REORG_DEPTH = 20;

const SPECS: UtxoCoinSpec[] = [
  {
    // 21 million coins: no amount above the whole supply.
    facts: { coin: Coin.BTC, decimals: 8, maxAmount: 21_000_000n * SATOSHIS, maxConfirmations: 100 },
    ticker: "BTC",
    scheme: "bitcoin",
    request: (req) => req.btcReq,
    response: "btcKeys",
  },
  {
    facts: { coin: Coin.LTC, decimals: 8, maxAmount: 84_000_000n * SATOSHIS, maxConfirmations: 200 },
    ticker: "LTC",
    scheme: "litecoin",
    request: (req) => req.ltcReq,
    response: "ltcKeys",
  },
];

function coinModuleOf(spec: UtxoCoinSpec): CoinModule {
  const coin = spec.facts.coin as UtxoChainCoin;
  const invalidKey = fail("InvalidArgument", invalidMasterKeyMessage(spec.ticker));
  return {
    facts: spec.facts,
    matching: "address",
    // /0/0 is an address like any other.
    firstAddressIndex: 0,
    keysIn(req, env) {
      const given = spec.request(req);
      if (given === undefined) return { given: false };
      // Keys are judged for the configured network: a tpub is refused on mainnet.
      const network = utxoNetworkSetting(env, spec.ticker);
      if (!network) return { given: true, failure: Failures.coinNotEnabled(coin) };
      const keys = keysFromRequest(coin, network.name, given.masterPubKey);
      // The key as the merchant gave it is what GetCryptoKeys answers; the descriptor is what derives.
      return keys ? { given: true, keys: { ...keys, publicKeys: { ...keys.publicKeys, masterPubKey: given.masterPubKey } } } : { given: true, failure: invalidKey };
    },
    keysOut(keys) {
      return { [spec.response]: { masterPubKey: keys.publicKeys.masterPubKey ?? keys.publicKeys.descriptor ?? "" } };
    },
    configure(env) {
      const settings = utxoSettings(env, spec.ticker);
      if (!settings) return null;
      const { network, backend, pollMs } = settings;
      const adapter = utxoAdapter(coin, network.name) as unknown as ChainAdapter;
      if (backend.kind === "esplora") {
        return {
          adapter,
          pollMs,
          follower: (timed) => esploraFollower(createEsploraClient({ urls: backend.urls, network, timed }), network, { budget: backend.requestsPerTick, depth: REORG_DEPTH }),
        };
      }
      return {
        adapter,
        pollMs,
        source: (timed) =>
          utxoSource(createCoreRpc({ urls: backend.urls, user: backend.user, pass: backend.pass, chain: network.coreChain, fetch: timedFetch(timed) }), network),
      };
    },
    paymentUri: (address, amount) => bip21Uri(spec.scheme, address, amount, spec.facts.decimals),
  };
}

export const utxoModule: ChainModule = { coins: SPECS.map(coinModuleOf) };
