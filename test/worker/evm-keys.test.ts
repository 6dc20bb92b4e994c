// Ethereum and BNB Smart Chain keys through UpdateCryptoKeys / GetCryptoKeys: an account xpub at
// m/44'/60'/0' is stored and returned as given; everything else is refused with the documented
// message, in every protocol. Token coins have no keys of their own (they use their chain's).
import { Code } from "@connectrpc/connect";
import { HDKey } from "@scure/bip32";
import { describe, expect, it } from "vitest";
import { CoinType } from "../../gen/crypto/v1/crypto_pb";
import eth from "../vectors/eth.json";
import utxo from "../vectors/utxo.json";
import { clients, failure, PROTOCOLS } from "./support";

const INVALID_ETH = { code: Code.InvalidArgument, message: "invalid ETH master public key" };
const INVALID_BNB = { code: Code.InvalidArgument, message: "invalid BNB master public key" };
const seedAccount = () => HDKey.fromMasterSeed(crypto.getRandomValues(new Uint8Array(32))).derive("m/44'/60'/0'");
const zpub = (utxo.official.bip84 as unknown as { account: { xpub: string } }).account.xpub;
const badChecksum = (key: string) => key.slice(0, -1) + (key.endsWith("1") ? "2" : "1");

describe.each(PROTOCOLS)("ETH and BNB keys over %s", (protocol) => {
  const c = clients(protocol);
  const newUser = async () => (await c.users.registerUser({})).userId;

  it.each([
    ["a private key (xprv)", () => seedAccount().privateExtendedKey],
    ["a zpub (another version)", () => zpub],
    ["a master key (depth 0)", () => HDKey.fromMasterSeed(new Uint8Array(32).fill(7)).publicExtendedKey],
    ["an address-level key (depth 5)", () => seedAccount().derive("m/0/0").publicExtendedKey],
    ["a bad checksum", () => badChecksum(eth.account.xpub)],
    ["malformed text", () => "xpub-not-a-key"],
    ["an empty key", () => ""],
  ])('refuses %s with InvalidArgument "invalid ETH master public key" (and BNB alike)', async (_what, key) => {
    expect(await failure(c.users.updateCryptoKeys({ userId: await newUser(), ethReq: { masterPubKey: key() } }))).toEqual(INVALID_ETH);
    expect(await failure(c.users.updateCryptoKeys({ userId: await newUser(), bnbReq: { masterPubKey: key() } }))).toEqual(INVALID_BNB);
  });

  it("stores an ETH and a BNB account xpub side by side and returns each as given", async () => {
    const userId = await newUser();
    const [ethKey, bnbKey] = [seedAccount().publicExtendedKey, seedAccount().publicExtendedKey];
    await c.users.updateCryptoKeys({ userId, ethReq: { masterPubKey: ethKey }, bnbReq: { masterPubKey: bnbKey } });
    const keys = await c.users.getCryptoKeys({ userId });
    expect(keys.ethKeys?.masterPubKey).toBe(ethKey);
    expect(keys.bnbKeys?.masterPubKey).toBe(bnbKey);
    expect(keys.btcKeys).toBeUndefined();
  });
});

describe("EVM key sets and coins", () => {
  const c = clients("connect-json");
  const newUser = async () => (await c.users.registerUser({})).userId;

  it("refuses an ETH key another user already registered, with AlreadyExists", async () => {
    const key = seedAccount().publicExtendedKey;
    await c.users.updateCryptoKeys({ userId: await newUser(), ethReq: { masterPubKey: key } });
    expect(await failure(c.users.updateCryptoKeys({ userId: await newUser(), ethReq: { masterPubKey: key } }))).toEqual({
      code: Code.AlreadyExists,
      message: "crypto keys are already used by another user",
    });
  });

  it("answers FailedPrecondition for ETH and its tokens while no ETH node is configured", async () => {
    const userId = await newUser();
    await c.users.updateCryptoKeys({ userId, ethReq: { masterPubKey: seedAccount().publicExtendedKey } });
    for (const coin of [CoinType.ETH, CoinType.USDT_ERC20, CoinType.BNB, CoinType.CAKE_BEP20]) {
      expect(await failure(c.invoices.createInvoice({ userId, coin, amount: 1, timeout: 600n, confirmations: 1 }))).toEqual({
        code: Code.FailedPrecondition,
        message: `${CoinType[coin]} is not enabled on this server`,
      });
    }
  });
});
