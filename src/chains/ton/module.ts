// TON as a chain module: the merchant's ed25519 public key, one wallet v4r2 address per invoice
// (wallet.ts), payments found by recipient in the watcher, toncenter v3 read block by block.

import { Coin } from "../../domain/coins";
import { fail, Failures } from "../../domain/errors";
import type { ChainAdapter } from "../adapter";
import { timedFetch, type ChainModule, type CoinModule } from "../module";
import { tonAdapter } from "./adapter";
import { COMMIT_MARGIN_MS, tonFollower } from "./follow";
import { parsePublicKey } from "./keys";
import { tonNetworkSetting, tonSettings } from "./settings";
import { tonTransferUri } from "./payment-uri";
import { createToncenter } from "./toncenter";

const NANOTONS = 10n ** 9n;
/** Ten masterchain blocks per step (10+ requests): within the free plan's 50 subrequests with room for D1 and accounts. */
const FOLLOW = { maxBlocks: 10, startBelow: 3 };

const ton: CoinModule = {
  // About 5 billion TON exist: no invoice asks for more than twice that.
  facts: { coin: Coin.TON, decimals: 9, maxAmount: 10n ** 10n * NANOTONS, maxConfirmations: 100 },
  matching: "address",
  firstAddressIndex: 0,
  keysIn(req, env) {
    const given = req.tonReq;
    if (given === undefined) return { given: false };
    if (!tonNetworkSetting(env)) return { given: true, failure: Failures.coinNotEnabled(Coin.TON) };
    const parsed = parsePublicKey(given.publicKey);
    if (!parsed.ok) return { given: true, failure: fail("InvalidArgument", "invalid TON public key") };
    return { given: true, keys: { fingerprint: parsed.key.fingerprint, publicKeys: { publicKey: parsed.key.canonical }, secret: null } };
  },
  keysOut(keys) {
    return { tonKeys: { publicKey: keys.publicKeys.publicKey ?? "" } };
  },
  configure(env) {
    const settings = tonSettings(env);
    if (!settings) return null;
    const { network, urls, apiKey, pollMs } = settings;
    return {
      adapter: tonAdapter(network) as unknown as ChainAdapter,
      pollMs,
      // The scan time runs a commit margin plus about a block behind the clock.
      scanLagMs: COMMIT_MARGIN_MS + 5_000,
      follower: (timed) => tonFollower(createToncenter({ urls, apiKey, network, fetch: timedFetch(timed) }), network, FOLLOW),
    };
  },
  // A testnet address carries its network in its flags (0Q…): the link is the same.
  paymentUri: (address, amount) => tonTransferUri(address, amount),
};

export const tonModule: ChainModule = { coins: [ton] };
