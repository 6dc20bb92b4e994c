// The payment URI each module writes for an invoice's QR code, against each scheme's own examples: BIP21
// (bitcoin/bips bip-0021.mediawiki), EIP-681 (ethereum/ercs ERCS/erc-681.md), Monero's URI scheme
// (monero-project docs, wallet2 make_uri) and TON's transfer link (Tonkeeper's ton://transfer). Every URI
// is read back with WHATWG `new URL()`, as a wallet's URI handler would, and its amount parsed back exactly.

import { getAddress } from "viem";
import { describe, expect, it } from "vitest";
import { coinModules, paymentUri } from "../../src/chains/registry";
import { Coin } from "../../src/domain/coins";
import type { Env } from "../../src/env";

const env = (vars: Record<string, string> = {}) => vars as unknown as Env;

function uriOf(coin: Coin, address: string, amount: bigint, vars: Record<string, string> = {}): string {
  const uri = paymentUri(env(vars), coin, address, amount);
  if (uri === null) throw new Error(`no module serves coin ${coin}`);
  return uri;
}

/** A decimal amount as a wallet reads it, back to atomic units; refuses more digits than the coin has. */
function atomicOf(decimal: string, decimals: number): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(decimal);
  if (!match || (match[2] ?? "").length > decimals) throw new Error(`not a ${decimals}-decimal amount: ${decimal}`);
  return BigInt(match[1]! + (match[2] ?? "").padEnd(decimals, "0"));
}

/** What a wallet reads from `uri`: its scheme, its path, and its `param` as atomic units. */
function readBack(uri: string, param: string, decimals: number): { scheme: string; path: string; amount: bigint } {
  const url = new URL(uri);
  return { scheme: url.protocol, path: url.pathname, amount: atomicOf(url.searchParams.get(param)!, decimals) };
}

const BIP21_ADDRESS = "175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W";
const LTC_ADDRESS = "ltc1q27yd7vz8m5kz230wuyncfe3pyazez6ahsm7xul";
const MONERO_ADDRESS = "46BeWrHpwXmHDpDEUmZBWZfoQpdc6HaERCNmx1pEYL2rAcuwufPN9rXHHtyUA4QVy66qeFQkn6sfK8aHYjA3jk3o1Bv16em";
/** test/vectors/ton.json: the non-bounceable mainnet form of the vector key's wallet 7, what a payer is shown. */
const TON_ADDRESS = "UQD1zb-H8cEGdbT_WgIsL8PZPa5AZKtLVBxQZn7qgJctOQIW";
// EIP-681's own token example: the contract and the recipient, lowercase as the EIP writes them.
const EIP681_TOKEN = "0x89205a3a3b2a69de6dbf7f01ed13b2108b2c43e7";
const EIP681_TO = "0x8e23ee67d1332ad560396262c48ffbb01f93d052";
const USDT_MAINNET = "0xdAC17F958D2ee523a2206206994597C13D831ec7";

describe("BIP21 (Bitcoin, Litecoin)", () => {
  it("writes BIP21's example bitcoin:175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W?amount=20.3 for 20.3 BTC", () => {
    const uri = uriOf(Coin.BTC, BIP21_ADDRESS, 2_030_000_000n);
    expect(uri).toBe("bitcoin:175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W?amount=20.3");
    expect(readBack(uri, "amount", 8)).toEqual({ scheme: "bitcoin:", path: BIP21_ADDRESS, amount: 2_030_000_000n });
  });

  it("writes BIP21's example amount=50 for 50 BTC, with no decimal point", () => {
    expect(uriOf(Coin.BTC, BIP21_ADDRESS, 5_000_000_000n)).toBe("bitcoin:175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W?amount=50");
  });

  it("writes one satoshi as 0.00000001, exactly", () => {
    const uri = uriOf(Coin.BTC, BIP21_ADDRESS, 1n);
    expect(uri).toBe("bitcoin:175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W?amount=0.00000001");
    expect(readBack(uri, "amount", 8).amount).toBe(1n);
  });

  it("reads every amount back to the same satoshis, up to the whole supply", () => {
    for (const sat of [1n, 10n, 12_345_678n, 100_000_001n, 2_099_999_997_690_000n]) {
      expect(readBack(uriOf(Coin.BTC, BIP21_ADDRESS, sat), "amount", 8).amount).toBe(sat);
    }
  });

  it("writes a Litecoin address with the litecoin: scheme", () => {
    const uri = uriOf(Coin.LTC, LTC_ADDRESS, 2_030_000_000n);
    expect(uri).toBe(`litecoin:${LTC_ADDRESS}?amount=20.3`);
    expect(readBack(uri, "amount", 8)).toEqual({ scheme: "litecoin:", path: LTC_ADDRESS, amount: 2_030_000_000n });
  });

  it("keeps the coin's scheme and the address as given on testnet and regtest", () => {
    const tb1 = "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47";
    expect(uriOf(Coin.BTC, tb1, 150_000_000n, { BTC_NETWORK: "testnet", BTC_DAEMON_URL: "http://n" })).toBe(`bitcoin:${tb1}?amount=1.5`);
    expect(uriOf(Coin.BTC, "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2", 1n, { BTC_NETWORK: "regtest" })).toBe("bitcoin:2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2?amount=0.00000001");
    expect(uriOf(Coin.LTC, "rltc1qexample", 100_000_000n, { LTC_NETWORK: "regtest" })).toBe("litecoin:rltc1qexample?amount=1");
  });

  it("leaves the amount out when nothing is due", () => {
    expect(uriOf(Coin.BTC, BIP21_ADDRESS, 0n)).toBe(`bitcoin:${BIP21_ADDRESS}`);
    expect(uriOf(Coin.LTC, LTC_ADDRESS, -5n)).toBe(`litecoin:${LTC_ADDRESS}`);
    expect(new URL(uriOf(Coin.BTC, BIP21_ADDRESS, 0n)).searchParams.has("amount")).toBe(false);
  });
});

describe("EIP-681 (Ethereum, BNB Smart Chain and their tokens)", () => {
  it("writes EIP-681's token example ethereum:0x8920…/transfer?address=0x8e23…&uint256=1, with its chain id, checksummed", () => {
    const uri = uriOf(Coin.USDT_ERC20, EIP681_TO, 1n, { ETH_TOKENS: JSON.stringify({ USDT_ERC20: EIP681_TOKEN }) });
    expect(uri.toLowerCase()).toBe(`ethereum:${EIP681_TOKEN}@1/transfer?address=${EIP681_TO}&uint256=1`);
    expect(uri).toBe(`ethereum:${getAddress(EIP681_TOKEN)}@1/transfer?address=${getAddress(EIP681_TO)}&uint256=1`);
    const url = new URL(uri);
    expect(url.protocol).toBe("ethereum:");
    expect(url.pathname).toBe(`${getAddress(EIP681_TOKEN)}@1/transfer`);
    expect(url.searchParams.get("address")).toBe(getAddress(EIP681_TO));
    expect(url.searchParams.get("uint256")).toBe("1");
  });

  it("names the shipped contract of a token, and the one ETH_TOKENS gives in its place", () => {
    const to = getAddress(EIP681_TO);
    expect(uriOf(Coin.USDT_ERC20, to, 25_000_000n)).toBe(`ethereum:${USDT_MAINNET}@1/transfer?address=${to}&uint256=25000000`);
    const override = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    expect(uriOf(Coin.USDT_ERC20, to, 25_000_000n, { ETH_TOKENS: JSON.stringify({ USDT_ERC20: override.toLowerCase() }) })).toBe(
      `ethereum:${override}@1/transfer?address=${to}&uint256=25000000`,
    );
  });

  it("writes the native coin as value= in wei, an integer, above 2^64 too", () => {
    const to = getAddress(EIP681_TO);
    const wei = (1n << 64n) + 1n; // 18.44… ETH: more than a uint64 holds
    const uri = uriOf(Coin.ETH, to, wei);
    expect(uri).toBe(`ethereum:${to}@1?value=18446744073709551617`);
    expect(readBack(uri, "value", 0)).toEqual({ scheme: "ethereum:", path: `${to}@1`, amount: wei });
    expect(uriOf(Coin.ETH, to, 10n ** 27n)).toBe(`ethereum:${to}@1?value=1000000000000000000000000000`);
  });

  it("writes the payee in its EIP-55 spelling, whatever case it is given in", () => {
    expect(uriOf(Coin.ETH, EIP681_TO.toUpperCase().replace("0X", "0x"), 1n)).toBe(`ethereum:${getAddress(EIP681_TO)}@1?value=1`);
  });

  it("writes BNB Smart Chain with the ethereum: scheme and chain id 56 (97 on testnet)", () => {
    const to = getAddress(EIP681_TO);
    expect(uriOf(Coin.BNB, to, 10n ** 18n)).toBe(`ethereum:${to}@56?value=1000000000000000000`);
    expect(uriOf(Coin.BNB, to, 10n ** 18n, { BNB_NETWORK: "testnet" })).toBe(`ethereum:${to}@97?value=1000000000000000000`);
    expect(uriOf(Coin.BSCUSD_BEP20, to, 5n * 10n ** 18n)).toBe(
      `ethereum:0x55d398326f99059fF775485246999027B3197955@56/transfer?address=${to}&uint256=5000000000000000000`,
    );
  });

  it("writes the chain id <CHAIN>_NETWORK gives for a local chain, and a token there from <CHAIN>_TOKENS", () => {
    const to = getAddress(EIP681_TO);
    const local = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    expect(uriOf(Coin.ETH, to, 1n, { ETH_NETWORK: "31337" })).toBe(`ethereum:${to}@31337?value=1`);
    expect(uriOf(Coin.BNB, to, 1n, { BNB_NETWORK: "1337" })).toBe(`ethereum:${to}@1337?value=1`);
    expect(uriOf(Coin.USDC_BEP20, to, 7n, { BNB_NETWORK: "31337", BNB_TOKENS: JSON.stringify({ USDC_BEP20: local }) })).toBe(
      `ethereum:${local}@31337/transfer?address=${to}&uint256=7`,
    );
  });

  it("names a token's contract on the configured test network", () => {
    const to = getAddress(EIP681_TO);
    expect(uriOf(Coin.USDC_ERC20, to, 1_000_000n, { ETH_NETWORK: "sepolia" })).toBe(
      `ethereum:0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238@11155111/transfer?address=${to}&uint256=1000000`,
    );
  });

  it("falls back to mainnet (contract and chain id together) when the settings name no network, or none the token is on", () => {
    const to = getAddress(EIP681_TO);
    expect(uriOf(Coin.ETH, to, 1n, { ETH_NETWORK: "ropsten" })).toBe(`ethereum:${to}@1?value=1`);
    // USDT ships no Sepolia contract, and a local chain has only the tokens it is told of.
    expect(uriOf(Coin.USDT_ERC20, to, 1n, { ETH_NETWORK: "sepolia" })).toBe(`ethereum:${USDT_MAINNET}@1/transfer?address=${to}&uint256=1`);
    expect(uriOf(Coin.USDT_ERC20, to, 1n, { ETH_NETWORK: "31337" })).toBe(`ethereum:${USDT_MAINNET}@1/transfer?address=${to}&uint256=1`);
    // A refused ETH_TOKENS turns every token off; its URI names the shipped contract.
    expect(uriOf(Coin.USDT_ERC20, to, 1n, { ETH_TOKENS: "{not json" })).toBe(`ethereum:${USDT_MAINNET}@1/transfer?address=${to}&uint256=1`);
  });

  it("leaves value and uint256 out when nothing is due", () => {
    const to = getAddress(EIP681_TO);
    expect(uriOf(Coin.ETH, to, 0n)).toBe(`ethereum:${to}@1`);
    expect(uriOf(Coin.BNB, to, -1n)).toBe(`ethereum:${to}@56`);
    const token = uriOf(Coin.USDT_ERC20, to, 0n);
    expect(token).toBe(`ethereum:${USDT_MAINNET}@1/transfer?address=${to}`);
    expect([...new URL(token).searchParams.keys()]).toEqual(["address"]);
  });
});

describe("Monero's URI scheme", () => {
  it("writes the scheme's example monero:46BeWrHp…?tx_amount=239.39014", () => {
    const uri = uriOf(Coin.XMR, MONERO_ADDRESS, 239_390_140_000_000n);
    expect(uri).toBe(`monero:${MONERO_ADDRESS}?tx_amount=239.39014`);
    expect(readBack(uri, "tx_amount", 12)).toEqual({ scheme: "monero:", path: MONERO_ADDRESS, amount: 239_390_140_000_000n });
  });

  it("writes one piconero as 0.000000000001, and the largest amount exactly", () => {
    expect(uriOf(Coin.XMR, MONERO_ADDRESS, 1n)).toBe(`monero:${MONERO_ADDRESS}?tx_amount=0.000000000001`);
    const max = (1n << 64n) - 1n;
    expect(uriOf(Coin.XMR, MONERO_ADDRESS, max)).toBe(`monero:${MONERO_ADDRESS}?tx_amount=18446744.073709551615`);
    expect(readBack(uriOf(Coin.XMR, MONERO_ADDRESS, max), "tx_amount", 12).amount).toBe(max);
  });

  it("leaves tx_amount out when nothing is due", () => {
    expect(uriOf(Coin.XMR, MONERO_ADDRESS, 0n)).toBe(`monero:${MONERO_ADDRESS}`);
  });
});

describe("TON's transfer link", () => {
  it("writes ton://transfer/<address>?amount=1000000000 for 1 TON", () => {
    const uri = uriOf(Coin.TON, TON_ADDRESS, 1_000_000_000n);
    expect(uri).toBe(`ton://transfer/${TON_ADDRESS}?amount=1000000000`);
    const url = new URL(uri);
    expect(url.protocol).toBe("ton:");
    expect(url.host).toBe("transfer");
    expect(url.pathname).toBe(`/${TON_ADDRESS}`);
    expect(url.searchParams.get("amount")).toBe("1000000000");
  });

  it("leaves the amount out when nothing is due", () => {
    expect(uriOf(Coin.TON, TON_ADDRESS, 0n)).toBe(`ton://transfer/${TON_ADDRESS}`);
  });
});

describe("the registry", () => {
  it("has no payment URI for a coin no module serves", () => {
    expect(paymentUri(env(), 999 as Coin, BIP21_ADDRESS, 1n)).toBeNull();
  });

  it("writes a URI a URL parser reads for every coin a module serves, configured or not", () => {
    const settings: Record<string, string>[] = [{}, { ETH_NETWORK: "nonsense", BNB_NETWORK: "nonsense", ETH_TOKENS: "[]", BNB_TOKENS: "7", XMR_NETWORK: "x", BTC_NETWORK: "x", TON_NETWORK: "x" }];
    for (const vars of settings) {
      for (const module of coinModules()) {
        const uri = uriOf(module.facts.coin, EIP681_TO, 1n, vars);
        expect(() => new URL(uri)).not.toThrow();
      }
    }
  });
});
