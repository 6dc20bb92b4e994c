// Monero as a chain module: one coin, payments found by view-key scanning in each account, keys =
// private view key + public spend key, one subaddress (0, i) per invoice, monerod as the node.

import { bytesToHex } from "@noble/hashes/utils.js";
import { Coin } from "../../domain/coins";
import { fail } from "../../domain/errors";
import type { ChainAdapter } from "../adapter";
import { timedFetch, type ChainModule, type CoinFacts, type CoinModule } from "../module";
import { xmrAdapter } from "./adapter";
import { createMoneroDaemon } from "./daemon";
import { parsePrivateViewKey, parsePublicSpendKey } from "./keys";
import { moneroUri } from "./payment-uri";
import { xmrSettings } from "./settings";
import { xmrSource } from "./source";

export const XmrFailures = {
  invalidViewKey: fail("InvalidArgument", "invalid XMR private view key"),
  invalidSpendKey: fail("InvalidArgument", "invalid XMR public spend key"),
};

// 2^64-1 piconero: what Monero's own amounts (uint64) can hold.
const facts: CoinFacts = { coin: Coin.XMR, decimals: 12, maxAmount: (1n << 64n) - 1n, maxConfirmations: 60 };

const xmr: CoinModule = {
  facts,
  matching: "view-key",
  firstAddressIndex: 1,
  keysIn(req) {
    if (req.xmrReq === undefined) return { given: false };
    const view = parsePrivateViewKey(req.xmrReq.privViewKey);
    if (!view) return { given: true, failure: XmrFailures.invalidViewKey };
    const spend = parsePublicSpendKey(req.xmrReq.pubSpendKey);
    if (!spend) return { given: true, failure: XmrFailures.invalidSpendKey };
    const pubSpendKey = bytesToHex(spend);
    return { given: true, keys: { fingerprint: pubSpendKey, publicKeys: { pubSpendKey }, secret: bytesToHex(view) } };
  },
  keysOut(keys) {
    return { xmrKeys: { privViewKey: keys.secret ?? "", pubSpendKey: keys.publicKeys.pubSpendKey ?? "" } };
  },
  configure(env) {
    const settings = xmrSettings(env);
    if (!settings) return null;
    return {
      adapter: xmrAdapter(settings.network) as ChainAdapter,
      pollMs: settings.pollMs,
      source: (timed) =>
        xmrSource(createMoneroDaemon({ urls: settings.daemonUrls, user: settings.user, pass: settings.pass, network: settings.network, fetch: timedFetch(timed) })),
    };
  },
  // One scheme on every network: the address names its network.
  paymentUri: (address, amount) => moneroUri(address, amount, facts.decimals),
};

export const xmrModule: ChainModule = { coins: [xmr] };
